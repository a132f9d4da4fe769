"""Group commit on SQLite: units share a transaction and an fsync, fail alone, and are
acknowledged only once their batch is durable."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from lockgate.domain.errors import AlreadyExistsError
from lockgate.domain.identity import Actor
from lockgate.store.sql import SqlMetadataStore, upgrade
from lockgate.store.sql.group_commit import CommitGroup
from tests.store.sql_builders import make_project

ALICE = Actor("user:alice")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    url = f"sqlite:///{tmp_path / 'group.db'}"
    upgrade(url)
    built = SqlMetadataStore.from_url(url)
    yield built
    built.dispose()


def _commits(engine: sa.Engine) -> list[int]:
    counted: list[int] = []
    sa.event.listen(engine, "commit", lambda _conn: counted.append(1))
    return counted


def _names(store: SqlMetadataStore) -> list[str]:
    with store.unit_of_work(read_only=True) as uow:
        return [p.name for p in uow.projects.list_page(100, None).items]


def _insert(connection: sa.Connection, name: str) -> None:
    sa_project = make_project(name)
    connection.exec_driver_sql(
        "INSERT INTO projects (id, name, description, created_at, created_by) "
        "VALUES (?, ?, '', 0, 'user:alice')",
        (sa_project.id, name),
    )


def test_units_share_one_commit_and_a_failing_unit_rolls_back_alone(
    store: SqlMetadataStore,
) -> None:
    group = CommitGroup(store.engine)
    commits = _commits(store.engine)
    group._waiting = 1  # as if another writer were queued: units batch instead of committing
    try:
        for name, fails in (("first", False), ("broken", True), ("third", False)):
            connection, _ = group.enter()
            savepoint = connection.begin_nested()
            _insert(connection, name)
            if fails:
                savepoint.rollback()
                assert group.leave(joined=False) is None
            else:
                savepoint.commit()
                batch = group.leave(joined=True)
        assert batch is not None
        assert batch.members == 2
        assert _names(store) == []  # nothing is visible before the batch commits
        group.wait_durable(batch)
        assert commits == [1]
        assert _names(store) == ["first", "third"]
    finally:
        group.close()


def test_a_failed_commit_fails_every_unit_of_the_batch(store: SqlMetadataStore) -> None:
    group = CommitGroup(store.engine)

    def refuse(_connection: sa.Connection) -> None:
        raise OSError("disk full")

    group._waiting = 1  # as if another writer were queued: both units join one batch
    try:
        batches = []
        for name in ("a", "b"):
            connection, _ = group.enter()
            savepoint = connection.begin_nested()
            _insert(connection, name)
            savepoint.commit()
            batches.append(group.leave(joined=True))
        sa.event.listen(store.engine, "commit", refuse)
        for batch in batches:
            assert batch is not None
            with pytest.raises(OSError, match="disk full"):
                group.wait_durable(batch)
        sa.event.remove(store.engine, "commit", refuse)
        assert _names(store) == []
        group._waiting = 0
        # The group recovers: the next unit starts a fresh transaction.
        connection, _ = group.enter()
        savepoint = connection.begin_nested()
        _insert(connection, "after")
        savepoint.commit()
        batch = group.leave(joined=True)
        assert batch is not None
        group.wait_durable(batch)
        assert _names(store) == ["after"]
    finally:
        group.close()


def test_a_lone_unit_commits_inline_without_the_committer(store: SqlMetadataStore) -> None:
    commits = _commits(store.engine)
    with store.unit_of_work() as uow:
        uow.projects.add(make_project("alone"))
        uow.commit()
    assert commits == [1]
    assert _names(store) == ["alone"]
    assert store._group is not None
    assert store._group._committer is None


def test_a_unit_that_writes_nothing_releases_the_write_lock(
    store: SqlMetadataStore, tmp_path: Path
) -> None:
    with store.unit_of_work() as uow:
        uow.projects.add(make_project("dropped"))  # left without commit
    other = sa.create_engine(f"sqlite:///{tmp_path / 'group.db'}")
    try:
        with other.connect() as connection:
            connection.exec_driver_sql("PRAGMA busy_timeout=0")
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # would fail if the lock were held
            connection.exec_driver_sql("ROLLBACK")
    finally:
        other.dispose()
    assert _names(store) == []


def test_concurrent_units_batch_their_fsyncs_and_keep_every_outcome(
    store: SqlMetadataStore,
) -> None:
    commits = _commits(store.engine)

    def create(index: int) -> str:
        name = f"p{index % 30}"  # 60 attempts on 30 names: half must be refused
        try:
            with store.unit_of_work() as uow:
                uow.projects.add(make_project(name))
                uow.commit()
        except AlreadyExistsError:
            return "refused"
        return name

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(create, range(60)))
    created = sorted(o for o in outcomes if o != "refused")
    assert created == sorted(f"p{i}" for i in range(30))
    assert sorted(_names(store)) == created
    assert 1 <= len(commits) <= len(created)  # no COMMIT that no unit asked for
