"""The loader: fetch a registered version's package, check it against the registry's signed
manifest, and only then hand it to its flavor. One flipped byte anywhere stops the load."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lockgate.domain.errors import InvalidInputError, PackageIntegrityError
from lockgate.domain.names import check_artifact_path
from lockgate.domain.packaging import (
    Manifest,
    PackageSignature,
    check_package,
    signature_from_document,
)
from lockgate.domain.registry import Signature
from lockgate.sdk import Client
from lockgate.sdk.artifacts import DigestMismatchError
from lockgate.serving.flavors.base import Predictor
from lockgate.signing import Ed25519Verifier

__all__ = [
    "LoadedModel",
    "VerifiedPackage",
    "fetch_package",
    "load_package",
    "load_predictor",
    "verify_files",
]

_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class VerifiedPackage:
    """A version's files on local disk, checked against its signed manifest.

    Picklable, so it can travel to another process (a Spark executor) that calls
    `load_package`, which checks the files again before loading them.
    """

    manifest: Manifest
    signature: PackageSignature
    trusted_key_pem: str
    directory: Path

    @property
    def name(self) -> str:
        return self.manifest.model

    @property
    def version(self) -> int:
        return self.manifest.version

    @property
    def ref(self) -> str:
        return f"{self.manifest.model}/{self.manifest.version}"

    @property
    def flavor(self) -> str:
        return self.manifest.flavor

    @property
    def run_id(self) -> str | None:
        return self.manifest.run_id

    @property
    def model_signature(self) -> Signature | None:
        return signature_from_document(self.manifest.signature)


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A verified package and the model loaded from it."""

    package: VerifiedPackage
    predictor: Predictor


def fetch_package(
    client: Client, ref: str, cache_dir: Path, *, trusted_key_pem: str | None = None
) -> VerifiedPackage:
    """Resolve `ref` (`name@alias`, `name/version` or `name`), then download the version's files
    into `cache_dir/<manifest sha256>/` and verify them: the manifest's Ed25519 signature
    against `trusted_key_pem` (by default the key the registry publishes), and each file's
    sha256 and size against the manifest. A cached copy is re-hashed, never trusted as is.

    Raises:
        PackageIntegrityError: Anything differs from what was signed; nothing is kept.
        NotFoundError: No such model, version or alias.
    """
    version = client.models.resolve(ref)
    signed = client.models.manifest(version.model, version.version)
    try:
        manifest = Manifest.from_document(signed.manifest)
    except (KeyError, TypeError, ValueError) as exc:
        raise PackageIntegrityError(f"{ref}: the manifest cannot be read: {exc}") from exc
    if (manifest.model, manifest.version) != (version.model, version.version):
        raise PackageIntegrityError(
            f"{ref}: the manifest is that of {manifest.model}/{manifest.version}"
        )
    try:
        value = base64.b64decode(signed.signature, validate=True)
    except ValueError as exc:
        raise PackageIntegrityError(f"{ref}: the signature is not base64") from exc
    key_pem = trusted_key_pem or client.models.signing_key().public_key_pem
    package = VerifiedPackage(
        manifest,
        PackageSignature(signed.algorithm, signed.key_id, value),
        key_pem,
        Path(cache_dir) / manifest.digest,
    )
    _check_signature(package)
    if package.directory.is_dir():
        verify_files(package)
        return package
    _download(client, package)
    return package


def load_package(package: VerifiedPackage) -> LoadedModel:
    """Check the package's files and signature again, then load it with its flavor.

    Raises:
        PackageIntegrityError: A file or the manifest changed since it was verified.
        InvalidInputError: The version was registered without a known flavor.
    """
    _check_signature(package)
    verify_files(package)
    if package.flavor == "unknown":
        raise InvalidInputError(
            f"{package.ref} was registered without a flavor: log it with run.log_model",
            field="flavor",
        )
    from lockgate.serving.flavors import load_model_directory  # the frameworks load late

    predictor = load_model_directory(package.directory, package.model_signature, verified=True)
    return LoadedModel(package, predictor)


def load_predictor(package: VerifiedPackage) -> Predictor:
    """`load_package(package).predictor`: the factory batch scoring engines call, once per job
    or once per Spark partition (a module-level function, so it pickles)."""
    return load_package(package).predictor


def verify_files(package: VerifiedPackage, directory: Path | None = None) -> None:
    """Re-hash every file under `directory` (the package's, by default) against the manifest;
    a missing, changed or extra file raises PackageIntegrityError naming it."""
    root = directory or package.directory
    actual: dict[str, tuple[str, int] | None] = {}
    for found in sorted(p for p in root.rglob("*") if not p.is_dir()):
        relative = found.relative_to(root).as_posix()
        actual[relative] = None if found.is_symlink() else _hash_file(found)
    for path, _, _ in package.manifest.files:
        actual.setdefault(path, None)
    verifier = Ed25519Verifier.from_pem(package.trusted_key_pem)
    verdict = check_package(package.manifest, package.signature, verifier, actual)
    if not verdict.ok:
        raise PackageIntegrityError(f"{package.ref}: " + "; ".join(verdict.problems))


def _check_signature(package: VerifiedPackage) -> None:
    verifier = Ed25519Verifier.from_pem(package.trusted_key_pem)
    verdict = check_package(package.manifest, package.signature, verifier, {})
    problems = [p for p in verdict.problems if not p.endswith(": missing")]
    if problems:
        raise PackageIntegrityError(f"{package.ref}: " + "; ".join(problems))


def _download(client: Client, package: VerifiedPackage) -> None:
    package.directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=package.directory.parent))
    try:
        for path, _, _ in package.manifest.files:
            check_artifact_path(path, field="manifest.files")
            target = staging.joinpath(*PurePosixPath(path).parts)
            try:
                client.models.download_file(package.name, package.version, path, target)
            except DigestMismatchError as exc:
                raise PackageIntegrityError(f"{package.ref}: {exc}") from exc
        verify_files(package, staging)
        try:
            os.rename(staging, package.directory)
        except OSError:
            if not package.directory.is_dir():
                raise
            verify_files(package)  # another process fetched it first: check theirs
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _hash_file(path: Path) -> tuple[str, int]:
    hasher, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size
