"""Identity resources of the SDK: who the caller is, principals, teams, API tokens and
project grants.

Principals are named as people write them, `kind:name`: `user:alice`, `sa:ci-bot`,
`team:ml`. Managing principals and other people's tokens needs the `platform_admin` role;
anyone may manage their own tokens and password.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel

from lockgate.api import PageOut
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
    TokenIn,
    TokenOut,
)
from lockgate.sdk.http import HttpSession, paginate, segment
from lockgate.sdk.http import request_body as _body

__all__ = ["Auth", "Grants", "Principals", "Teams", "Tokens"]

ModelT = TypeVar("ModelT", bound=BaseModel)


class Auth:
    """The caller's own identity and web sessions (`client.auth`)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http
        self._csrf_token: str | None = None

    def whoami(self) -> CallerOut:
        """Who the server takes this client to be (`actor` is `kind:name`), its platform
        role, the token's scope, and `via` (`token`, `session` or `local` when auth is off).

        Raises:
            UnauthenticatedError: The token is missing, unknown, expired or revoked.
        """
        return self._http.call("GET", "/auth/whoami", CallerOut)

    def login(self, username: str, password: str) -> LoginOut:
        """Sign in as a user with a password, as the web UI does. The server answers with a
        session cookie and the CSRF token (`csrf_token`) that state-changing requests made
        with the cookie must send in `X-CSRF-Token`. The client then reads with the
        session, and `logout()` sends the CSRF token; scripts should use API tokens instead.

        Raises:
            UnauthenticatedError: Wrong user name or password.
            RateLimitedError: Too many failed logins for this user name; try again later.
        """
        body = _body(LoginIn, username=username, password=password)
        signed_in = self._http.call("POST", "/auth/login", LoginOut, body=body)
        self._csrf_token = signed_in.csrf_token
        return signed_in

    def logout(self) -> None:
        """End the web session this client signed in with (a no-op for token callers)."""
        headers = {"X-CSRF-Token": self._csrf_token} if self._csrf_token else None
        self._http.request("POST", "/auth/logout", headers=headers)
        self._csrf_token = None


class Principals:
    """Users, service accounts and teams (`client.principals`; platform admins)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def create_user(
        self,
        name: str,
        *,
        display_name: str = "",
        password: str | None = None,
        platform_role: str | None = None,
    ) -> PrincipalOut:
        """Create a user. Without a password the user signs in with API tokens only.

        Raises:
            AlreadyExistsError: `user:NAME` exists already.
            InvalidInputError: A rule is broken, e.g. a password under 12 characters.
        """
        return self._create("user", name, display_name, password, platform_role)

    def create_service_account(
        self,
        name: str,
        *,
        display_name: str = "",
        platform_role: str | None = None,
    ) -> PrincipalOut:
        """Create a service account (`sa:NAME`): a machine identity that acts with API
        tokens only."""
        return self._create("sa", name, display_name, None, platform_role)

    def create_team(self, name: str, *, display_name: str = "") -> PrincipalOut:
        """Create a team (`team:NAME`): it holds project grants for its members and never
        acts itself."""
        return self._create("team", name, display_name, None, None)

    def _create(
        self,
        kind: str,
        name: str,
        display_name: str,
        password: str | None,
        platform_role: str | None,
    ) -> PrincipalOut:
        body = _body(
            PrincipalIn,
            kind=kind,
            name=name,
            display_name=display_name,
            password=password,
            platform_role=platform_role,
        )
        return self._http.call("POST", "/principals", PrincipalOut, body=body)

    def list(self, *, kind: str | None = None, page_size: int = 100) -> Iterator[PrincipalOut]:
        """Every principal (of one kind: `user`, `sa` or `team`, if given) by kind and name,
        fetched page by page as the iterator advances."""

        def fetch(token: str | None) -> PageOut[PrincipalOut]:
            params = {"kind": kind, "page_size": page_size, "page_token": token}
            return self._http.call("GET", "/principals", PageOut[PrincipalOut], params=params)

        return paginate(fetch)

    def get(self, principal: str) -> PrincipalOut:
        """One principal by `kind:name` (anyone may read themselves); raises NotFoundError."""
        return self._http.call("GET", f"/principals/{segment(principal)}", PrincipalOut)

    def set_platform_role(self, principal: str, role: str | None) -> PrincipalOut:
        """Give a platform role (`platform_admin` or `auditor`), or take it away with None.

        Raises:
            ConflictError: It would demote the last platform admin.
        """
        path = f"/principals/{segment(principal)}/platform-role"
        return self._http.call("PUT", path, PrincipalOut, body=_body(PlatformRoleIn, role=role))

    def disable(self, principal: str) -> PrincipalOut:
        """Disable a principal: its tokens and sessions stop working at once.

        Raises:
            ConflictError: It is the last platform admin.
        """
        return self._set_disabled(principal, True)

    def enable(self, principal: str) -> PrincipalOut:
        """Enable a disabled principal; its unrevoked, unexpired tokens work again."""
        return self._set_disabled(principal, False)

    def _set_disabled(self, principal: str, disabled: bool) -> PrincipalOut:
        path = f"/principals/{segment(principal)}/state"
        body = _body(PrincipalStateIn, disabled=disabled)
        return self._http.call("PUT", path, PrincipalOut, body=body)

    def set_password(self, principal: str, password: str) -> None:
        """Set a user's password (one's own, or anyone's for platform admins); every open
        web session of the user ends."""
        path = f"/principals/{segment(principal)}/password"
        self._http.request("PUT", path, body=_body(PasswordIn, password=password))


class Teams:
    """Team membership (`client.teams`; platform admins). A team is named `team:NAME` or
    just `NAME`; members are `user:NAME` or `sa:NAME` (teams do not nest)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def add_member(self, team: str, member: str) -> None:
        """Add a user or service account to a team (a no-op when it is a member already)."""
        self._http.request("PUT", _member_path(team, member))

    def remove_member(self, team: str, member: str) -> None:
        """Remove a member from a team (a no-op when it is not a member)."""
        self._http.request("DELETE", _member_path(team, member))

    def members(self, team: str) -> builtins.list[PrincipalOut]:
        """The members of a team."""
        path = f"/teams/{segment(_team_ref(team))}/members"
        return self._http.call_list(path, PrincipalOut)


