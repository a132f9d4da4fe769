"""Routes for logins, principals, teams, API tokens and project grants."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from lockgate.api import ERROR_RESPONSES, PageOut
from lockgate.api.identity import (
    CallerOut,
    GrantIn,
    GrantOut,
    IssuedTokenOut,
    LoginIn,
    LoginOut,
    PasswordIn,
    PlatformRoleIn,
    PrincipalIn,
    PrincipalOut,
    PrincipalStateIn,
    PrincipalText,
    TokenIn,
    TokenOut,
)
from lockgate.api.limits import IdText, NameText
from lockgate.api.packaging import SigningKeyOut
from lockgate.domain.access import Permission, PlatformRole, PrincipalKind, Role
from lockgate.server.auth import SESSION_COOKIE
from lockgate.server.deps import CallerDep, PageSize, PageToken, PlatformDep
from lockgate.server.permissions import requires

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["identity"], responses=ERROR_RESPONSES)

_MANAGE = requires(Permission.IDENTITY_MANAGE)
_CREDENTIALS = requires(Permission.CREDENTIALS_MANAGE)


@router.post("/auth/login", openapi_extra=requires("public"))
def login(body: LoginIn, response: Response, platform: PlatformDep) -> LoginOut:
    """Sign in with a user name and password; sets the session cookie (HttpOnly,
    SameSite=Strict). Failed attempts are rate-limited per user name."""
    issued = platform.credentials.login(body.username, body.password)
    settings = platform.settings
    response.set_cookie(
        SESSION_COOKIE,
        issued.secret,
        max_age=settings.session_ttl_seconds,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return LoginOut(
        principal=PrincipalOut.from_domain(issued.principal),
        csrf_token=issued.csrf_token,
        expires_at=issued.expires_at,
    )


@router.post("/auth/logout", status_code=204, openapi_extra=requires("authenticated"))
def logout(request: Request, response: Response, platform: PlatformDep, caller: CallerDep) -> None:
    """End the session of the cookie, if the request came with one."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        platform.credentials.logout(caller, secret)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/whoami", openapi_extra=requires("authenticated"))
async def whoami(caller: CallerDep) -> CallerOut:
    """Who the server takes the caller to be, and through which credentials."""
    return CallerOut.from_domain(caller)


@router.post("/principals", status_code=201, openapi_extra=_MANAGE)
def create_principal(body: PrincipalIn, platform: PlatformDep, caller: CallerDep) -> PrincipalOut:
    """Create a user, a service account or a team (platform admins)."""
    principal = platform.principals.create(
        caller,
        PrincipalKind(body.kind),
        body.name,
        body.display_name,
        password=body.password,
        platform_role=PlatformRole(body.platform_role) if body.platform_role else None,
    )
    return PrincipalOut.from_domain(principal)


