"""SqlProjectRepository: projects by id and by name, listed by name."""

from __future__ import annotations

import sqlalchemy as sa

from lockgate.domain.access import ProjectFilter
from lockgate.domain.errors import NotFoundError
from lockgate.domain.identity import Actor
from lockgate.domain.pagination import Page, decode_cursor
from lockgate.domain.tracking import Project, ProjectId
from lockgate.store.sql.codec import from_micros, page_of, to_micros, translate_integrity
from lockgate.store.sql.grants import visible_projects
from lockgate.store.sql.tables import projects

__all__ = ["SqlProjectRepository"]


class SqlProjectRepository:
    """Projects in the `projects` table.

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add(self, project: Project) -> None:
        row = {
            "id": project.id,
            "name": project.name,
            "description": project.description,
            "created_at": to_micros(project.created_at),
            "created_by": project.created_by,
        }
        with translate_integrity(
            self._connection, duplicate=f"project {project.name!r} already exists", field="name"
        ):
            self._connection.execute(projects.insert(), row)

    def get_by_name(self, name: str) -> Project:
        return self._one(projects.c.name == name, f"project {name!r} does not exist")

    def get(self, project_id: ProjectId) -> Project:
        return self._one(projects.c.id == project_id, f"project {project_id} does not exist")

    def list_page(
        self, page_size: int, cursor: str | None, visible: ProjectFilter | None = None
    ) -> Page[Project]:
        query = (
            sa.select(projects)
            .where(visible_projects(projects.c.id, visible))
            .order_by(projects.c.name)
            .limit(page_size + 1)
        )
        if cursor is not None:
            (after,) = decode_cursor(cursor, arity=1)
            query = query.where(projects.c.name > str(after))
        rows = self._connection.execute(query).all()
        return page_of([_project(row) for row in rows], page_size, lambda p: [p.name])

    def _one(self, condition: sa.ColumnElement[bool], message: str) -> Project:
        row = self._connection.execute(sa.select(projects).where(condition)).one_or_none()
        if row is None:
            raise NotFoundError(message)
        return _project(row)


def _project(row: sa.Row[tuple[object, ...]]) -> Project:
    mapping = row._mapping
    return Project(
        id=ProjectId(mapping["id"]),
        name=mapping["name"],
        description=mapping["description"],
        created_at=from_micros(mapping["created_at"]),
        created_by=Actor(mapping["created_by"]),
    )
