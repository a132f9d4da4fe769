"""Registry resource of the SDK: registered models, their versions and aliases."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from lockgate.api import PageOut
from lockgate.api.packaging import ManifestOut, PackageVerdictOut, SigningKeyOut
from lockgate.api.registry import (
    AliasIn,
    AliasMoveOut,
    ModelIn,
    ModelOut,
    SignatureIO,
    VersionIn,
    VersionOut,
)
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.registry import ModelRef
from lockgate.sdk.artifacts import ProgressCallback, download_verified, quote_artifact_path
from lockgate.sdk.http import HttpSession, paginate, request_body, segment

__all__ = ["Models"]


class Models:
    """Registered models, immutable versions and aliases such as `champion` (`client.models`)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def create(
        self,
        name: str,
        *,
        project: str,
        owner: str,
        description: str,
        metadata: Mapping[str, str] | None = None,
    ) -> ModelOut:
        """Register a model in a project; owner and description are required.

        Raises:
            AlreadyExistsError: The name is taken.
            InvalidInputError: A rule is broken; `field` names the part at fault.
        """
        body = request_body(
            ModelIn,
            name=name,
            project=project,
            owner=owner,
            description=description,
            metadata=dict(metadata or {}),
        )
        return self._http.call("POST", "/models", ModelOut, body=body)

    def get(self, name: str) -> ModelOut:
        """A registered model by name; raises NotFoundError."""
        return self._http.call("GET", f"/models/{segment(name)}", ModelOut)

    def list(
        self, *, project: str | None = None, page_size: int = 100, include_archived: bool = False
    ) -> Iterator[ModelOut]:
        """Every registered model (of one project, if given) by name, fetched page by page;
        retired (archived) models too with `include_archived`."""

        def fetch(token: str | None) -> PageOut[ModelOut]:
            params = {"project": project, "page_size": page_size, "page_token": token}
            if include_archived:
                params["include_archived"] = "true"
            return self._http.call("GET", "/models", PageOut[ModelOut], params=params)

        return paginate(fetch)

    def create_version(
        self,
        name: str,
        *,
        run_id: str,
        artifact_path: str,
        signature: SignatureIO | None = None,
        description: str = "",
        metadata: Mapping[str, str] | None = None,
        flavor: str = "unknown",
    ) -> VersionOut:
        """Create the next version of a model from the files a run logged under
        `artifact_path`; the version's files are pinned by digest and never change."""
        body = request_body(
            VersionIn,
            run_id=run_id,
            artifact_path=artifact_path,
            signature=signature,
            description=description,
            metadata=dict(metadata or {}),
            flavor=flavor,
        )
        return self._http.call("POST", f"/models/{segment(name)}/versions", VersionOut, body=body)

    def get_version(self, name: str, version: int) -> VersionOut:
        """One version; raises NotFoundError."""
        path = f"/models/{segment(name)}/versions/{segment(version)}"
        return self._http.call("GET", path, VersionOut)

    def manifest(self, name: str, version: int) -> ManifestOut:
        """The version's signed manifest and its Ed25519 signature."""
        path = f"/models/{segment(name)}/versions/{segment(version)}/manifest"
        return self._http.call("GET", path, ManifestOut)

    def sbom(self, name: str, version: int) -> dict[str, Any]:
        """The version's CycloneDX 1.6 SBOM, as a JSON document."""
        path = f"/models/{segment(name)}/versions/{segment(version)}/sbom"
        document: dict[str, Any] = self._http.request("GET", path).json()
        return document

    def verify(self, name: str, version: int) -> PackageVerdictOut:
        """Have the registry check the manifest's signature and re-hash every stored file;
        `ok` is False and `problems` names each failure when anything changed."""
        path = f"/models/{segment(name)}/versions/{segment(version)}/verify"
        return self._http.call("POST", path, PackageVerdictOut)

    def download_file(
        self,
        name: str,
        version: int,
        path: str,
        dest: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
    ) -> Path:
        """Download one file of a version, as frozen at registration, to `dest`; the file
        takes its name only once its sha256 equals the server's (DigestMismatchError)."""
        url = (
            f"/models/{segment(name)}/versions/{segment(version)}/files/{quote_artifact_path(path)}"
        )
        return download_verified(self._http, url, path, dest, progress=progress)

    def signing_key(self) -> SigningKeyOut:
        """The registry's public key, to check manifests' signatures offline."""
        return self._http.call("GET", "/signing-key", SigningKeyOut)

    def list_versions(
        self, name: str, *, page_size: int = 100, include_archived: bool = False
    ) -> Iterator[VersionOut]:
        """A model's versions, newest first, fetched page by page; retired (archived)
        versions too with `include_archived`."""
        path = f"/models/{segment(name)}/versions"

        def fetch(token: str | None) -> PageOut[VersionOut]:
            params: dict[str, str | int | None] = {"page_size": page_size, "page_token": token}
            if include_archived:
                params["include_archived"] = "true"
            return self._http.call("GET", path, PageOut[VersionOut], params=params)

        return paginate(fetch)

    def resolve(self, ref: str) -> VersionOut:
        """The version a reference names: `churn/3`, `churn@champion` or `churn` (latest).

        Raises:
            InvalidInputError: `ref` is not a model reference (`field` is `ref`).
            NotFoundError: The model, version or alias does not exist.
        """
        parsed = ModelRef.parse(ref, field="ref")
        if parsed.alias is not None:
            wire_ref = f"@{parsed.alias}"
        elif parsed.version is not None:
            wire_ref = str(parsed.version)
        else:
            wire_ref = ""
        path = f"/models/{segment(parsed.name)}/resolve"
        return self._http.call("GET", path, VersionOut, params={"ref": wire_ref})

    def set_alias(self, name: str, alias: str, version: int) -> AliasMoveOut:
        """Point an alias at a version (moving it if it pointed elsewhere); the move is
        kept in the alias history."""
        path = f"/models/{segment(name)}/aliases/{segment(alias)}"
        return self._http.call(
            "PUT", path, AliasMoveOut, body=request_body(AliasIn, version=version)
        )

    def delete_alias(self, name: str, alias: str) -> AliasMoveOut:
        """Remove an alias; the removal is kept in the alias history."""
        path = f"/models/{segment(name)}/aliases/{segment(alias)}"
        return self._http.call("DELETE", path, AliasMoveOut)

    def alias_at(self, name: str, alias: str, at: datetime) -> VersionOut:
        """The version an alias pointed to at a moment (timezone-aware).

        Raises:
            NotFoundError: The alias pointed nowhere then (or the model does not exist).
        """
        if at.tzinfo is None:
            raise InvalidInputError("at must be timezone-aware (e.g. UTC)", field="at")
        path = f"/models/{segment(name)}/aliases/{segment(alias)}"
        return self._http.call("GET", path, VersionOut, params={"at": at.isoformat()})

    def alias_history(self, name: str, alias: str | None = None) -> builtins.list[AliasMoveOut]:
        """Every move of one alias (or of all aliases), oldest first."""
        path = f"/models/{segment(name)}/alias-history"
        return self._http.call_list(path, AliasMoveOut, params={"alias": alias})
