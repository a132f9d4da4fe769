"""Routes for decommissioning: retiring a version or a model, and reading the artifact purges
retention recorded."""

from __future__ import annotations

from fastapi import APIRouter

from lockgate.api import ERROR_RESPONSES, PageOut
from lockgate.api.decommission import (
    ArchiveOut,
    ArtifactPurgeOut,
    ModelRetirementOut,
    RetireIn,
    RetirementOut,
)
from lockgate.api.limits import NameText, VersionNumber
from lockgate.domain.access import Permission
from lockgate.server.deps import CallerDep, PageSize, PageToken, PlatformDep
from lockgate.server.permissions import requires

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["decommissioning"], responses=ERROR_RESPONSES)


@router.post(
    "/models/{name}/versions/{version}/retire",
    openapi_extra=requires(Permission.PROMOTION_REQUEST),
)
def retire_version(
    name: NameText, version: VersionNumber, body: RetireIn, platform: PlatformDep, caller: CallerDep
) -> RetirementOut:
    """Retire a version: archived at once when it is in no environment, else a retirement
    request per environment it is in (the same gates as a promotion); archived when it
    leaves the last one. It stays readable with its audit trail and evidence."""
    retirement = platform.decommission.retire_version(caller, name, version, body.reason)
    return RetirementOut.from_domain(retirement)


@router.post("/models/{name}/retire", openapi_extra=requires(Permission.PROMOTION_REQUEST))
def retire_model(
    name: NameText, body: RetireIn, platform: PlatformDep, caller: CallerDep
) -> ModelRetirementOut:
    """Retire a model: every version not archived yet, then the model itself (with its last
    live version, once the retirement requests are approved)."""
    retired = platform.decommission.retire_model(caller, name, body.reason)
    return ModelRetirementOut(
        model=retired.model_name,
        archive=ArchiveOut.maybe(retired.archive),
        versions=[RetirementOut.from_domain(r) for r in retired.versions],
    )


@router.get("/retention/purges", openapi_extra=requires(Permission.AUDIT_READ))
def list_purges(
    platform: PlatformDep,
    caller: CallerDep,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> PageOut[ArtifactPurgeOut]:
    """Every blob whose bytes artifact retention purged, newest first."""
    page = platform.decommission.list_purges(caller, page_size, page_token)
    return PageOut(
        items=[ArtifactPurgeOut.from_domain(p) for p in page.items],
        next_page_token=page.next_cursor,
    )
