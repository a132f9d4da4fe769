"""Routes for a project's gate policies: propose, review, read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lockgate.api import ERROR_RESPONSES, PageOut
from lockgate.api.limits import NameText, VersionNumber
from lockgate.api.policies import PolicyName, PolicyProposalIn, PolicyReviewIn, ProjectPolicyOut
from lockgate.domain.access import Permission
from lockgate.domain.governance.policies import PolicyStatus
from lockgate.server.deps import CallerDep, PageSize, PageToken, PlatformDep
from lockgate.server.permissions import requires

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["policies"], responses=ERROR_RESPONSES)

NameFilter = Annotated[
    str | None, Query(max_length=64, description="Only the versions of this policy.")
]
StatusFilter = Annotated[PolicyStatus | None, Query(description="Only versions in this status.")]


@router.post(
    "/projects/{project}/policies",
    status_code=201,
    openapi_extra=requires(Permission.POLICY_WRITE),
)
def propose_policy(
    project: NameText, body: PolicyProposalIn, platform: PlatformDep, caller: CallerDep
) -> ProjectPolicyOut:
    """Propose the next version of a policy (compiled, and its tests run, first)."""
    policy = platform.policies.propose(
        caller, project, body.name, body.source, tests=body.tests, description=body.description
    )
    return ProjectPolicyOut.from_domain(policy)


@router.get("/projects/{project}/policies", openapi_extra=requires(Permission.PROJECT_READ))
def list_policies(
    project: NameText,
    platform: PlatformDep,
    caller: CallerDep,
    name: NameFilter = None,
    status: StatusFilter = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> PageOut[ProjectPolicyOut]:
    """A project's policy versions by name, newest version first."""
    page = platform.policies.list_policies(
        caller, project, name=name, status=status, page_size=page_size, cursor=page_token
    )
    return PageOut(
        items=[ProjectPolicyOut.from_domain(p) for p in page.items],
        next_page_token=page.next_cursor,
    )


@router.get("/projects/{project}/policies/{name}", openapi_extra=requires(Permission.PROJECT_READ))
def get_latest_policy(
    project: NameText, name: PolicyName, platform: PlatformDep, caller: CallerDep
) -> ProjectPolicyOut:
    """The newest version of a policy, whatever its status."""
    return ProjectPolicyOut.from_domain(platform.policies.get(caller, project, name))


@router.get(
    "/projects/{project}/policies/{name}/versions/{version}",
    openapi_extra=requires(Permission.PROJECT_READ),
)
def get_policy(
    project: NameText,
    name: PolicyName,
    version: VersionNumber,
    platform: PlatformDep,
    caller: CallerDep,
) -> ProjectPolicyOut:
    """One version of a policy."""
    return ProjectPolicyOut.from_domain(platform.policies.get(caller, project, name, version))


@router.post(
    "/projects/{project}/policies/{name}/versions/{version}/approve",
    openapi_extra=requires(Permission.VERSION_APPROVE),
)
def approve_policy(
    project: NameText,
    name: PolicyName,
    version: VersionNumber,
    body: PolicyReviewIn,
    platform: PlatformDep,
    caller: CallerDep,
) -> ProjectPolicyOut:
    """Make a proposed version active (not by its proposer); the active one is superseded."""
    policy = platform.policies.approve(caller, project, name, version, body.comment)
    return ProjectPolicyOut.from_domain(policy)


@router.post(
    "/projects/{project}/policies/{name}/versions/{version}/reject",
    openapi_extra=requires(Permission.VERSION_APPROVE),
)
def reject_policy(
    project: NameText,
    name: PolicyName,
    version: VersionNumber,
    body: PolicyReviewIn,
    platform: PlatformDep,
    caller: CallerDep,
) -> ProjectPolicyOut:
    """Reject a proposed version, saying why (a comment is required)."""
    policy = platform.policies.reject(caller, project, name, version, body.comment)
    return ProjectPolicyOut.from_domain(policy)
