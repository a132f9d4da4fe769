"""Units of work: commit or nothing, and read-only units that never wait for writers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lockgate.domain.errors import NotFoundError
from lockgate.store.sql import SqlMetadataStore
from tests.store.sql_builders import make_project


def test_leaving_without_commit_rolls_back(metadata_store: SqlMetadataStore) -> None:
    with metadata_store.unit_of_work() as uow:
        uow.projects.add(make_project("gone"))
    with metadata_store.unit_of_work(read_only=True) as uow, pytest.raises(NotFoundError):
        uow.projects.get_by_name("gone")


def test_a_reader_sees_a_snapshot_while_a_writer_holds_the_lock(
    metadata_store: SqlMetadataStore,
) -> None:
    with metadata_store.unit_of_work() as writer:
        writer.projects.add(make_project("pending"))
        # The writer holds its transaction open; a reader must neither block nor see it.
        with metadata_store.unit_of_work(read_only=True) as reader:
            assert reader.projects.list_page(10, None).items == []
        writer.commit()
    with metadata_store.unit_of_work(read_only=True) as reader:
        assert [p.name for p in reader.projects.list_page(10, None).items] == ["pending"]


def test_a_reader_does_not_hold_up_a_writer_and_cannot_write(
    metadata_store: SqlMetadataStore, dialect: str
) -> None:
    with metadata_store.unit_of_work(read_only=True) as reader:
        assert reader.projects.list_page(10, None).items == []
        with metadata_store.unit_of_work() as writer:  # would wait out busy_timeout on SQLite
            writer.projects.add(make_project("written"))
            writer.commit()
        if dialect == "postgresql":  # SQLite has no read-only transactions
            with pytest.raises(sa.exc.DBAPIError, match="read-only"):
                reader.projects.add(make_project("nope"))
    with metadata_store.unit_of_work(read_only=True) as reader:
        assert [p.name for p in reader.projects.list_page(10, None).items] == ["written"]


def test_a_broken_writer_connection_is_replaced(
    metadata_store: SqlMetadataStore, dialect: str
) -> None:
    with metadata_store.unit_of_work() as uow:
        uow.projects.add(make_project("before"))
        uow.commit()
    group = metadata_store._group
    assert group is not None
    writer = group._connection
    assert writer is not None
    if dialect == "postgresql":  # the server ends the session, as on a restart
        pid = writer.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        writer.rollback()
        with metadata_store.engine.connect() as admin:
            admin.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
    else:
        writer.connection.dbapi_connection.close()  # type: ignore[union-attr]
    with pytest.raises(sa.exc.DBAPIError), metadata_store.unit_of_work() as uow:
        uow.projects.add(make_project("lost"))
    with metadata_store.unit_of_work() as uow:
        uow.projects.add(make_project("after"))
        uow.commit()
    with metadata_store.unit_of_work(read_only=True) as reader:
        assert [p.name for p in reader.projects.list_page(10, None).items] == ["after", "before"]
