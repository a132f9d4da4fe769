"""Checking Ed25519 signatures over package manifests against a trusted public key: what every
reader of a package (the loader, the SDK, the CLI) needs, with no private key in sight. The
registry's signing key lives in `lockgate.store.keys`."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.packaging import PackageSignature

__all__ = ["Ed25519Verifier"]


class Ed25519Verifier:
    """Checks signatures against one public key (a loader's trusted key); cannot sign."""

    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self._public = public_key
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self._key_id = hashlib.sha256(raw).hexdigest()

    @classmethod
    def from_pem(cls, pem: str | bytes, *, field: str = "trusted_key") -> Ed25519Verifier:
        """Raises InvalidInputError naming `field` for text that is not an Ed25519 public key."""
        data = pem.encode() if isinstance(pem, str) else pem
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError) as exc:
            raise InvalidInputError("not a PEM public key", field=field) from exc
        if not isinstance(key, Ed25519PublicKey):
            raise InvalidInputError("not an Ed25519 public key", field=field)
        return cls(key)

    @property
    def key_id(self) -> str:
        return self._key_id

    def verify(self, data: bytes, signature: PackageSignature) -> bool:
        try:
            self._public.verify(signature.value, data)
        except InvalidSignature:
            return False
        return True
