"""Routes for registered models, versions and aliases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from lockgate.api import ERROR_RESPONSES, PageOut
from lockgate.api.limits import AliasText, ArtifactPathText, NameText, VersionNumber
from lockgate.api.packaging import ManifestOut, PackageVerdictOut
from lockgate.api.registry import AliasIn, AliasMoveOut, ModelIn, ModelOut, VersionIn, VersionOut
from lockgate.domain.access import Permission
from lockgate.server.deps import CallerDep, PageSize, PageToken, PlatformDep
from lockgate.server.permissions import requires

__all__ = ["router"]

SBOM_MEDIA_TYPE = "application/vnd.cyclonedx+json"

router = APIRouter(prefix="/api/v1/models", tags=["registry"], responses=ERROR_RESPONSES)

IncludeArchived = Annotated[bool, Query(description="Also list retired (archived) ones.")]


@router.post("", status_code=201, openapi_extra=requires(Permission.MODEL_WRITE))
def create_model(body: ModelIn, platform: PlatformDep, caller: CallerDep) -> ModelOut:
    """Register a model name in a project."""
    model = platform.registry.create_model(
        caller, body.project, body.name, body.owner, body.description, body.metadata
    )
    return ModelOut.from_domain(model)


@router.get("", openapi_extra=requires("listing"))
def list_models(
    platform: PlatformDep,
    caller: CallerDep,
    project: Annotated[str | None, Query(max_length=128)] = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
    include_archived: IncludeArchived = False,
) -> PageOut[ModelOut]:
    """List models by name, of one project or all (retired ones with `include_archived`)."""
    page = platform.registry.list_models(
        caller, project, page_size, page_token, include_archived=include_archived
    )
    return PageOut(
        items=[ModelOut.from_domain(m) for m in page.items], next_page_token=page.next_cursor
    )


@router.get("/{name}", openapi_extra=requires(Permission.PROJECT_READ))
def get_model(name: NameText, platform: PlatformDep, caller: CallerDep) -> ModelOut:
    """One registered model."""
    return ModelOut.from_domain(platform.registry.get_model(caller, name))


@router.post("/{name}/versions", status_code=201, openapi_extra=requires(Permission.MODEL_WRITE))
def create_version(
    name: NameText, body: VersionIn, platform: PlatformDep, caller: CallerDep
) -> VersionOut:
    """Create an immutable version from a run's artifacts."""
    version = platform.registry.create_version(
        caller,
        name,
        body.run_id,
        body.artifact_path,
        body.signature.to_domain() if body.signature else None,
        body.description,
        body.metadata,
        body.flavor,
    )
    return VersionOut.from_domain(version)


@router.get("/{name}/versions", openapi_extra=requires(Permission.PROJECT_READ))
def list_versions(
    name: NameText,
    platform: PlatformDep,
    caller: CallerDep,
    page_size: PageSize = 100,
    page_token: PageToken = None,
    include_archived: IncludeArchived = False,
) -> PageOut[VersionOut]:
    """Versions of a model, newest first (retired ones with `include_archived`)."""
    page = platform.registry.list_versions(
        caller, name, page_size, page_token, include_archived=include_archived
    )
    return PageOut(
        items=[VersionOut.from_domain(v) for v in page.items], next_page_token=page.next_cursor
    )


@router.get("/{name}/versions/{version}", openapi_extra=requires(Permission.PROJECT_READ))
def get_version(
    name: NameText, version: VersionNumber, platform: PlatformDep, caller: CallerDep
) -> VersionOut:
    """One version."""
    return VersionOut.from_domain(platform.registry.get_version(caller, name, version))


@router.get("/{name}/resolve", openapi_extra=requires(Permission.PROJECT_READ))
def resolve(
    name: NameText,
    platform: PlatformDep,
    caller: CallerDep,
    ref: Annotated[str, Query(max_length=128)] = "",
) -> VersionOut:
    """The version `ref` names: `3`, `@champion`, or empty for the latest."""
    text = name if not ref else (f"{name}{ref}" if ref.startswith("@") else f"{name}/{ref}")
    return VersionOut.from_domain(platform.registry.resolve(caller, text))


