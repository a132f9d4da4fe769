"""SqlGrantRepository: project roles held by principals, and the grant filter of listings."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from lockgate.domain.access import Grant, ProjectFilter, Role
from lockgate.domain.identity import Actor
from lockgate.store.sql.codec import dialect_insert, from_micros, to_micros
from lockgate.store.sql.tables import grants, principals

__all__ = ["SqlGrantRepository", "visible_projects"]


def visible_projects(
    project_id: sa.ColumnElement[str], visible: ProjectFilter | None
) -> sa.ColumnElement[bool]:
    """The condition that keeps a listing to the projects a caller may see, for use inside
    the listing's own query (so pagination and counts never leak the others)."""
    conditions: list[sa.ColumnElement[bool]] = []
    if visible is None:
        return sa.true()
    if visible.project_id is not None:
        conditions.append(project_id == visible.project_id)
    if visible.grantees is not None:
        held = sa.exists().where(
            grants.c.project_id == project_id,
            grants.c.principal_id.in_(visible.grantees),
        )
        conditions.append(held if visible.grantees else sa.false())
    return sa.and_(sa.true(), *conditions)


class SqlGrantRepository:
    """Grants in the `grants` table.

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add(self, grant: Grant) -> bool:
        # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT.
        inserted = self._connection.execute(
            dialect_insert(self._connection, grants)
            .on_conflict_do_nothing()
            .returning(grants.c.role),
            {
                "project_id": grant.project_id,
                "principal_id": grant.principal_id,
                "role": grant.role.value,
                "granted_at": to_micros(grant.granted_at),
                "granted_by": grant.granted_by,
            },
        ).first()
        return inserted is not None

    def remove(self, project_id: str, principal_id: str, role: Role) -> bool:
        result = self._connection.execute(
            grants.delete().where(
                grants.c.project_id == project_id,
                grants.c.principal_id == principal_id,
                grants.c.role == role.value,
            )
        )
        return result.rowcount > 0

    def roles(self, project_id: str, grantees: Sequence[str]) -> frozenset[Role]:
        if not grantees:
            return frozenset()
        query = sa.select(grants.c.role).where(
            grants.c.project_id == project_id, grants.c.principal_id.in_(grantees)
        )
        return frozenset(Role(role) for role in self._connection.execute(query).scalars())

    def list_for_project(self, project_id: str) -> list[Grant]:
        query = (
            sa.select(grants, principals.c.kind, principals.c.name)
            .join(principals, principals.c.id == grants.c.principal_id)
            .where(grants.c.project_id == project_id)
            .order_by(principals.c.kind, principals.c.name, grants.c.role)
        )
        return [_grant(row) for row in self._connection.execute(query).mappings()]


def _grant(row: sa.RowMapping) -> Grant:
    return Grant(
        project_id=row["project_id"],
        principal_id=row["principal_id"],
        principal=f"{row['kind']}:{row['name']}",
        role=Role(row["role"]),
        granted_at=from_micros(row["granted_at"]),
        granted_by=Actor(row["granted_by"]),
    )
