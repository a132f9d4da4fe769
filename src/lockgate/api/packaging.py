"""Wire schemas for signed model packages: the manifest, its verification and the key."""

from __future__ import annotations

import base64
from typing import Any

from lockgate.api.common import ApiModel
from lockgate.domain.packaging import Manifest, PackageSignature, PackageVerdict

__all__ = ["ManifestOut", "PackageVerdictOut", "SigningKeyOut"]


class ManifestOut(ApiModel):
    """A version's manifest and its detached signature. `signature` (base64) is the Ed25519
    signature of the manifest's canonical JSON (sorted keys, no spaces, UTF-8), whose sha256 is
    `manifest_sha256`."""

    manifest: dict[str, Any]
    manifest_sha256: str
    algorithm: str
    key_id: str
    signature: str

    @classmethod
    def from_domain(cls, manifest: Manifest, signature: PackageSignature) -> ManifestOut:
        return cls(
            manifest=manifest.document(),
            manifest_sha256=manifest.digest,
            algorithm=signature.algorithm,
            key_id=signature.key_id,
            signature=base64.b64encode(signature.value).decode(),
        )


class PackageVerdictOut(ApiModel):
    """Whether a stored package is exactly what was signed; `problems` names each failure."""

    ok: bool
    manifest_sha256: str
    problems: list[str]

    @classmethod
    def from_domain(cls, verdict: PackageVerdict) -> PackageVerdictOut:
        return cls(
            ok=verdict.ok, manifest_sha256=verdict.manifest_digest, problems=list(verdict.problems)
        )


class SigningKeyOut(ApiModel):
    """The registry's public key, for checking manifests offline."""

    algorithm: str
    key_id: str
    public_key_pem: str
