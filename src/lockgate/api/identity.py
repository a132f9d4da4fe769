"""Wire schemas for principals, tokens, logins and project grants."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from lockgate.api.common import ApiModel, UtcDatetime
from lockgate.api.limits import NameText
from lockgate.domain.access import Caller, Grant
from lockgate.domain.principals import ApiToken, Principal

__all__ = [
    "CallerOut",
    "GrantIn",
    "GrantOut",
    "IssuedTokenOut",
    "LoginIn",
    "LoginOut",
    "PasswordIn",
    "PlatformRoleIn",
    "PrincipalIn",
    "PrincipalOut",
    "PrincipalStateIn",
    "PrincipalText",
    "TokenIn",
    "TokenOut",
]

PrincipalText = Annotated[str, Field(max_length=140, examples=["user:alice"])]
DisplayText = Annotated[str, Field(max_length=256)]
PasswordText = Annotated[str, Field(min_length=1, max_length=1024)]
RoleName = Literal["viewer", "contributor", "reviewer", "deployer", "admin"]
PlatformRoleName = Literal["platform_admin", "auditor"]


class PrincipalIn(ApiModel):
    """Create a user, a service account (`sa`) or a team. Only users have passwords."""

    kind: Literal["user", "sa", "team"]
    name: NameText
    display_name: DisplayText = ""
    password: PasswordText | None = None
    platform_role: PlatformRoleName | None = None


class PrincipalOut(ApiModel):
    ref: str
    id: str
    kind: str
    name: str
    display_name: str
    platform_role: str | None
    disabled: bool
    has_password: bool
    created_at: UtcDatetime
    created_by: str

    @classmethod
    def from_domain(cls, principal: Principal) -> PrincipalOut:
        return cls(
            ref=str(principal.ref),
            id=principal.id,
            kind=principal.kind.value,
            name=principal.name,
            display_name=principal.display_name,
            platform_role=principal.platform_role.value if principal.platform_role else None,
            disabled=principal.disabled,
            has_password=principal.has_password,
            created_at=principal.created_at,
            created_by=principal.created_by,
        )


class PlatformRoleIn(ApiModel):
    """A platform role, or null to take it away."""

    role: PlatformRoleName | None


class PrincipalStateIn(ApiModel):
    """Disable (every token and session stops working) or enable a principal."""

    disabled: bool


class PasswordIn(ApiModel):
    """A new password: 12 to 1024 characters."""

    password: PasswordText


class TokenIn(ApiModel):
    """Issue an API token; a scope narrows it to one project and/or one role's rights."""

    name: NameText
    expires_at: UtcDatetime | None = None
    scope_project: NameText | None = None
    scope_role: RoleName | None = None


class TokenOut(ApiModel):
    id: str
    name: str
    hint: str
    created_at: UtcDatetime
    created_by: str
    expires_at: UtcDatetime | None
    scope_project_id: str | None
    scope_role: str | None
    revoked_at: UtcDatetime | None

    @classmethod
    def from_domain(cls, token: ApiToken) -> TokenOut:
        return cls(**_token_fields(token))


class IssuedTokenOut(TokenOut):
    """A new token. `token` is the secret: it is shown this once and stored only as a hash."""

    token: str

    @classmethod
    def issued(cls, token: ApiToken, secret: str) -> IssuedTokenOut:
        return cls(**_token_fields(token), token=secret)


def _token_fields(token: ApiToken) -> dict[str, object]:
    scope = token.scope
    return {
        "id": token.id,
        "name": token.name,
        "hint": token.hint,
        "created_at": token.created_at,
        "created_by": token.created_by,
        "expires_at": token.expires_at,
        "scope_project_id": scope.project_id if scope else None,
        "scope_role": scope.role.value if scope and scope.role else None,
        "revoked_at": token.revoked_at,
    }


class LoginIn(ApiModel):
    username: NameText
    password: PasswordText


class LoginOut(ApiModel):
    """The session cookie is set on the response; state-changing requests made with it must
    send `csrf_token` in the `X-CSRF-Token` header."""

    principal: PrincipalOut
    csrf_token: str
    expires_at: UtcDatetime


class CallerOut(ApiModel):
    """Who the server takes the caller to be."""

    actor: str
    kind: str
    principal_id: str | None
    platform_role: str | None
    scope_project_id: str | None
    scope_role: str | None
    via: Literal["token", "session", "local"]

    @classmethod
    def from_domain(cls, caller: Caller) -> CallerOut:
        scope = caller.scope
        via: Literal["token", "session", "local"] = "token"
        if caller.principal_id is None:
            via = "local"
        elif caller.via_session:
            via = "session"
        return cls(
            actor=caller.actor,
            kind=caller.kind.value,
            principal_id=caller.principal_id,
            platform_role=caller.platform_role.value if caller.platform_role else None,
            scope_project_id=scope.project_id if scope else None,
            scope_role=scope.role.value if scope and scope.role else None,
            via=via,
        )


class GrantIn(ApiModel):
    principal: PrincipalText
    role: RoleName


class GrantOut(ApiModel):
    principal: str
    role: str
    granted_at: UtcDatetime
    granted_by: str

    @classmethod
    def from_domain(cls, grant: Grant) -> GrantOut:
        return cls(
            principal=grant.principal,
            role=grant.role.value,
            granted_at=grant.granted_at,
            granted_by=grant.granted_by,
        )
