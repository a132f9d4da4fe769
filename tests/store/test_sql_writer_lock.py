"""Writers of one SQLite file across processes (server workers) queue on a file lock held from
BEGIN IMMEDIATE to COMMIT or ROLLBACK; units of one batch fail alone inside savepoints; the
hot-path statements that bypass SQLAlchemy still surface as SQLAlchemy's errors."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from lockgate.domain.errors import AlreadyExistsError
from lockgate.domain.tracking import Metric
from lockgate.store.sql import SqlMetadataStore, upgrade
from lockgate.store.sql.group_commit import CommitGroup, GroupUnitOfWork
from tests.store.group_units import commit_batch, join_without_waiting
from tests.store.sql_builders import at, make_project, make_run


@pytest.fixture
def path(tmp_path: Path) -> Path:
    database = tmp_path / "writers.db"
    upgrade(f"sqlite:///{database}")
    return database


@pytest.fixture
def store(path: Path) -> Iterator[SqlMetadataStore]:
    built = SqlMetadataStore.from_url(f"sqlite:///{path}")
    yield built
    built.dispose()


def _is_locked_by_a_writer(path: Path) -> bool:
    """Whether another open file description holds the writers' lock (as another process's
    would)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _names(store: SqlMetadataStore) -> list[str]:
    with store.unit_of_work(read_only=True) as uow:
        return [p.name for p in uow.projects.list_page(100, None).items]


def test_the_writers_lock_is_held_from_begin_to_commit(store: SqlMetadataStore, path: Path) -> None:
    assert not _is_locked_by_a_writer(path)
    with store.unit_of_work() as uow:
        assert _is_locked_by_a_writer(path)
        uow.projects.add(make_project("locked"))
        uow.commit()
    assert not _is_locked_by_a_writer(path)
    with store.unit_of_work() as uow:
        uow.projects.add(make_project("dropped"))  # left without commit: rolled back
    assert not _is_locked_by_a_writer(path)
    with store.unit_of_work(read_only=True) as uow:
        assert not _is_locked_by_a_writer(path)  # readers never take it
        uow.projects.list_page(10, None)
    assert _names(store) == ["locked"]


def test_a_failed_unit_releases_the_writers_lock(store: SqlMetadataStore, path: Path) -> None:
    with store.unit_of_work() as uow:
        uow.projects.add(make_project("taken"))
        uow.commit()
    with store.unit_of_work() as uow, pytest.raises(AlreadyExistsError):
        uow.projects.add(make_project("taken"))
    assert not _is_locked_by_a_writer(path)


def test_postgresql_takes_no_file_lock(metadata_store: SqlMetadataStore, dialect: str) -> None:
    group = CommitGroup(metadata_store.engine)
    try:
        assert (group._writers._path is None) == (dialect == "postgresql")
    finally:
        group.close()


def test_units_of_one_batch_fail_alone_in_their_savepoints(store: SqlMetadataStore) -> None:
    group = CommitGroup(store.engine)
    group._waiting = 1  # as if another writer were queued: units batch instead of committing
    try:
        first = GroupUnitOfWork(group)
        with first:
            first.projects.add(make_project("first"))
            batch = join_without_waiting(group, first)
        with GroupUnitOfWork(group) as second:  # fails, and leaves without commit
            second.projects.add(make_project("second"))
            with pytest.raises(AlreadyExistsError):
                second.projects.add(make_project("first"))  # in the batch already
        with GroupUnitOfWork(group) as third:
            third.projects.add(make_project("third"))
            third_batch = join_without_waiting(group, third)
        assert batch is third_batch is not None
        assert batch.members == 2
        commit_batch(group, batch)
        assert _names(store) == ["first", "third"]
    finally:
        group.close()


def test_driver_errors_surface_as_sqlalchemy_errors(store: SqlMetadataStore) -> None:
    ghost = make_run(make_project("nowhere"))
    with store.unit_of_work() as uow, pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
        uow.runs.add_metrics(ghost, [Metric("m", 1.0, 0, at(0))])
