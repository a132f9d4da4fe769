"""SqlMetadataStore: the facade the composition root builds from a metadata URL."""

from __future__ import annotations

import sqlalchemy as sa

from lockgate.domain.identity import IdFactory
from lockgate.store.sql.engine import create_engine_for
from lockgate.store.sql.group_commit import CommitGroup, GroupUnitOfWork
from lockgate.store.sql.run_json import PageRenderer
from lockgate.store.sql.schema import check_schema_current
from lockgate.store.sql.unit_of_work import SqlUnitOfWork

__all__ = ["SqlMetadataStore"]


class SqlMetadataStore:
    """One engine and the units of work over it.

    Build it with `from_url`, call `check_schema_current()` before serving, hand
    `unit_of_work` to the services as their factory, and `dispose()` at shutdown.

    Args:
        engine: the engine from `create_engine_for`.
        ids: makes ids the store mints itself; UUIDv7 by default.
    """

    def __init__(self, engine: sa.Engine, ids: IdFactory | None = None) -> None:
        self.engine = engine
        self._ids = ids
        # Writers are serialized anyway (SQLite's write lock; the audit chain head's row lock
        # on PostgreSQL): let them share transactions and fsyncs.
        self._group: CommitGroup | None = CommitGroup(engine)
        self._renderer = PageRenderer(engine)

    @classmethod
    def from_url(
        cls, url: str, ids: IdFactory | None = None, *, sqlite_synchronous: str = "full"
    ) -> SqlMetadataStore:
        """A store over a new engine for `sqlite:///PATH` or `postgresql://...`."""
        return cls(create_engine_for(url, sqlite_synchronous=sqlite_synchronous), ids)

    def check_schema_current(self) -> None:
        """Raise SchemaOutdatedError unless the schema is at head (run `lockgate db upgrade`)."""
        check_schema_current(self.engine)

    def unit_of_work(self, *, read_only: bool = False) -> SqlUnitOfWork | GroupUnitOfWork:
        """A new unit of work (enter it with `with`); a read-only one never takes the write
        lock and refuses writes on PostgreSQL. Writers commit in groups."""
        if self._group is not None and not read_only:
            return GroupUnitOfWork(self._group, self._ids)
        return SqlUnitOfWork(self.engine, self._ids, read_only=read_only, renderer=self._renderer)

    def dispose(self) -> None:
        """Close every pooled connection."""
        if self._group is not None:
            self._group.close()
        self._renderer.close()
        self.engine.dispose()
