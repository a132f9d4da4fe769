"""Package use cases: a version's signed manifest, its SBOM, and checking a stored package
byte for byte against what was signed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from lockgate.domain.access import Caller, Permission
from lockgate.domain.errors import NotFoundError
from lockgate.domain.names import check_artifact_path, check_name
from lockgate.domain.packaging import (
    Manifest,
    PackageSignature,
    PackageVerdict,
    Signer,
    check_package,
    sbom_document,
)
from lockgate.domain.registry import RegisteredModel, VersionFile
from lockgate.services.context import ServiceContext
from lockgate.services.decommission import open_unless_purged
from lockgate.store.protocols import BlobStore, UnitOfWork

__all__ = ["PackageService"]


class PackageService:
    """Manifests, SBOMs and verification of model versions.

    Args:
        tool_version: Lockgate's version, named in SBOMs as the tool that made them.
    """

    def __init__(
        self, context: ServiceContext, blobs: BlobStore, signer: Signer, tool_version: str
    ) -> None:
        self._ctx = context
        self._blobs = blobs
        self._signer = signer
        self._tool_version = tool_version

    @property
    def key_id(self) -> str:
        return self._signer.key_id

    def public_key_pem(self) -> str:
        return self._signer.public_key_pem()

    def manifest(
        self, caller: Caller, model_name: str, version: int
    ) -> tuple[Manifest, PackageSignature]:
        """The signed manifest of a version; NotFoundError for versions registered before
        manifests existed."""
        with self._ctx.uow(read_only=True) as uow:
            model = self._model(uow, caller, model_name)
            return self._signed(uow, model, version)

    def sbom(self, caller: Caller, model_name: str, version: int) -> dict[str, object]:
        """The CycloneDX SBOM of a version, derived from its signed manifest."""
        manifest, _ = self.manifest(caller, model_name, version)
        return sbom_document(manifest, tool_version=self._tool_version)

    def verify(self, caller: Caller, model_name: str, version: int) -> PackageVerdict:
        """Check the signature over the manifest and re-hash every stored file: one
        changed byte anywhere makes the verdict fail, naming what changed."""
        with self._ctx.uow(read_only=True) as uow:
            model = self._model(uow, caller, model_name)
            manifest, signature = self._signed(uow, model, version)
            files = uow.models.get_version(model.name, version).files
        actual: dict[str, tuple[str, int] | None] = {}
        for file in files:
            actual[file.path] = self._rehash(file.digest)
        for path, _, _ in manifest.files:
            actual.setdefault(path, None)
        return check_package(manifest, signature, self._signer, actual)

    def open_file(
        self, caller: Caller, model_name: str, version: int, path: str
    ) -> tuple[VersionFile, Iterator[bytes]]:
        """One file of a version, by its path inside the version, and a stream of the bytes
        frozen at registration (the run's file at that path may have changed since);
        GoneError when artifact retention purged them after the version was retired."""
        check_artifact_path(path)
        with self._ctx.uow(read_only=True) as uow:
            model = self._model(uow, caller, model_name)
            files = uow.models.get_version(model.name, version).files
        for file in files:
            if file.path == path:
                return file, open_unless_purged(self._ctx, self._blobs, file.digest)
        raise NotFoundError(f"{model.name}/{version} has no file {path!r}")

    def _rehash(self, digest: str) -> tuple[str, int] | None:
        hasher, size = hashlib.sha256(), 0
        try:
            for chunk in self._blobs.open(digest):
                hasher.update(chunk)
                size += len(chunk)
        except NotFoundError:
            return None
        return hasher.hexdigest(), size

    def _model(self, uow: UnitOfWork, caller: Caller, name: str) -> RegisteredModel:
        model = uow.models.get_model(check_name(name, field="model"))
        self._ctx.authorize(
            uow,
            caller,
            Permission.PROJECT_READ,
            project_id=model.project_id,
            subject=("model", model.name),
        )
        return model

    @staticmethod
    def _signed(
        uow: UnitOfWork, model: RegisteredModel, version: int
    ) -> tuple[Manifest, PackageSignature]:
        uow.models.get_version(model.name, version)  # NotFoundError for a missing version
        found = uow.packages.get(model.id, version)
        if found is None:
            raise NotFoundError(
                f"{model.name}/{version} has no signed manifest (registered before manifests)"
            )
        return found
