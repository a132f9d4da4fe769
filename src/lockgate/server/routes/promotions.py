"""Routes for governed promotion: environments, risk tiers, promotion requests with their
approvals, rejections, cancellations, checks and gate decisions, the history of what was
current where, and gate exceptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from lockgate.api import ERROR_RESPONSES, PageOut
from lockgate.api.limits import MAX_INT32, AliasText, IdText, NameText, VersionNumber
from lockgate.api.promotions import (
    CommentIn,
    CurrentVersionOut,
    EnvironmentChangeOut,
    EnvironmentIn,
    EnvironmentOut,
    ExceptionIn,
    ExceptionOut,
    GateDecisionOut,
    GovernanceIn,
    GovernanceOut,
    PromotionDetailOut,
    PromotionIn,
    PromotionOut,
    RejectionIn,
    RevocationIn,
)
from lockgate.domain.access import Permission
from lockgate.domain.governance.exceptions import ExceptionStatus
from lockgate.domain.governance.promotions import RequestStatus
from lockgate.server.deps import CallerDep, PageSize, PageToken, PlatformDep
from lockgate.server.permissions import requires

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["promotion"], responses=ERROR_RESPONSES)

StatusFilter = Annotated[RequestStatus | None, Query(description="Only requests in this status.")]
VersionFilter = Annotated[
    int | None, Query(ge=1, le=MAX_INT32, description="Only requests for this version.")
]
At = Annotated[
    datetime | None,
    Query(description="Only the change in force at this moment (ISO-8601 with an offset)."),
]


@router.get("/environments", openapi_extra=requires("authenticated"))
def list_environments(platform: PlatformDep, caller: CallerDep) -> list[EnvironmentOut]:
    """Every environment, by order."""
    return [EnvironmentOut.from_domain(e) for e in platform.environments.list_environments()]


@router.post(
    "/environments", status_code=201, openapi_extra=requires(Permission.ENVIRONMENT_MANAGE)
)
def create_environment(
    body: EnvironmentIn, platform: PlatformDep, caller: CallerDep
) -> EnvironmentOut:
    """Define an environment (platform admins)."""
    environment = platform.environments.create_environment(
        caller, body.name, body.order, body.description
    )
    return EnvironmentOut.from_domain(environment)


@router.get("/models/{name}/environments", openapi_extra=requires(Permission.PROJECT_READ))
def current_versions(
    name: NameText, platform: PlatformDep, caller: CallerDep
) -> list[CurrentVersionOut]:
    """Which version of the model is current in each environment."""
    current = platform.environments.current_versions(caller, name)
    return [CurrentVersionOut.from_domain(c) for c in current]


@router.get(
    "/models/{name}/environments/{environment}/history",
    openapi_extra=requires(Permission.PROJECT_READ),
)
def environment_history(
    name: NameText,
    environment: AliasText,
    platform: PlatformDep,
    caller: CallerDep,
    at: At = None,
) -> list[EnvironmentChangeOut]:
    """Every change of what was current in the environment, oldest first; with `at`, only
    the change in force then (an empty list when nothing was)."""
    if at is None:
        changes = platform.environments.history(caller, name, environment)
    else:
        live = platform.environments.live_at(caller, name, environment, at)
        changes = [] if live is None else [live]
    return [EnvironmentChangeOut.from_domain(c) for c in changes]


@router.get("/models/{name}/governance", openapi_extra=requires(Permission.PROJECT_READ))
def get_governance(name: NameText, platform: PlatformDep, caller: CallerDep) -> GovernanceOut:
    """The model's risk tier and monitor."""
    return GovernanceOut.from_domain(platform.environments.get_governance(caller, name))


@router.put("/models/{name}/governance", openapi_extra=requires(Permission.PROJECT_MANAGE))
def set_governance(
    name: NameText, body: GovernanceIn, platform: PlatformDep, caller: CallerDep
) -> GovernanceOut:
    """Set the model's risk tier and monitor."""
    governance = platform.environments.set_tier(caller, name, body.tier.value, body.monitor)
    return GovernanceOut.from_domain(governance)


@router.post(
    "/models/{name}/versions/{version}/promotions",
    status_code=201,
    openapi_extra=requires(Permission.PROMOTION_REQUEST),
)
def request_promotion(
    name: NameText,
    version: VersionNumber,
    body: PromotionIn,
    platform: PlatformDep,
    caller: CallerDep,
) -> PromotionDetailOut:
    """Ask for the version to enter an environment; evaluated at once."""
    detail = platform.promotions.request_promotion(
        caller, name, version, body.environment, body.reason
    )
    return PromotionDetailOut.from_domain(detail)


