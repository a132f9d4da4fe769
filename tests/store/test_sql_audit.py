"""Contract of SqlAuditLog on every dialect: the chain holds under concurrent appends."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from lockgate.domain.audit import GENESIS_HASH, AuditDraft, ChainHead, verify_chain
from lockgate.store.sql import SqlMetadataStore
from lockgate.store.sql import audit as audit_module
from tests.store.sql_builders import ALICE, UowFactory, at, new_id


def _draft(subject: str = "churn", **details: object) -> AuditDraft:
    return AuditDraft("project.created", ALICE, "project", subject, dict(details))  # type: ignore[arg-type]


def test_an_empty_log_has_the_genesis_head(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        assert uow.audit.head() == ChainHead(0, GENESIS_HASH)
        assert list(uow.audit.stored_events()) == []


def test_appended_events_chain_and_read_back(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        first = uow.audit.append(_draft(note="é ✓", n=1.5), event_id=new_id(), at=at(1))
        second = uow.audit.append(_draft("fraud", keys=["b", "a"]), event_id=new_id(), at=at(2))
        uow.commit()
    assert (first.seq, second.seq, second.prev_hash) == (1, 2, first.hash)
    with uow_factory() as uow:
        assert uow.audit.list_events(0, 10) == [first, second]
        assert uow.audit.list_events(1, 10) == [second]
        assert uow.audit.list_events(0, 10, "project", "fraud") == [second]
        assert uow.audit.head() == ChainHead(2, second.hash)
        assert verify_chain(uow.audit.stored_events(), uow.audit.head()).ok


def test_rolled_back_appends_leave_no_gap(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.audit.append(_draft(), event_id=new_id(), at=at(1))
    with uow_factory() as uow:
        event = uow.audit.append(_draft(), event_id=new_id(), at=at(2))
        uow.commit()
    assert event.seq == 1


def test_stored_events_stream_in_chunks(
    uow_factory: UowFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_module, "_READ_CHUNK", 4)
    with uow_factory() as uow:
        for index in range(11):
            uow.audit.append(_draft(i=index), event_id=new_id(), at=at(index))
        uow.commit()
    with uow_factory() as uow:
        events = uow.audit.stored_events()
        assert next(events).seq == 1
        assert [e.seq for e in events] == list(range(2, 12))
        assert verify_chain(uow.audit.stored_events(), uow.audit.head()).ok


def test_concurrent_appends_keep_one_chain(uow_factory: UowFactory) -> None:
    threads, per_thread = 8, 10
    barrier = threading.Barrier(threads)

    def append(worker: int) -> None:
        barrier.wait()
        for index in range(per_thread):
            with uow_factory() as uow:
                uow.audit.append(_draft(w=worker, i=index), event_id=new_id(), at=at(index))
                uow.commit()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(append, range(threads)))  # re-raises a worker's error
    with uow_factory() as uow:
        verdict = verify_chain(uow.audit.stored_events(), uow.audit.head())
    assert verdict.ok
    assert verdict.checked == threads * per_thread


def test_writers_on_two_connections_keep_one_chain(db_url: str) -> None:
    # As two server processes: each store has its own writer connection (pipelined on
    # PostgreSQL, where the head's row lock orders them; a file lock on SQLite).
    stores = [SqlMetadataStore.from_url(db_url) for _ in range(2)]
    threads, per_thread = 4, 15
    barrier = threading.Barrier(threads)

    def append(worker: int) -> None:
        barrier.wait()
        for index in range(per_thread):
            with stores[worker % 2].unit_of_work() as uow:
                uow.audit.append(_draft(w=worker, i=index), event_id=new_id(), at=at(index))
                uow.commit()

    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(append, range(threads)))
        with stores[0].unit_of_work(read_only=True) as uow:
            verdict = verify_chain(uow.audit.stored_events(), uow.audit.head())
    finally:
        for store in stores:
            store.dispose()
    assert verdict.ok
    assert verdict.checked == threads * per_thread


def test_details_are_stored_exactly_as_hashed(
    uow_factory: UowFactory, metadata_store: SqlMetadataStore
) -> None:
    with uow_factory() as uow:
        uow.audit.append(_draft(z=1, a={"y": [1, 2], "b": None}), event_id=new_id(), at=at(1))
        uow.commit()
    with metadata_store.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT details FROM audit_events")).scalar_one()
    assert stored == '{"a":{"b":null,"y":[1,2]},"z":1}'