def _team_ref(team: str) -> str:
    return team if ":" in team else f"team:{team}"


def _member_path(team: str, member: str) -> str:
    return f"/teams/{segment(_team_ref(team))}/members/{segment(member)}"


class Tokens:
    """API tokens (`client.tokens`): one's own, or anyone's for platform admins. Without
    `principal` every method acts on the caller's own tokens."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def issue(
        self,
        name: str,
        *,
        principal: str | None = None,
        expires_at: datetime | None = None,
        project: str | None = None,
        role: str | None = None,
    ) -> IssuedTokenOut:
        """Issue an API token. The secret is `token` of the result: it is shown this once
        and stored only as a hash.

        Args:
            name: What the token is for, e.g. `ci`.
            principal: Whose token it is (`user:NAME` or `sa:NAME`); default the caller.
            expires_at: When it stops working (timezone-aware, in the future); default never.
            project: Scope the token to this project: it can reach no other.
            role: Scope the token to this role's permissions (e.g. `viewer` for a
                read-only token), whatever its principal holds.

        Raises:
            InvalidInputError: `expires_at` is naive or in the past (`field` names it).
            PermissionDeniedError: Another principal's token without platform admin, or
                any token from a scoped token.
        """
        body = _body(
            TokenIn, name=name, expires_at=expires_at, scope_project=project, scope_role=role
        )
        path = f"/principals/{segment(self._owner(principal))}/tokens"
        return self._http.call("POST", path, IssuedTokenOut, body=body)

    def list(self, *, principal: str | None = None) -> builtins.list[TokenOut]:
        """A principal's tokens (never their secrets), revoked ones included."""
        path = f"/principals/{segment(self._owner(principal))}/tokens"
        return self._http.call_list(path, TokenOut)

    def revoke(self, token_id: str) -> TokenOut:
        """Revoke a token at once; revoking twice is a no-op. Returns it with `revoked_at`."""
        return self._http.call("DELETE", f"/tokens/{segment(token_id)}", TokenOut)

    def _owner(self, principal: str | None) -> str:
        if principal is not None:
            return principal
        return self._http.call("GET", "/auth/whoami", CallerOut).actor


class Grants:
    """Project roles held by users, service accounts and teams (`client.grants`)."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def list(self, project: str) -> builtins.list[GrantOut]:
        """Who holds which role on a project (anyone who can read the project)."""
        return self._http.call_list(f"/projects/{segment(project)}/grants", GrantOut)

    def add(self, project: str, principal: str, role: str) -> GrantOut:
        """Give a principal (`user:`, `sa:` or `team:NAME`) a role on a project (project
        admins); granting a role held already is a no-op."""
        path = f"/projects/{segment(project)}/grants"
        body = _body(GrantIn, principal=principal, role=role)
        return self._http.call("PUT", path, GrantOut, body=body)

    def remove(self, project: str, principal: str, role: str) -> None:
        """Take a role on a project away (project admins).

        Raises:
            NotFoundError: The principal did not hold that role there.
        """
        path = f"/projects/{segment(project)}/grants/{segment(principal)}/{segment(role)}"
        self._http.request("DELETE", path)