@router.get("/models/{name}/promotions", openapi_extra=requires(Permission.PROJECT_READ))
def list_model_promotions(
    name: NameText,
    platform: PlatformDep,
    caller: CallerDep,
    version: VersionFilter = None,
    status: StatusFilter = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> PageOut[PromotionOut]:
    """Promotion requests of a model (of one version), newest first."""
    page = platform.promotions.list_requests(
        caller,
        model_name=name,
        version=version,
        status=status,
        page_size=page_size,
        cursor=page_token,
    )
    return PageOut(
        items=[PromotionOut.from_domain(r) for r in page.items], next_page_token=page.next_cursor
    )


@router.get("/promotions", openapi_extra=requires("listing"))
def list_promotions(
    platform: PlatformDep,
    caller: CallerDep,
    status: StatusFilter = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> PageOut[PromotionOut]:
    """Promotion requests of every project the caller may read, newest first (with
    `status=open`: an approvals inbox)."""
    page = platform.promotions.list_requests(
        caller, status=status, page_size=page_size, cursor=page_token
    )
    return PageOut(
        items=[PromotionOut.from_domain(r) for r in page.items], next_page_token=page.next_cursor
    )


@router.get("/promotions/{promotion_id}", openapi_extra=requires(Permission.PROJECT_READ))
def get_promotion(
    promotion_id: IdText, platform: PlatformDep, caller: CallerDep
) -> PromotionDetailOut:
    """A request with its approvals and latest gate decision."""
    return PromotionDetailOut.from_domain(platform.promotions.get_request(caller, promotion_id))


@router.post(
    "/promotions/{promotion_id}/approvals", openapi_extra=requires(Permission.VERSION_APPROVE)
)
def approve_promotion(
    promotion_id: IdText, body: CommentIn, platform: PlatformDep, caller: CallerDep
) -> PromotionDetailOut:
    """Approve the request (never its requester or the version's authors); re-evaluated."""
    detail = platform.promotions.approve(caller, promotion_id, body.comment)
    return PromotionDetailOut.from_domain(detail)


@router.post(
    "/promotions/{promotion_id}/rejections", openapi_extra=requires(Permission.VERSION_APPROVE)
)
def reject_promotion(
    promotion_id: IdText, body: RejectionIn, platform: PlatformDep, caller: CallerDep
) -> PromotionDetailOut:
    """Reject the request with a comment; it ends."""
    detail = platform.promotions.reject(caller, promotion_id, body.comment)
    return PromotionDetailOut.from_domain(detail)


@router.post(
    "/promotions/{promotion_id}/cancellations",
    openapi_extra=requires(Permission.PROMOTION_REQUEST),
)
def cancel_promotion(
    promotion_id: IdText, body: CommentIn, platform: PlatformDep, caller: CallerDep
) -> PromotionDetailOut:
    """Withdraw the request."""
    detail = platform.promotions.cancel(caller, promotion_id, body.comment)
    return PromotionDetailOut.from_domain(detail)


@router.post(
    "/promotions/{promotion_id}/checks", openapi_extra=requires(Permission.PROMOTION_REQUEST)
)
def check_promotion(
    promotion_id: IdText, platform: PlatformDep, caller: CallerDep
) -> PromotionDetailOut:
    """Evaluate the request again; it promotes itself when the decision allows."""
    return PromotionDetailOut.from_domain(platform.promotions.check(caller, promotion_id))


@router.get("/promotions/{promotion_id}/decisions", openapi_extra=requires(Permission.PROJECT_READ))
def list_decisions(
    promotion_id: IdText, platform: PlatformDep, caller: CallerDep
) -> list[GateDecisionOut]:
    """Every gate decision of the request, oldest first, with its input document."""
    decisions = platform.promotions.decisions(caller, promotion_id)
    return [GateDecisionOut.from_domain(d) for d in decisions]


@router.post(
    "/models/{name}/versions/{version}/exceptions",
    status_code=201,
    openapi_extra=requires(Permission.PROMOTION_REQUEST),
)
def request_exception(
    name: NameText,
    version: VersionNumber,
    body: ExceptionIn,
    platform: PlatformDep,
    caller: CallerDep,
) -> ExceptionOut:
    """Ask for a gate to be waived for the version in one environment until a time."""
    exception = platform.exceptions.request(
        caller, name, version, body.environment, body.gate, body.justification, body.expires_at
    )
    return ExceptionOut.from_domain(exception)


@router.get(
    "/models/{name}/versions/{version}/exceptions",
    openapi_extra=requires(Permission.PROJECT_READ),
)
def list_exceptions(
    name: NameText,
    version: VersionNumber,
    platform: PlatformDep,
    caller: CallerDep,
    status: Annotated[ExceptionStatus | None, Query(description="Only this status.")] = None,
) -> list[ExceptionOut]:
    """The version's gate exceptions, oldest first, with their status as of now."""
    found = platform.exceptions.list_exceptions(caller, name, version, status)
    return [ExceptionOut.from_domain(e) for e in found]


@router.get("/exceptions/{exception_id}", openapi_extra=requires(Permission.PROJECT_READ))
def get_exception(exception_id: IdText, platform: PlatformDep, caller: CallerDep) -> ExceptionOut:
    """One gate exception."""
    return ExceptionOut.from_domain(platform.exceptions.get(caller, exception_id))


@router.post(
    "/exceptions/{exception_id}/approvals", openapi_extra=requires(Permission.VERSION_APPROVE)
)
def approve_exception(
    exception_id: IdText, body: CommentIn, platform: PlatformDep, caller: CallerDep
) -> ExceptionOut:
    """Approve the exception (never its requester): it waives its gate until it expires."""
    return ExceptionOut.from_domain(platform.exceptions.approve(caller, exception_id, body.comment))


@router.post(
    "/exceptions/{exception_id}/revocations", openapi_extra=requires(Permission.VERSION_APPROVE)
)
def revoke_exception(
    exception_id: IdText, body: RevocationIn, platform: PlatformDep, caller: CallerDep
) -> ExceptionOut:
    """Revoke the exception, saying why."""
    return ExceptionOut.from_domain(platform.exceptions.revoke(caller, exception_id, body.reason))
