"""Ed25519Signer: signs manifests with a private key kept in a PEM file (mode 0600)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.packaging import SIGNATURE_ALGORITHM, PackageSignature
from lockgate.signing import Ed25519Verifier

__all__ = ["Ed25519Signer"]


class Ed25519Signer:
    """Signs with one private key; verifies against its public key.

    Args:
        private_key: the key; use `load_or_create` to read it from a file.
    """

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private = private_key
        self._public: Ed25519PublicKey = private_key.public_key()
        self._verifier = Ed25519Verifier(self._public)

    @classmethod
    def load_or_create(cls, path: Path) -> Ed25519Signer:
        """Read the PEM key at `path`, creating a new one (mode 0600, in a 0700 directory)
        when the file does not exist. Raises InvalidInputError for a file that is not an
        unencrypted Ed25519 PKCS#8 key."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return cls._create(path)
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(
                f"{path} is not an unencrypted PEM private key", field="signing_key_path"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise InvalidInputError(f"{path} is not an Ed25519 key", field="signing_key_path")
        return cls(key)

    @classmethod
    def _create(cls, path: Path) -> Ed25519Signer:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return cls.load_or_create(path)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        return cls(key)

    @property
    def key_id(self) -> str:
        return self._verifier.key_id

    def public_key_pem(self) -> str:
        return self._public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign(self, data: bytes) -> PackageSignature:
        return PackageSignature(SIGNATURE_ALGORITHM, self.key_id, self._private.sign(data))

    def verify(self, data: bytes, signature: PackageSignature) -> bool:
        return self._verifier.verify(data, signature)
