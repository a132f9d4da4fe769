"""SqlPolicyRepository: the versions of each project policy, one row each, in
`project_policies`."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lockgate.domain.errors import AlreadyExistsError, ConflictError, NotFoundError
from lockgate.domain.governance.policies import PolicyStatus, ProjectPolicy, ProjectPolicyId
from lockgate.domain.identity import Actor
from lockgate.domain.pagination import Page, decode_cursor
from lockgate.domain.tracking import ProjectId
from lockgate.store.sql.codec import (
    from_micros,
    maybe_micros,
    page_of,
    to_micros,
    translate_integrity,
)
from lockgate.store.sql.tables import project_policies, projects

__all__ = ["SqlPolicyRepository"]

_policies = project_policies
_MUTABLE_COLUMNS = (
    "status",
    "active_name",
    "reviewed_by",
    "reviewed_at",
    "comment",
    "superseded_at",
    "row_version",
)


class SqlPolicyRepository:
    """Project policies in `project_policies`.

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add_policy(self, policy: ProjectPolicy) -> None:
        try:
            with translate_integrity(
                self._connection,
                duplicate="duplicate policy version",
                missing=f"project {policy.project_id} does not exist",
            ):
                self._connection.execute(_policies.insert(), _row(policy))
        except AlreadyExistsError as exc:
            # Two proposals of one name took the same next version: the later one lost.
            raise ConflictError(
                f"version {policy.version} of policy {policy.name} was proposed at the same "
                "time by someone else; propose again"
            ) from exc

    def get_policy(
        self, project_id: ProjectId, name: str, version: int, *, for_update: bool = False
    ) -> ProjectPolicy:
        query = _query().where(
            _policies.c.project_id == project_id,
            _policies.c.name == name,
            _policies.c.version == version,
        )
        if for_update:
            query = query.with_for_update(of=_policies)
        row = self._connection.execute(query).mappings().first()
        if row is None:
            raise NotFoundError(f"policy {name} has no version {version}")
        return _policy(row)

    def latest_version(self, project_id: ProjectId, name: str) -> int:
        query = sa.select(sa.func.max(_policies.c.version)).where(
            _policies.c.project_id == project_id, _policies.c.name == name
        )
        return int(self._connection.execute(query).scalar_one_or_none() or 0)

    def active_policies(self, project_id: ProjectId) -> list[ProjectPolicy]:
        query = (
            _query()
            .where(
                _policies.c.project_id == project_id,
                _policies.c.status == PolicyStatus.ACTIVE.value,
            )
            .order_by(_policies.c.name)
        )
        return [_policy(row) for row in self._connection.execute(query).mappings()]

    def list_policies(
        self,
        project_id: ProjectId,
        name: str | None,
        status: PolicyStatus | None,
        page_size: int,
        cursor: str | None,
    ) -> Page[ProjectPolicy]:
        query = (
            _query()
            .where(_policies.c.project_id == project_id)
            .order_by(_policies.c.name, _policies.c.version.desc())
            .limit(page_size + 1)
        )
        if name is not None:
            query = query.where(_policies.c.name == name)
        if status is not None:
            query = query.where(_policies.c.status == status.value)
        if cursor is not None:
            query = query.where(_after(cursor))
        items = [_policy(row) for row in self._connection.execute(query).mappings()]
        return page_of(items, page_size, lambda p: [p.name, p.version])

    def save_policy(self, policy: ProjectPolicy) -> None:
        row = _row(policy)
        statement = (
            _policies.update()
            .where(
                _policies.c.id == policy.id,
                _policies.c.row_version == policy.row_version - 1,
            )
            .values({column: row[column] for column in _MUTABLE_COLUMNS})
        )
        try:
            with translate_integrity(self._connection, duplicate="duplicate active policy"):
                updated = self._connection.execute(statement).rowcount
        except AlreadyExistsError as exc:
            # Two versions of one name approved at once: one active version per name.
            raise ConflictError(
                f"another version of policy {policy.name} became active at the same time; "
                "reload it and try again"
            ) from exc
        if updated != 1:
            raise ConflictError(
                f"policy {policy.name} version {policy.version} was changed by someone else; "
                "reload it and try again"
            )


def _query() -> sa.Select[Any]:
    return sa.select(_policies, projects.c.name.label("project_name")).join(
        projects, projects.c.id == _policies.c.project_id
    )


def _after(cursor: str) -> sa.ColumnElement[bool]:
    """Rows after the cursor's in (name, version descending) order."""
    name, version = decode_cursor(cursor, arity=2)
    if not isinstance(name, str) or not isinstance(version, int) or isinstance(version, bool):
        name, version = "", 0
    return sa.or_(
        _policies.c.name > name,
        sa.and_(_policies.c.name == name, _policies.c.version < version),
    )


def _row(policy: ProjectPolicy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "project_id": policy.project_id,
        "name": policy.name,
        "version": policy.version,
        "source": policy.source,
        "sha256": policy.sha256,
        "tests": policy.tests,
        "description": policy.description,
        "status": policy.status.value,
        "active_name": policy.name if policy.status is PolicyStatus.ACTIVE else None,
        "proposed_by": policy.proposed_by,
        "proposed_at": to_micros(policy.proposed_at),
        "reviewed_by": policy.reviewed_by,
        "reviewed_at": maybe_micros(policy.reviewed_at),
        "comment": policy.comment,
        "superseded_at": maybe_micros(policy.superseded_at),
        "row_version": policy.row_version,
    }


def _policy(row: sa.RowMapping) -> ProjectPolicy:
    reviewed_at = row["reviewed_at"]
    superseded_at = row["superseded_at"]
    return ProjectPolicy(
        id=ProjectPolicyId(row["id"]),
        project_id=ProjectId(row["project_id"]),
        project_name=row["project_name"],
        name=row["name"],
        version=row["version"],
        source=row["source"],
        sha256=row["sha256"],
        tests=row["tests"],
        description=row["description"],
        status=PolicyStatus(row["status"]),
        proposed_by=Actor(row["proposed_by"]),
        proposed_at=from_micros(row["proposed_at"]),
        reviewed_by=None if row["reviewed_by"] is None else Actor(row["reviewed_by"]),
        reviewed_at=None if reviewed_at is None else from_micros(reviewed_at),
        comment=row["comment"],
        superseded_at=None if superseded_at is None else from_micros(superseded_at),
        row_version=row["row_version"],
    )
