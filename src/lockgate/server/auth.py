"""Authentication at the edge: every request is made by someone, or it is refused with 401
before any route, body parsing or validation runs.

Deny by default: only the routes in `PUBLIC_ROUTES` (health, the OpenAPI document and its
viewers, login) answer without credentials, so a new route is protected the moment it is
added. Credentials are `Authorization: Bearer <token>` or the session cookie of a web login;
a cookie-authenticated request that changes state must echo the session's CSRF token in
`X-CSRF-Token`. In local mode (auth off, loopback only) every request is the local user.
What a caller may do is decided later, by the policy point the services call.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from lockgate.domain.access import Caller
from lockgate.domain.errors import UnauthenticatedError
from lockgate.server.guard import send_problem
from lockgate.server.threads import ServerThreads
from lockgate.services import CredentialService

__all__ = ["CSRF_HEADER", "PUBLIC_ROUTES", "SESSION_COOKIE", "Authenticator"]

SESSION_COOKIE = "lockgate_session"
CSRF_HEADER = "x-csrf-token"

PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/api/v1/health"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("GET", "/redoc"),
        ("POST", "/api/v1/auth/login"),
        ("GET", "/login"),
    }
)
"""The reviewed allow-list of routes that answer without credentials (a test holds every
other route of the app to 401 without them)."""

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Authenticator:
    """Pure ASGI middleware that puts the request's `Caller` in `scope["state"]["caller"]`.

    Args:
        credentials: checks tokens and sessions (None in local mode).
        local_caller: the caller of every request in local mode, else None.
        threads: where the credential checks, which read the store, run.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        credentials: CredentialService,
        local_caller: Caller | None,
        threads: ServerThreads,
    ) -> None:
        self.app = app
        self.credentials = credentials
        self.local_caller = local_caller
        self.threads = threads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if self.local_caller is not None:
            state["caller"] = self.local_caller
            await self.app(scope, receive, send)
            return
        public = (scope["method"], scope["path"]) in PUBLIC_ROUTES
        try:
            caller = await self._authenticate(scope)
        except UnauthenticatedError as error:
            if not public:
                await _problem(send, state, 401, "unauthenticated", error.message)
                return
            caller = None
        except _CsrfError as error:
            await _problem(send, state, 403, "permission_denied", str(error))
            return
        if caller is None and not public:
            detail = "send an API token (Authorization: Bearer ...) or sign in"
            await _problem(send, state, 401, "unauthenticated", detail)
            return
        state["caller"] = caller
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> Caller | None:
        headers = _headers(scope)
        authorization = headers.get("authorization")
        if authorization is not None:
            scheme, _, secret = authorization.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise UnauthenticatedError("the Authorization header must be 'Bearer <token>'")
            return await self.threads.run(self.credentials.authenticate_token, secret.strip())
        cookie = _session_cookie(headers.get("cookie"))
        if cookie is None:
            return None
        session = await self.threads.run(self.credentials.authenticate_session, cookie)
        if scope["method"] not in _SAFE_METHODS and not CredentialService.check_csrf(
            session, headers.get(CSRF_HEADER)
        ):
            raise _CsrfError("a signed-in request that changes state needs the X-CSRF-Token")
        return session.caller


class _CsrfError(Exception):
    pass


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def _session_cookie(header: str | None) -> str | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


async def _problem(
    send: Send, state: dict[str, object], status: int, code: str, detail: str
) -> None:
    request_id = state.get("request_id")
    challenge = [(b"www-authenticate", b'Bearer realm="lockgate"')] if status == 401 else []
    await send_problem(
        send,
        request_id if isinstance(request_id, str) else None,
        status,
        code,
        detail,
        headers=challenge,
    )
