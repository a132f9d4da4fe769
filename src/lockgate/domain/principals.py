"""Principals and their credentials: users, teams, service accounts, API tokens and login
sessions.

Secrets (tokens, session ids, CSRF tokens) are random, shown once and stored only as their
sha256: they carry 256 bits of entropy, so a fast hash is enough and a lookup by hash is
safe. Passwords are low-entropy and go through a slow hash (argon2) behind `PasswordHasher`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lockgate.domain.access import PlatformRole, PrincipalKind, Role, TokenScope
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.identity import Actor
from lockgate.domain.names import check_name, check_text

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "TOKEN_PREFIX",
    "ApiToken",
    "LoginSession",
    "PasswordHasher",
    "Principal",
    "PrincipalRef",
    "check_password",
    "check_scope_role",
    "digest_secret",
    "new_secret",
    "same_secret",
]

TOKEN_PREFIX = "lgt_"
"""Every API token starts with this, so secret scanners can recognise a leaked one."""

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
_ACTING_KINDS = (PrincipalKind.USER, PrincipalKind.SERVICE_ACCOUNT, PrincipalKind.TEAM)


def new_secret(prefix: str = "") -> str:
    """A fresh random secret of 256 bits, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def digest_secret(secret: str) -> str:
    """The only form in which a token, session id or CSRF token is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_secret(secret: str, digest: str) -> bool:
    """Constant-time check of a secret against a stored digest."""
    return hmac.compare_digest(digest_secret(secret), digest)


@dataclass(frozen=True, slots=True)
class PrincipalRef:
    """A principal as people name it: `user:alice`, `sa:ci-bot` or `team:ml`."""

    kind: PrincipalKind
    name: str

    @classmethod
    def parse(cls, text: str, *, field: str = "principal") -> PrincipalRef:
        kind, sep, name = text.partition(":")
        kinds = {k.value: k for k in _ACTING_KINDS}
        if not sep or kind not in kinds:
            raise InvalidInputError(
                f"principal {text!r} must be user:NAME, sa:NAME or team:NAME", field=field
            )
        check_name(name, field=field)
        return cls(kinds[kind], name)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"


@dataclass(frozen=True, slots=True)
class Principal:
    """A user, a team or a service account."""

    id: str
    kind: PrincipalKind
    name: str
    display_name: str
    created_at: datetime
    created_by: Actor
    platform_role: PlatformRole | None = None
    disabled: bool = False
    has_password: bool = False

    @property
    def ref(self) -> PrincipalRef:
        return PrincipalRef(self.kind, self.name)

    @property
    def actor(self) -> Actor:
        return Actor(str(self.ref))

    @staticmethod
    def check(kind: PrincipalKind, name: str, display_name: str) -> None:
        if kind not in _ACTING_KINDS:
            raise InvalidInputError(f"cannot create a {kind} principal", field="kind")
        check_name(name, field="name")
        check_text(display_name, field="display_name", max_length=256)


def check_password(password: str) -> str:
    """Length is the rule that matters (NIST SP 800-63B): at least 12 characters."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInputError(
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters",
            field="password",
        )
    return password


class PasswordHasher(Protocol):
    """A slow, salted password hash (argon2id in production)."""

    def hash(self, password: str) -> str: ...

    def verify(self, stored: str, password: str) -> bool:
        """Whether `password` matches; never raises for a mismatch."""


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token as stored: never the secret, only its digest."""

    id: str
    principal_id: str
    name: str
    digest: str
    hint: str
    created_at: datetime
    created_by: Actor
    expires_at: datetime | None = None
    scope: TokenScope | None = None
    revoked_at: datetime | None = None

    def usable_at(self, moment: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or moment < self.expires_at

    @staticmethod
    def check_name(name: str) -> None:
        check_name(name, field="name")


@dataclass(frozen=True, slots=True)
class LoginSession:
    """A web login: the cookie holds the secret, the store its digest and the digest of the
    CSRF token that state-changing requests must echo in `X-CSRF-Token`."""

    digest: str
    principal_id: str
    csrf_digest: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def usable_at(self, moment: datetime) -> bool:
        return self.revoked_at is None and moment < self.expires_at


def check_scope_role(role: str | None) -> Role | None:
    """A scope role from the wire."""
    if role is None:
        return None
    try:
        return Role(role)
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInputError(f"role must be one of {allowed}", field="scope_role") from exc
