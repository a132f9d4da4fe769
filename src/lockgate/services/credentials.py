"""Credential use cases: API tokens, web logins and sessions, authentication of a request,
and bootstrapping the first platform admin.

Every failure to authenticate says the same thing ("unknown, expired or revoked"), so a
caller learns nothing about which tokens exist. Password checks run outside any write
transaction: argon2 is slow on purpose and must not hold the database's write lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from lockgate.domain.access import (
    Caller,
    Permission,
    PlatformRole,
    PrincipalKind,
    Role,
    TokenScope,
)
from lockgate.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    UnauthenticatedError,
)
from lockgate.domain.identity import Actor, check_id
from lockgate.domain.names import check_name
from lockgate.domain.principals import (
    TOKEN_PREFIX,
    ApiToken,
    LoginSession,
    PasswordHasher,
    Principal,
    PrincipalRef,
    check_password,
    digest_secret,
    new_secret,
    same_secret,
)
from lockgate.services.context import ServiceContext
from lockgate.store.protocols import UnitOfWork

__all__ = ["CredentialService", "IssuedSession", "IssuedToken", "LoginPolicy", "SessionCaller"]

MAX_SECRET_LENGTH = 512
MIN_BOOTSTRAP_SECRET = 32
_BOOTSTRAP_ACTOR = Actor("system:bootstrap")
_REFUSED = "the credentials are unknown, expired or revoked"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token; `secret` exists only in this object and is shown once."""

    token: ApiToken
    secret: str


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A new web session: the cookie value and the CSRF token, each shown once."""

    principal: Principal
    secret: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SessionCaller:
    """The caller behind a session cookie and the digest its CSRF header must match."""

    caller: Caller
    csrf_digest: str


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """How long sessions last and how many failed logins a user name may have in a window."""

    session_ttl: timedelta = timedelta(hours=8)
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)


class CredentialService:
    """Tokens, sessions, logins and the authentication of every request."""

    def __init__(
        self, context: ServiceContext, hasher: PasswordHasher, policy: LoginPolicy
    ) -> None:
        self._ctx = context
        self._hasher = hasher
        self._policy = policy
        self._decoy: str | None = None

    # -- authentication -------------------------------------------------------------------

    def authenticate_token(self, secret: str) -> Caller:
        """The caller an API token stands for; UnauthenticatedError when it is unknown,
        expired, revoked or its principal is disabled."""
        if not 0 < len(secret) <= MAX_SECRET_LENGTH:
            raise UnauthenticatedError(_REFUSED)
        with self._ctx.uow(read_only=True) as uow:
            token = uow.credentials.token_by_digest(digest_secret(secret))
            if token is None or not token.usable_at(self._ctx.clock.now()):
                raise UnauthenticatedError(_REFUSED)
            return self._caller(uow, token.principal_id, token.scope, via_session=False)

    def authenticate_session(self, secret: str) -> SessionCaller:
        """The caller behind a session cookie."""
        if not 0 < len(secret) <= MAX_SECRET_LENGTH:
            raise UnauthenticatedError(_REFUSED)
        with self._ctx.uow(read_only=True) as uow:
            session = uow.credentials.session_by_digest(digest_secret(secret))
            if session is None or not session.usable_at(self._ctx.clock.now()):
                raise UnauthenticatedError(_REFUSED)
            caller = self._caller(uow, session.principal_id, None, via_session=True)
            return SessionCaller(caller, session.csrf_digest)

    @staticmethod
    def check_csrf(session: SessionCaller, token: str | None) -> bool:
        """Whether a request's X-CSRF-Token matches its session's."""
        return token is not None and same_secret(token, session.csrf_digest)

    def login(self, username: str, password: str) -> IssuedSession:
        """Check a user's password and open a session. After `max_failures` failures in the
        window the name is locked for the rest of the window (RateLimitedError)."""
        check_name(username, field="username")
        if not 0 < len(password) <= 1024:
            raise InvalidInputError("a password has 1 to 1024 characters", field="password")
        ref = PrincipalRef(PrincipalKind.USER, username)
        now = self._ctx.clock.now()
        with self._ctx.uow(read_only=True) as uow:
            self._check_rate(uow, username, now)
            principal, stored = self._user_and_hash(uow, ref)
        good = self._hasher.verify(stored or self._decoy_hash(), password)
        if not good or principal is None or stored is None or principal.disabled:
            with self._ctx.uow() as uow:
                uow.credentials.add_login_failure(username, now)
                uow.credentials.forget_login_failures(username, before=now - self._policy.window)
                self._ctx.record(uow, "auth.login_failed", Actor(str(ref)), ("principal", str(ref)))
                uow.commit()
            raise UnauthenticatedError("wrong user name or password")
        secret, csrf = new_secret(), new_secret()
        session = LoginSession(
            digest_secret(secret),
            principal.id,
            digest_secret(csrf),
            now,
            now + self._policy.session_ttl,
        )
        with self._ctx.uow() as uow:
            uow.credentials.add_session(session)
            uow.credentials.forget_login_failures(username)
            self._ctx.record(uow, "auth.login", principal.actor, ("principal", str(ref)))
            uow.commit()
        return IssuedSession(principal, secret, csrf, session.expires_at)

    def logout(self, caller: Caller, session_secret: str) -> None:
        """End the session behind a cookie."""
        with self._ctx.uow() as uow:
            ended = uow.credentials.revoke_sessions(
                self._ctx.clock.now(), digest=digest_secret(session_secret)
            )
            if ended:
                self._ctx.record(uow, "auth.logout", caller, ("principal", caller.actor))
                uow.commit()

    # -- passwords and tokens --------------------------------------------------------------

    def set_password(self, caller: Caller, ref: str, password: str) -> None:
        """Set a user's password (oneself, or anyone for platform admins); every open
        session of the user ends."""
        check_password(password)
        parsed = PrincipalRef.parse(ref)
        if parsed.kind is not PrincipalKind.USER:
            raise InvalidInputError("only users have passwords", field="principal")
        with self._ctx.uow(read_only=True) as uow:
            # Refuse before the deliberately slow password hash, not after it.
            self._credentials_of(uow, caller, parsed)
        password_hash = self._hasher.hash(password)
        with self._ctx.uow() as uow:
            principal = self._credentials_of(uow, caller, parsed)
            uow.principals.set_password_hash(principal.id, password_hash)
            uow.credentials.revoke_sessions(self._ctx.clock.now(), principal_id=principal.id)
            self._ctx.record(uow, "principal.password_set", caller, ("principal", str(parsed)))
            uow.commit()

    def issue_token(
        self,
        caller: Caller,
        ref: str,
        name: str,
        *,
        expires_at: datetime | None = None,
        scope_project: str | None = None,
        scope_role: Role | None = None,
    ) -> IssuedToken:
        """Issue an API token for oneself (or anyone, for platform admins). A scope narrows
        what the token may do to one project and/or one role's permissions."""
        ApiToken.check_name(name)
        parsed = PrincipalRef.parse(ref)
        if parsed.kind is PrincipalKind.TEAM:
            raise InvalidInputError("teams cannot hold tokens", field="principal")
        now = self._ctx.clock.now()
        if expires_at is not None and expires_at <= now:
            raise InvalidInputError("expires_at must be in the future", field="expires_at")
        with self._ctx.uow() as uow:
            principal = self._credentials_of(uow, caller, parsed)
            scope = None
            if scope_project is not None or scope_role is not None:
                project_id = uow.projects.get_by_name(scope_project).id if scope_project else None
                scope = TokenScope(project_id, scope_role)
            issued = self._new_token(principal, name, caller.actor, now, expires_at, scope)
            uow.credentials.add_token(issued.token)
            self._ctx.record(
                uow,
                "token.issued",
                caller,
                ("principal", str(parsed)),
                {
                    "token_id": issued.token.id,
                    "name": name,
                    "expires_at": expires_at.isoformat() if expires_at else None,
                    "scope_project": scope_project,
                    "scope_role": scope_role.value if scope_role else None,
                },
            )
            uow.commit()
        return issued

    def list_tokens(self, caller: Caller, ref: str) -> list[ApiToken]:
        """A principal's tokens (never their secrets)."""
        parsed = PrincipalRef.parse(ref)
        with self._ctx.uow(read_only=True) as uow:
            principal = self._credentials_of(uow, caller, parsed)
            return uow.credentials.list_tokens(principal.id)

    def revoke_token(self, caller: Caller, token_id: str) -> ApiToken:
        """Revoke a token at once; revoking twice is a no-op."""
        check_id(token_id, field="token_id")
        with self._ctx.uow() as uow:
            token = uow.credentials.get_token(token_id)
            owner = uow.principals.get(token.principal_id)
            self._authorize_credentials(uow, caller, owner)
            if uow.credentials.revoke_token(token.id, self._ctx.clock.now()):
                self._ctx.record(
                    uow,
                    "token.revoked",
                    caller,
                    ("principal", str(owner.ref)),
                    {"token_id": token.id, "name": token.name},
                )
            revoked = uow.credentials.get_token(token.id)
            uow.commit()
        return revoked

    # -- bootstrap --------------------------------------------------------------------------

    def bootstrap_admin(self, username: str, *, secret: str | None = None) -> IssuedToken:
        """Create the first platform admin and a token for it. Refused once any platform
        admin exists: there are no default credentials, and no second way in."""
        check_name(username, field="username")
        if secret is not None and len(secret) < MIN_BOOTSTRAP_SECRET:
            raise InvalidInputError(
                f"the bootstrap token needs at least {MIN_BOOTSTRAP_SECRET} characters",
                field="bootstrap_token",
            )
        now = self._ctx.clock.now()
        with self._ctx.uow() as uow:
            if uow.principals.count_platform_admins() > 0:
                raise ConflictError("a platform admin exists already; sign in as them")
            principal = self._bootstrap_user(uow, username, now)
            issued = self._new_token(principal, "bootstrap", _BOOTSTRAP_ACTOR, now, None, None)
            if secret is not None:
                issued = IssuedToken(
                    _with_digest(issued.token, digest_secret(secret), secret), secret
                )
            uow.credentials.add_token(issued.token)
            self._ctx.record(
                uow,
                "identity.bootstrapped",
                _BOOTSTRAP_ACTOR,
                ("principal", str(principal.ref)),
                {"token_id": issued.token.id},
            )
            uow.commit()
        return issued

    def has_platform_admin(self) -> bool:
        with self._ctx.uow(read_only=True) as uow:
            return uow.principals.count_platform_admins() > 0

    # -- helpers ----------------------------------------------------------------------------

    def _decoy_hash(self) -> str:
        # Verified when the user does not exist, so that a login for an unknown name takes
        # as long as one with a wrong password.
        if self._decoy is None:
            self._decoy = self._hasher.hash(new_secret())
        return self._decoy

    def _caller(
        self, uow: UnitOfWork, principal_id: str, scope: TokenScope | None, *, via_session: bool
    ) -> Caller:
        principal = uow.principals.get(principal_id)
        if principal.disabled or principal.kind is PrincipalKind.TEAM:
            raise UnauthenticatedError(_REFUSED)
        teams = uow.principals.teams_of(principal.id)
        return Caller(
            principal.actor,
            principal.kind,
            principal.id,
            principal.platform_role,
            (principal.id, *teams),
            scope,
            via_session=via_session,
        )

    def _check_rate(self, uow: UnitOfWork, username: str, now: datetime) -> None:
        failures = uow.credentials.login_failures_since(username, now - self._policy.window)
        if len(failures) >= self._policy.max_failures:
            unlock = failures[-self._policy.max_failures] + self._policy.window
            wait = max(1, int((unlock - now).total_seconds()) + 1)
            raise RateLimitedError(
                f"too many failed logins for {username}; try again in {wait} s",
                retry_after=wait,
                field="username",
            )

    @staticmethod
    def _user_and_hash(uow: UnitOfWork, ref: PrincipalRef) -> tuple[Principal | None, str | None]:
        try:
            principal = uow.principals.get_by_ref(ref)
        except NotFoundError:
            return None, None
        return principal, uow.principals.password_hash(principal.id)

    def _credentials_of(self, uow: UnitOfWork, caller: Caller, ref: PrincipalRef) -> Principal:
        if str(ref) != caller.actor:
            # Someone else's: decided before the lookup, so a refusal says nothing about
            # who exists (only platform admins get past it).
            self._ctx.authorize(
                uow, caller, Permission.CREDENTIALS_MANAGE, subject=("principal", str(ref))
            )
            return uow.principals.get_by_ref(ref)
        principal = uow.principals.get_by_ref(ref)
        self._authorize_credentials(uow, caller, principal)
        return principal

    def _authorize_credentials(self, uow: UnitOfWork, caller: Caller, owner: Principal) -> None:
        self._ctx.authorize(
            uow,
            caller,
            Permission.CREDENTIALS_MANAGE,
            principal_id=owner.id,
            subject=("principal", str(owner.ref)),
        )

    def _new_token(
        self,
        principal: Principal,
        name: str,
        actor: Actor,
        now: datetime,
        expires_at: datetime | None,
        scope: TokenScope | None,
    ) -> IssuedToken:
        secret = new_secret(TOKEN_PREFIX)
        token = ApiToken(
            self._ctx.ids.new_id(),
            principal.id,
            name,
            digest_secret(secret),
            secret[: len(TOKEN_PREFIX) + 4],
            now,
            actor,
            expires_at,
            scope,
        )
        return IssuedToken(token, secret)

    def _bootstrap_user(self, uow: UnitOfWork, username: str, now: datetime) -> Principal:
        ref = PrincipalRef(PrincipalKind.USER, username)
        try:
            existing = uow.principals.get_by_ref(ref)
        except NotFoundError:
            principal = Principal(
                self._ctx.ids.new_id(),
                PrincipalKind.USER,
                username,
                username,
                now,
                _BOOTSTRAP_ACTOR,
                platform_role=PlatformRole.ADMIN,
            )
            uow.principals.add(principal, None)
            return principal
        uow.principals.set_platform_role(existing.id, PlatformRole.ADMIN)
        uow.principals.set_disabled(existing.id, False)
        return uow.principals.get(existing.id)


def _with_digest(token: ApiToken, digest: str, secret: str) -> ApiToken:
    return ApiToken(
        token.id,
        token.principal_id,
        token.name,
        digest,
        secret[:8],
        token.created_at,
        token.created_by,
        token.expires_at,
        token.scope,
    )
