"""The SQL metadata store (SQLite and PostgreSQL, SQLAlchemy Core) and its Alembic migrations."""

from __future__ import annotations

from lockgate.store.sql.engine import create_engine_for
from lockgate.store.sql.metadata_store import SqlMetadataStore
from lockgate.store.sql.schema import check_schema_current, current_revision, upgrade
from lockgate.store.sql.unit_of_work import SqlUnitOfWork

__all__ = [
    "SqlMetadataStore",
    "SqlUnitOfWork",
    "check_schema_current",
    "create_engine_for",
    "current_revision",
    "upgrade",
]
