"""SqlCredentialRepository: API tokens, login sessions and failed logins (secrets are stored
only as sha256 digests)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from lockgate.domain.access import Role, TokenScope
from lockgate.domain.errors import NotFoundError
from lockgate.domain.identity import Actor
from lockgate.domain.principals import ApiToken, LoginSession
from lockgate.store.sql.codec import from_micros, maybe_from_micros, maybe_micros, to_micros
from lockgate.store.sql.tables import api_tokens, login_failures, login_sessions

__all__ = ["SqlCredentialRepository"]


class SqlCredentialRepository:
    """Tokens in `api_tokens`, sessions in `login_sessions`, failures in `login_failures`.

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add_token(self, token: ApiToken) -> None:
        scope = token.scope or TokenScope()
        self._connection.execute(
            api_tokens.insert(),
            {
                "id": token.id,
                "principal_id": token.principal_id,
                "name": token.name,
                "digest": token.digest,
                "hint": token.hint,
                "created_at": to_micros(token.created_at),
                "created_by": token.created_by,
                "expires_at": maybe_micros(token.expires_at),
                "scope_project_id": scope.project_id,
                "scope_role": scope.role.value if scope.role else None,
                "revoked_at": maybe_micros(token.revoked_at),
            },
        )

    def token_by_digest(self, digest: str) -> ApiToken | None:
        query = sa.select(api_tokens).where(api_tokens.c.digest == digest)
        row = self._connection.execute(query).mappings().first()
        return _token(row) if row is not None else None

    def get_token(self, token_id: str) -> ApiToken:
        query = sa.select(api_tokens).where(api_tokens.c.id == token_id)
        row = self._connection.execute(query).mappings().first()
        if row is None:
            raise NotFoundError(f"token {token_id} does not exist")
        return _token(row)

    def list_tokens(self, principal_id: str) -> list[ApiToken]:
        query = (
            sa.select(api_tokens)
            .where(api_tokens.c.principal_id == principal_id)
            .order_by(api_tokens.c.created_at, api_tokens.c.id)
        )
        return [_token(row) for row in self._connection.execute(query).mappings()]

    def revoke_token(self, token_id: str, at: datetime) -> bool:
        result = self._connection.execute(
            api_tokens.update()
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=to_micros(at))
        )
        return result.rowcount > 0

    def add_session(self, session: LoginSession) -> None:
        self._connection.execute(
            login_sessions.insert(),
            {
                "digest": session.digest,
                "principal_id": session.principal_id,
                "csrf_digest": session.csrf_digest,
                "created_at": to_micros(session.created_at),
                "expires_at": to_micros(session.expires_at),
                "revoked_at": maybe_micros(session.revoked_at),
            },
        )

    def session_by_digest(self, digest: str) -> LoginSession | None:
        query = sa.select(login_sessions).where(login_sessions.c.digest == digest)
        row = self._connection.execute(query).mappings().first()
        if row is None:
            return None
        return LoginSession(
            digest=row["digest"],
            principal_id=row["principal_id"],
            csrf_digest=row["csrf_digest"],
            created_at=from_micros(row["created_at"]),
            expires_at=from_micros(row["expires_at"]),
            revoked_at=maybe_from_micros(row["revoked_at"]),
        )

    def revoke_sessions(
        self, at: datetime, *, digest: str | None = None, principal_id: str | None = None
    ) -> int:
        """End one session (by digest) or every session of a principal."""
        condition: sa.ColumnElement[bool] = login_sessions.c.revoked_at.is_(None)
        if digest is not None:
            condition = sa.and_(condition, login_sessions.c.digest == digest)
        if principal_id is not None:
            condition = sa.and_(condition, login_sessions.c.principal_id == principal_id)
        result = self._connection.execute(
            login_sessions.update().where(condition).values(revoked_at=to_micros(at))
        )
        return result.rowcount

    def add_login_failure(self, username: str, at: datetime) -> None:
        self._connection.execute(
            login_failures.insert(), {"username": username, "failed_at": to_micros(at)}
        )

    def login_failures_since(self, username: str, since: datetime) -> list[datetime]:
        """Failed logins for a user name after `since`, oldest first."""
        query = (
            sa.select(login_failures.c.failed_at)
            .where(
                login_failures.c.username == username,
                login_failures.c.failed_at > to_micros(since),
            )
            .order_by(login_failures.c.failed_at)
        )
        return [from_micros(value) for value in self._connection.execute(query).scalars()]

    def forget_login_failures(self, username: str, *, before: datetime | None = None) -> None:
        """Drop a user name's failures (after a good login), or only those before a time."""
        condition: sa.ColumnElement[bool] = login_failures.c.username == username
        if before is not None:
            condition = sa.and_(condition, login_failures.c.failed_at <= to_micros(before))
        self._connection.execute(login_failures.delete().where(condition))


def _token(row: sa.RowMapping) -> ApiToken:
    scope_role = row["scope_role"]
    scope = None
    if row["scope_project_id"] is not None or scope_role is not None:
        scope = TokenScope(row["scope_project_id"], Role(scope_role) if scope_role else None)
    return ApiToken(
        id=row["id"],
        principal_id=row["principal_id"],
        name=row["name"],
        digest=row["digest"],
        hint=row["hint"],
        created_at=from_micros(row["created_at"]),
        created_by=Actor(row["created_by"]),
        expires_at=maybe_from_micros(row["expires_at"]),
        scope=scope,
        revoked_at=maybe_from_micros(row["revoked_at"]),
    )