@router.put("/{name}/aliases/{alias}", openapi_extra=requires(Permission.ALIAS_MOVE))
def set_alias(
    name: NameText, alias: AliasText, body: AliasIn, platform: PlatformDep, caller: CallerDep
) -> AliasMoveOut:
    """Point an alias at a version."""
    return AliasMoveOut.from_domain(platform.registry.set_alias(caller, name, alias, body.version))


@router.delete("/{name}/aliases/{alias}", openapi_extra=requires(Permission.ALIAS_MOVE))
def delete_alias(
    name: NameText, alias: AliasText, platform: PlatformDep, caller: CallerDep
) -> AliasMoveOut:
    """Remove an alias (its history stays)."""
    return AliasMoveOut.from_domain(platform.registry.delete_alias(caller, name, alias))


@router.get("/{name}/aliases/{alias}", openapi_extra=requires(Permission.PROJECT_READ))
def get_alias(
    name: NameText,
    alias: AliasText,
    platform: PlatformDep,
    caller: CallerDep,
    at: datetime | None = None,
) -> VersionOut:
    """The version an alias points to now, or pointed to at `at`."""
    if at is None:
        return VersionOut.from_domain(platform.registry.resolve(caller, f"{name}@{alias}"))
    return VersionOut.from_domain(platform.registry.alias_at(caller, name, alias, at))


@router.get("/{name}/alias-history", openapi_extra=requires(Permission.PROJECT_READ))
def alias_history(
    name: NameText,
    platform: PlatformDep,
    caller: CallerDep,
    alias: Annotated[str | None, Query(max_length=64)] = None,
) -> list[AliasMoveOut]:
    """Every move of one alias, or of all aliases, oldest first."""
    return [
        AliasMoveOut.from_domain(m) for m in platform.registry.alias_history(caller, name, alias)
    ]


@router.get("/{name}/versions/{version}/manifest", openapi_extra=requires(Permission.PROJECT_READ))
def get_manifest(
    name: NameText, version: VersionNumber, platform: PlatformDep, caller: CallerDep
) -> ManifestOut:
    """The version's signed manifest: files with sha256, signature, requirements, run."""
    manifest, signature = platform.packages.manifest(caller, name, version)
    return ManifestOut.from_domain(manifest, signature)


@router.get(
    "/{name}/versions/{version}/sbom",
    response_class=Response,
    responses={200: {"content": {SBOM_MEDIA_TYPE: {}}, "description": "CycloneDX 1.6 JSON"}},
    openapi_extra=requires(Permission.PROJECT_READ),
)
def get_sbom(
    name: NameText, version: VersionNumber, platform: PlatformDep, caller: CallerDep
) -> Response:
    """The version's CycloneDX 1.6 SBOM: the model, its files and its Python packages."""
    document = platform.packages.sbom(caller, name, version)
    return Response(orjson.dumps(document), media_type=SBOM_MEDIA_TYPE)


@router.post("/{name}/versions/{version}/verify", openapi_extra=requires(Permission.PROJECT_READ))
def verify_version(
    name: NameText, version: VersionNumber, platform: PlatformDep, caller: CallerDep
) -> PackageVerdictOut:
    """Check the manifest's signature and re-hash every stored file of the version."""
    return PackageVerdictOut.from_domain(platform.packages.verify(caller, name, version))


@router.get(
    "/{name}/versions/{version}/files/{path:path}",
    response_class=StreamingResponse,
    openapi_extra=requires(Permission.PROJECT_READ),
)
def download_version_file(
    name: NameText,
    version: VersionNumber,
    path: ArtifactPathText,
    platform: PlatformDep,
    caller: CallerDep,
) -> StreamingResponse:
    """One file of a version, as frozen at registration; the ETag is its sha256."""
    file, chunks = platform.packages.open_file(caller, name, version, path)
    return StreamingResponse(
        chunks,
        media_type="application/octet-stream",
        headers={"ETag": f'"{file.digest}"', "Content-Length": str(file.size)},
    )
