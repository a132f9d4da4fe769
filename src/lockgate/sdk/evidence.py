"""Evidence resource of the SDK: download a version's evidence bundle, and check a bundle
offline (`verify_bundle`, no server needed; it needs the `cryptography` package, which the
`server` and `serving` extras install)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from lockgate.api.evidence import ComplianceReportOut
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.governance.evidence import key_fingerprint, raw_public_key
from lockgate.domain.governance.evidence_verify import EvidenceVerdict, check_bundle
from lockgate.domain.packaging import Verifier
from lockgate.domain.registry import ModelRef
from lockgate.sdk.artifacts import ProgressCallback, download_verified
from lockgate.sdk.http import HttpSession, segment

__all__ = ["Compliance", "Evidence", "fingerprint_of_pem", "verify_bundle"]


class Evidence:
    """Evidence bundles of model versions (`client.evidence`)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def export(
        self,
        ref: str,
        dest: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
    ) -> Path:
        """Download the evidence bundle (a zip) of the version `ref` names (`NAME/VERSION`)
        to `dest` and return where it was written. The bytes are checked against the
        server's sha256 on the way; check the bundle itself with `verify_bundle`.

        Raises:
            InvalidInputError: `ref` does not name a version by number.
            PermissionDeniedError: The caller lacks `audit.read` (a platform admin or an
                auditor): a bundle carries a segment of the whole audit log.
            NotFoundError: The model or version does not exist.
        """
        parsed = ModelRef.parse(ref, field="ref")
        if parsed.version is None:
            raise InvalidInputError(
                f"{ref!r} does not name a version: use NAME/VERSION", field="ref"
            )
        url = f"/models/{segment(parsed.name)}/versions/{segment(parsed.version)}/evidence"
        name = f"{parsed.name}-{parsed.version}-evidence.zip"
        return download_verified(self._http, url, name, dest, progress=progress)


class Compliance:
    """The compliance report (`client.compliance`): how the models in production stand
    against the governance rules, per project or platform-wide."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def report(self, project: str | None = None) -> ComplianceReportOut:
        """The report over one project's production models (needs project.read on it), or
        over the whole platform when `project` is None (needs audit.read).

        Raises:
            NotFoundError: The project does not exist.
            PermissionDeniedError: The caller lacks the permission.
        """
        path = "/compliance" if project is None else f"/projects/{segment(project)}/compliance"
        return self._http.call("GET", path, ComplianceReportOut)


def fingerprint_of_pem(pem: str) -> str:
    """The fingerprint (sha256 of the raw key, hex) of an Ed25519 public key in PEM: the
    `key_id` that `GET /api/v1/signing-key` shows.

    Raises:
        InvalidInputError: The text is not an Ed25519 public key in PEM.
    """
    try:
        return key_fingerprint(raw_public_key(pem))
    except ValueError as exc:
        raise InvalidInputError(str(exc), field="public_key") from exc


def verify_bundle(
    source: str | os.PathLike[str] | bytes | IO[bytes],
    *,
    trusted_key_fingerprint: str | None = None,
) -> EvidenceVerdict:
    """Check an evidence bundle offline and name the first problem: unknown, missing or
    duplicate members, path tricks, a digest that differs from the signed manifest, a bad
    signature, a signer other than the trusted key, a broken audit segment, a package
    signature that does not verify.

    Args:
        source: The bundle: a path, its bytes, or a binary file.
        trusted_key_fingerprint: The sha256 (hex) of the registry's public key. Without it
            any key passes and `verdict.key_pinned` is False.

    Raises:
        InvalidInputError: The `cryptography` package is not installed.
    """
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        from lockgate.signing import Ed25519Verifier
    except ImportError as exc:  # the core install has no cryptography
        raise InvalidInputError(
            "checking signatures needs the cryptography package: "
            "pip install 'lockgate[server]' (or 'lockgate[serving]')",
            field="source",
        ) from exc

    def verifier_for(raw_key: bytes) -> Verifier:
        return Ed25519Verifier(Ed25519PublicKey.from_public_bytes(raw_key))

    return check_bundle(
        source, verifier_for=verifier_for, trusted_key_fingerprint=trusted_key_fingerprint
    )
