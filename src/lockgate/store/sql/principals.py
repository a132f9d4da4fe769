"""SqlPrincipalRepository: users, teams and service accounts, and team membership."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lockgate.domain.access import PlatformRole, PrincipalKind
from lockgate.domain.errors import NotFoundError
from lockgate.domain.identity import Actor
from lockgate.domain.pagination import Page, decode_cursor
from lockgate.domain.principals import Principal, PrincipalRef
from lockgate.store.sql.codec import (
    dialect_insert,
    from_micros,
    page_of,
    to_micros,
    translate_integrity,
)
from lockgate.store.sql.tables import principals, team_members

__all__ = ["SqlPrincipalRepository"]


class SqlPrincipalRepository:
    """Principals in the `principals` table, members in `team_members`.

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add(self, principal: Principal, password_hash: str | None) -> None:
        row = {
            "id": principal.id,
            "kind": principal.kind.value,
            "name": principal.name,
            "display_name": principal.display_name,
            "password_hash": password_hash,
            "platform_role": principal.platform_role.value if principal.platform_role else None,
            "disabled": principal.disabled,
            "created_at": to_micros(principal.created_at),
            "created_by": principal.created_by,
        }
        with translate_integrity(
            self._connection, duplicate=f"{principal.ref} already exists", field="name"
        ):
            self._connection.execute(principals.insert(), row)

    def get(self, principal_id: str) -> Principal:
        return self._one(principals.c.id == principal_id, f"principal {principal_id} not found")

    def get_by_ref(self, ref: PrincipalRef) -> Principal:
        condition = sa.and_(principals.c.kind == ref.kind.value, principals.c.name == ref.name)
        return self._one(condition, f"{ref} does not exist")

    def password_hash(self, principal_id: str) -> str | None:
        query = sa.select(principals.c.password_hash).where(principals.c.id == principal_id)
        value = self._connection.execute(query).scalar_one_or_none()
        return str(value) if value is not None else None

    def set_password_hash(self, principal_id: str, password_hash: str | None) -> None:
        self._update(principal_id, password_hash=password_hash)

    def set_platform_role(self, principal_id: str, role: PlatformRole | None) -> None:
        self._update(principal_id, platform_role=role.value if role else None)

    def set_disabled(self, principal_id: str, disabled: bool) -> None:
        self._update(principal_id, disabled=disabled)

    def count_platform_admins(self) -> int:
        query = (
            sa.select(sa.func.count())
            .select_from(principals)
            .where(
                principals.c.platform_role == PlatformRole.ADMIN.value,
                principals.c.disabled.is_(False),
            )
        )
        return int(self._connection.execute(query).scalar_one())

    def list_page(
        self, kind: PrincipalKind | None, page_size: int, cursor: str | None
    ) -> Page[Principal]:
        query = (
            sa.select(principals)
            .order_by(principals.c.kind, principals.c.name)
            .limit(page_size + 1)
        )
        if kind is not None:
            query = query.where(principals.c.kind == kind.value)
        if cursor is not None:
            after_kind, after_name = decode_cursor(cursor, arity=2)
            query = query.where(
                sa.tuple_(principals.c.kind, principals.c.name)
                > sa.tuple_(sa.literal(str(after_kind)), sa.literal(str(after_name)))
            )
        rows = self._connection.execute(query).mappings().all()
        return page_of(
            [_principal(row) for row in rows], page_size, lambda p: [p.kind.value, p.name]
        )

    def add_member(self, team_id: str, member_id: str) -> bool:
        # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT.
        inserted = self._connection.execute(
            dialect_insert(self._connection, team_members)
            .on_conflict_do_nothing()
            .returning(team_members.c.team_id),
            {"team_id": team_id, "member_id": member_id},
        ).first()
        return inserted is not None

    def remove_member(self, team_id: str, member_id: str) -> bool:
        result = self._connection.execute(
            team_members.delete().where(
                team_members.c.team_id == team_id, team_members.c.member_id == member_id
            )
        )
        return result.rowcount > 0

    def teams_of(self, principal_id: str) -> list[str]:
        query = (
            sa.select(team_members.c.team_id)
            .join(principals, principals.c.id == team_members.c.team_id)
            .where(team_members.c.member_id == principal_id, principals.c.disabled.is_(False))
            .order_by(team_members.c.team_id)
        )
        return [str(team_id) for team_id in self._connection.execute(query).scalars()]

    def members_of(self, team_id: str) -> list[Principal]:
        query = (
            sa.select(principals)
            .join(team_members, team_members.c.member_id == principals.c.id)
            .where(team_members.c.team_id == team_id)
            .order_by(principals.c.kind, principals.c.name)
        )
        return [_principal(row) for row in self._connection.execute(query).mappings()]

    def _update(self, principal_id: str, **values: Any) -> None:
        result = self._connection.execute(
            principals.update().where(principals.c.id == principal_id).values(**values)
        )
        if result.rowcount == 0:
            raise NotFoundError(f"principal {principal_id} not found")

    def _one(self, condition: sa.ColumnElement[bool], message: str) -> Principal:
        row = self._connection.execute(sa.select(principals).where(condition)).mappings().first()
        if row is None:
            raise NotFoundError(message)
        return _principal(row)


def _principal(row: sa.RowMapping) -> Principal:
    role = row["platform_role"]
    return Principal(
        id=row["id"],
        kind=PrincipalKind(row["kind"]),
        name=row["name"],
        display_name=row["display_name"],
        created_at=from_micros(row["created_at"]),
        created_by=Actor(row["created_by"]),
        platform_role=PlatformRole(role) if role else None,
        disabled=bool(row["disabled"]),
        has_password=row["password_hash"] is not None,
    )
