"""Routes for registered models, versions and aliases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from lockgate.api import PageOut
from lockgate.api.registry import AliasIn, AliasMoveOut, ModelIn, ModelOut, VersionIn, VersionOut
from lockgate.server.deps import ActorDep, PageSize, PageToken, PlatformDep

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/models", tags=["registry"])


@router.post("", status_code=201)
def create_model(body: ModelIn, platform: PlatformDep, actor: ActorDep) -> ModelOut:
    """Register a model name in a project."""
    model = platform.registry.create_model(
        actor, body.project, body.name, body.owner, body.description, body.metadata
    )
    return ModelOut.from_domain(model)


@router.get("")
def list_models(
    platform: PlatformDep,
    project: Annotated[str | None, Query(max_length=128)] = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> PageOut[ModelOut]:
    """List models by name, of one project or all."""
    page = platform.registry.list_models(project, page_size, page_token)
    return PageOut(
        items=[ModelOut.from_domain(m) for m in page.items], next_page_token=page.next_cursor
    )


@router.get("/{name}")
def get_model(name: str, platform: PlatformDep) -> ModelOut:
    """One registered model."""
    return ModelOut.from_domain(platform.registry.get_model(name))


@router.post("/{name}/versions", status_code=201)
def create_version(
    name: str, body: VersionIn, platform: PlatformDep, actor: ActorDep
) -> VersionOut:
    """Create an immutable version from a run's artifacts."""
    version = platform.registry.create_version(
        actor,
        name,
        body.run_id,
        body.artifact_path,
        body.signature.to_domain() if body.signature else None,
        body.description,
        body.metadata,
    )
    return VersionOut.from_domain(version)


@router.get("/{name}/versions")
def list_versions(
    name: str, platform: PlatformDep, page_size: PageSize = 100, page_token: PageToken = None
) -> PageOut[VersionOut]:
    """Versions of a model, newest first."""
    page = platform.registry.list_versions(name, page_size, page_token)
    return PageOut(
        items=[VersionOut.from_domain(v) for v in page.items], next_page_token=page.next_cursor
    )


@router.get("/{name}/versions/{version}")
def get_version(name: str, version: int, platform: PlatformDep) -> VersionOut:
    """One version."""
    return VersionOut.from_domain(platform.registry.get_version(name, version))


@router.get("/{name}/resolve")
def resolve(
    name: str, platform: PlatformDep, ref: Annotated[str, Query(max_length=128)] = ""
) -> VersionOut:
    """The version `ref` names: `3`, `@champion`, or empty for the latest."""
    text = name if not ref else (f"{name}{ref}" if ref.startswith("@") else f"{name}/{ref}")
    return VersionOut.from_domain(platform.registry.resolve(text))


@router.put("/{name}/aliases/{alias}")
def set_alias(
    name: str, alias: str, body: AliasIn, platform: PlatformDep, actor: ActorDep
) -> AliasMoveOut:
    """Point an alias at a version."""
    return AliasMoveOut.from_domain(platform.registry.set_alias(actor, name, alias, body.version))


@router.delete("/{name}/aliases/{alias}")
def delete_alias(name: str, alias: str, platform: PlatformDep, actor: ActorDep) -> AliasMoveOut:
    """Remove an alias (its history stays)."""
    return AliasMoveOut.from_domain(platform.registry.delete_alias(actor, name, alias))


@router.get("/{name}/aliases/{alias}")
def get_alias(
    name: str, alias: str, platform: PlatformDep, at: datetime | None = None
) -> VersionOut:
    """The version an alias points to now, or pointed to at `at`."""
    if at is None:
        return VersionOut.from_domain(platform.registry.resolve(f"{name}@{alias}"))
    return VersionOut.from_domain(platform.registry.alias_at(name, alias, at))


@router.get("/{name}/alias-history")
def alias_history(
    name: str, platform: PlatformDep, alias: Annotated[str | None, Query(max_length=64)] = None
) -> list[AliasMoveOut]:
    """Every move of one alias, or of all aliases, oldest first."""
    return [AliasMoveOut.from_domain(m) for m in platform.registry.alias_history(name, alias)]
