"""SqlUnitOfWork: one database transaction and the repositories that work inside it."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

import sqlalchemy as sa

from lockgate.domain.identity import IdFactory
from lockgate.store.protocols import (
    ArtifactIndex,
    AuditLog,
    CredentialRepository,
    DecommissionRepository,
    EnvironmentRepository,
    EvaluationRepository,
    GrantRepository,
    LineageRepository,
    ModelCardRepository,
    ModelRepository,
    PackageRepository,
    PolicyRepository,
    PrincipalRepository,
    ProjectRepository,
    PromotionRepository,
    RunRepository,
)
from lockgate.store.sql.artifacts import SqlArtifactIndex
from lockgate.store.sql.audit import SqlAuditLog
from lockgate.store.sql.credentials import SqlCredentialRepository
from lockgate.store.sql.decommission import SqlDecommissionRepository
from lockgate.store.sql.engine import READ_ONLY_OPTION
from lockgate.store.sql.environments import SqlEnvironmentRepository
from lockgate.store.sql.evaluations import SqlEvaluationRepository
from lockgate.store.sql.grants import SqlGrantRepository
from lockgate.store.sql.lineage import SqlLineageRepository
from lockgate.store.sql.model_cards import SqlModelCardRepository
from lockgate.store.sql.packages import SqlPackageRepository
from lockgate.store.sql.policies import SqlPolicyRepository
from lockgate.store.sql.principals import SqlPrincipalRepository
from lockgate.store.sql.projects import SqlProjectRepository
from lockgate.store.sql.promotions import SqlPromotionRepository
from lockgate.store.sql.registry import SqlModelRepository
from lockgate.store.sql.run_json import PageRenderer
from lockgate.store.sql.runs import SqlRunRepository

__all__ = ["SqlUnitOfWork", "bind_repositories"]


class _Repositories(Protocol):
    projects: ProjectRepository
    runs: RunRepository
    models: ModelRepository
    artifacts: ArtifactIndex
    audit: AuditLog
    principals: PrincipalRepository
    grants: GrantRepository
    credentials: CredentialRepository
    packages: PackageRepository
    evaluations: EvaluationRepository
    environments: EnvironmentRepository
    promotions: PromotionRepository
    model_cards: ModelCardRepository
    decommission: DecommissionRepository
    lineage: LineageRepository
    policies: PolicyRepository


def bind_repositories(
    unit: _Repositories,
    connection: sa.Connection,
    ids: IdFactory | None,
    renderer: PageRenderer | None = None,
) -> None:
    """Give a unit of work its repositories, all working on `connection` (and the search
    page `renderer`, when given)."""
    unit.projects = SqlProjectRepository(connection)
    unit.runs = SqlRunRepository(connection, ids, renderer)
    unit.models = SqlModelRepository(connection)
    unit.artifacts = SqlArtifactIndex(connection)
    unit.audit = SqlAuditLog(connection)
    unit.principals = SqlPrincipalRepository(connection)
    unit.grants = SqlGrantRepository(connection)
    unit.credentials = SqlCredentialRepository(connection)
    unit.packages = SqlPackageRepository(connection)
    unit.evaluations = SqlEvaluationRepository(connection)
    unit.environments = SqlEnvironmentRepository(connection)
    unit.promotions = SqlPromotionRepository(connection)
    unit.model_cards = SqlModelCardRepository(connection)
    unit.decommission = SqlDecommissionRepository(connection)
    unit.lineage = SqlLineageRepository(connection)
    unit.policies = SqlPolicyRepository(connection)


class SqlUnitOfWork:
    """A transaction on one pooled connection (on SQLite it begins with BEGIN IMMEDIATE).

    Use it as a context manager: the repositories exist inside the block, `commit()` makes
    the changes visible, and leaving the block without committing rolls them back.

    Args:
        engine: the engine from `create_engine_for`.
        ids: makes ids the store mints itself (dataset versions); UUIDv7 by default.
        read_only: never takes the write lock; refuses writes on PostgreSQL.
        renderer: renders run search pages (the store's); on this unit's connection alone
            when not given.
    """

    # Typed as the ports: protocol attributes are invariant.
    projects: ProjectRepository
    runs: RunRepository
    models: ModelRepository
    artifacts: ArtifactIndex
    audit: AuditLog
    principals: PrincipalRepository
    grants: GrantRepository
    credentials: CredentialRepository
    packages: PackageRepository
    evaluations: EvaluationRepository
    environments: EnvironmentRepository
    promotions: PromotionRepository
    model_cards: ModelCardRepository
    decommission: DecommissionRepository
    lineage: LineageRepository
    policies: PolicyRepository

    def __init__(
        self,
        engine: sa.Engine,
        ids: IdFactory | None = None,
        *,
        read_only: bool = False,
        renderer: PageRenderer | None = None,
    ) -> None:
        self._engine = engine
        self._ids = ids
        self._renderer = renderer
        self._read_only = read_only
        self._connection: sa.Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        if self._connection is not None:
            raise RuntimeError("a unit of work cannot be entered twice")
        connection = self._engine.connect()
        try:
            if self._read_only:
                connection = connection.execution_options(**{READ_ONLY_OPTION: True})
            connection.begin()
            if self._read_only and connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        bind_repositories(self, connection, self._ids, self._renderer)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if connection.in_transaction():
                connection.rollback()
        finally:
            connection.close()

    def commit(self) -> None:
        """Make every change of this unit visible, atomically. Work after a commit runs in a
        new transaction, which needs its own commit."""
        if self._connection is None:
            raise RuntimeError("commit() outside an open unit of work")
        self._connection.commit()
