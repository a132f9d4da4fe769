"""The engine factory and unit of work: URLs, SQLite settings, BEGIN IMMEDIATE, statement counts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.tracking import Metric
from lockgate.store.sql import SqlMetadataStore, upgrade
from lockgate.store.sql.engine import create_engine_for, normalize_url
from tests.store.sql_builders import UowFactory, add_run, at


def test_urls_map_to_their_drivers() -> None:
    assert normalize_url("postgresql://u@h:5432/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:////tmp/x.db").drivername == "sqlite+pysqlite"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://h/db", "nonsense"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInputError, match="sqlite:///") as caught:
        normalize_url(url)
    assert caught.value.field == "metadata_url"


def test_sqlite_file_settings(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "lockgate.db"
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 30_000
        assert path.exists()
    finally:
        engine.dispose()


def test_sqlite_durability_is_a_setting(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'n.db'}", sqlite_synchronous="normal")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        engine.dispose()
    with pytest.raises(InvalidInputError) as caught:
        create_engine_for(f"sqlite:///{tmp_path / 'o.db'}", sqlite_synchronous="off")
    assert caught.value.field == "sqlite_synchronous"


def test_a_sqlite_unit_of_work_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "lockgate.db"
    upgrade(f"sqlite:///{path}")
    store = SqlMetadataStore.from_url(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with store.unit_of_work() as uow:
            uow.audit.head()  # a read only: the lock was still taken at BEGIN
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
        store.dispose()


@contextmanager
def _statements(engine: sa.Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("points", [1, 500])
def test_logging_metrics_costs_two_statements_and_one_point_one_on_postgresql(
    metadata_store: SqlMetadataStore, uow_factory: UowFactory, points: int
) -> None:
    run = add_run(uow_factory)
    batch = [Metric(f"m{i % 7}", float(i), i, at(i)) for i in range(points)]
    with uow_factory() as uow, _statements(metadata_store.engine) as seen:
        uow.runs.add_metrics(run, batch)
        uow.commit()
    writes = [s for s in seen if s.lstrip().upper().startswith(("INSERT", "WITH"))]
    # The points, then each key's latest value; one point and its latest value go together in
    # one statement on PostgreSQL.
    together = points == 1 and metadata_store.engine.dialect.name == "postgresql"
    assert len(writes) == (1 if together else 2), seen
    with uow_factory() as uow:
        assert len(uow.runs.detail(run.id).metrics) == min(points, 7)