@router.get("/principals", openapi_extra=_MANAGE)
def list_principals(
    platform: PlatformDep,
    caller: CallerDep,
    kind: Annotated[Literal["user", "sa", "team"] | None, Query()] = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> PageOut[PrincipalOut]:
    """Principals by kind and name (platform admins)."""
    page = platform.principals.list_page(
        caller, PrincipalKind(kind) if kind else None, page_size, page_token
    )
    return PageOut(
        items=[PrincipalOut.from_domain(p) for p in page.items], next_page_token=page.next_cursor
    )


@router.get("/principals/{principal}", openapi_extra=_MANAGE)
def get_principal(
    principal: PrincipalText, platform: PlatformDep, caller: CallerDep
) -> PrincipalOut:
    """One principal, by `kind:name` (oneself, or anyone for platform admins)."""
    return PrincipalOut.from_domain(platform.principals.get(caller, principal))


@router.put("/principals/{principal}/platform-role", openapi_extra=_MANAGE)
def set_platform_role(
    principal: PrincipalText, body: PlatformRoleIn, platform: PlatformDep, caller: CallerDep
) -> PrincipalOut:
    """Give or take a platform role."""
    role = PlatformRole(body.role) if body.role else None
    return PrincipalOut.from_domain(platform.principals.set_platform_role(caller, principal, role))


@router.put("/principals/{principal}/state", openapi_extra=_MANAGE)
def set_state(
    principal: PrincipalText, body: PrincipalStateIn, platform: PlatformDep, caller: CallerDep
) -> PrincipalOut:
    """Disable or enable a principal; disabling ends its sessions and stops its tokens."""
    updated = platform.principals.set_disabled(caller, principal, body.disabled)
    return PrincipalOut.from_domain(updated)


@router.put("/principals/{principal}/password", status_code=204, openapi_extra=_CREDENTIALS)
def set_password(
    principal: PrincipalText, body: PasswordIn, platform: PlatformDep, caller: CallerDep
) -> None:
    """Set a user's password (one's own, or anyone's for platform admins)."""
    platform.credentials.set_password(caller, principal, body.password)


@router.post("/principals/{principal}/tokens", status_code=201, openapi_extra=_CREDENTIALS)
def issue_token(
    principal: PrincipalText, body: TokenIn, platform: PlatformDep, caller: CallerDep
) -> IssuedTokenOut:
    """Issue an API token; the secret is in this response only."""
    issued = platform.credentials.issue_token(
        caller,
        principal,
        body.name,
        expires_at=body.expires_at,
        scope_project=body.scope_project,
        scope_role=Role(body.scope_role) if body.scope_role else None,
    )
    return IssuedTokenOut.issued(issued.token, issued.secret)


@router.get("/principals/{principal}/tokens", openapi_extra=_CREDENTIALS)
def list_tokens(
    principal: PrincipalText, platform: PlatformDep, caller: CallerDep
) -> list[TokenOut]:
    """A principal's tokens, without their secrets."""
    return [TokenOut.from_domain(t) for t in platform.credentials.list_tokens(caller, principal)]


@router.delete("/tokens/{token_id}", openapi_extra=_CREDENTIALS)
def revoke_token(token_id: IdText, platform: PlatformDep, caller: CallerDep) -> TokenOut:
    """Revoke a token at once (one's own, or anyone's for platform admins)."""
    return TokenOut.from_domain(platform.credentials.revoke_token(caller, token_id))


@router.get("/teams/{team}/members", openapi_extra=_MANAGE)
def list_members(
    team: PrincipalText, platform: PlatformDep, caller: CallerDep
) -> list[PrincipalOut]:
    """The members of a team."""
    return [PrincipalOut.from_domain(p) for p in platform.principals.members(caller, team)]


@router.put("/teams/{team}/members/{member}", status_code=204, openapi_extra=_MANAGE)
def add_member(
    team: PrincipalText, member: PrincipalText, platform: PlatformDep, caller: CallerDep
) -> None:
    """Add a user or service account to a team."""
    platform.principals.set_members(caller, team, member, present=True)


@router.delete("/teams/{team}/members/{member}", status_code=204, openapi_extra=_MANAGE)
def remove_member(
    team: PrincipalText, member: PrincipalText, platform: PlatformDep, caller: CallerDep
) -> None:
    """Remove a member from a team."""
    platform.principals.set_members(caller, team, member, present=False)


@router.get("/projects/{project}/grants", openapi_extra=requires(Permission.PROJECT_READ))
def list_grants(project: NameText, platform: PlatformDep, caller: CallerDep) -> list[GrantOut]:
    """Who holds which role on a project."""
    return [GrantOut.from_domain(g) for g in platform.principals.grants(caller, project)]


@router.put("/projects/{project}/grants", openapi_extra=requires(Permission.PROJECT_MANAGE))
def add_grant(
    project: NameText, body: GrantIn, platform: PlatformDep, caller: CallerDep
) -> GrantOut:
    """Give a principal a role on the project (project admins)."""
    grant = platform.principals.grant(caller, project, body.principal, Role(body.role))
    return GrantOut.from_domain(grant)


@router.delete(
    "/projects/{project}/grants/{principal}/{role}",
    status_code=204,
    openapi_extra=requires(Permission.PROJECT_MANAGE),
)
def remove_grant(
    project: NameText,
    principal: PrincipalText,
    role: Literal["viewer", "contributor", "reviewer", "deployer", "admin"],
    platform: PlatformDep,
    caller: CallerDep,
) -> None:
    """Take a role on the project away (project admins)."""
    platform.principals.revoke(caller, project, principal, Role(role))


@router.get("/signing-key", openapi_extra=requires("authenticated"))
def signing_key(platform: PlatformDep) -> SigningKeyOut:
    """The public key that signs model version manifests."""
    return SigningKeyOut(
        algorithm="ed25519",
        key_id=platform.packages.key_id,
        public_key_pem=platform.packages.public_key_pem(),
    )
