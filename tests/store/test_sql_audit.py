"""Contract of SqlAuditLog on every dialect: the chain holds under concurrent appends, and the
hash the store seals with (in SQL on PostgreSQL) is the domain's `compute_hash`."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from lockgate.domain.audit import (
    GENESIS_HASH,
    AuditDraft,
    ChainHead,
    canonical_details,
    compute_hash,
    seal,
    verify_chain,
)
from lockgate.domain.identity import Actor, to_micros
from lockgate.store.sql import SqlMetadataStore
from lockgate.store.sql import audit as audit_module
from lockgate.store.sql.unit_of_work import SqlUnitOfWork
from tests.store.sql_builders import ALICE, UowFactory, at, make_project, new_id


def _draft(subject: str = "churn", **details: object) -> AuditDraft:
    return AuditDraft("project.created", ALICE, "project", subject, dict(details))  # type: ignore[arg-type]


def _count(store: SqlMetadataStore, table: str) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def _head_prev_hash(store: SqlMetadataStore) -> str:
    with store.engine.connect() as connection:
        return str(connection.execute(sa.text("SELECT prev_hash FROM audit_head")).scalar_one())


def test_an_empty_log_has_the_genesis_head(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        assert uow.audit.head() == ChainHead(0, GENESIS_HASH)
        assert list(uow.audit.stored_events()) == []


def test_appended_events_chain_and_read_back(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.audit.append(_draft(note="é ✓", n=1.5), event_id=new_id(), at=at(1))
        uow.audit.append(_draft("fraud", keys=["b", "a"]), event_id=new_id(), at=at(2))
        uow.commit()
    with uow_factory() as uow:
        first, second = uow.audit.list_events(0, 10)
        assert (first.seq, second.seq, second.prev_hash) == (1, 2, first.hash)
        assert (first.prev_hash, first.details) == (GENESIS_HASH, {"note": "é ✓", "n": 1.5})
        assert (first.actor, first.occurred_at, second.subject_id) == (ALICE, at(1), "fraud")
        assert uow.audit.list_events(1, 10) == [second]
        assert uow.audit.list_events(0, 10, "project", "fraud") == [second]
        assert uow.audit.head() == ChainHead(2, second.hash)
        assert verify_chain(uow.audit.stored_events(), uow.audit.head()).ok


def test_rolled_back_appends_leave_no_gap(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.audit.append(_draft(), event_id=new_id(), at=at(1))
    with uow_factory() as uow:
        uow.audit.append(_draft(), event_id=(kept := new_id()), at=at(2))
        uow.commit()
    with uow_factory() as uow:
        assert [(e.seq, e.id, e.prev_hash) for e in uow.audit.list_events(0, 10)] == [
            (1, kept, GENESIS_HASH)
        ]


# Text that JSON escapes (quotes, backslashes, control characters), text it keeps as it is
# (non-ASCII, U+2028, characters outside the BMP) and text that looks like the hashed array's
# own framing.
_TRICKY = [
    AuditDraft(
        "project.créé ✓",
        Actor("user:zoë 😀"),
        "project",
        'a "quoted" \\ name',
        {
            "note": "é ✓ 😀 \u2028 中文",
            "quote": 'say "hi"\n\t',
            "path": "C:\\dir\\",
            "nested": {"ü": ["</script>", '","', "\u0001"], "n": [1.5, -2, 10**20, None, True]},
        },
    ),
    AuditDraft("run.tags_set", ALICE, "run", '","prev', {}),
    AuditDraft("x", ALICE, "é", "😀", {"": ""}),
]
_BIG_SEQS = [0, 2**53 + 1, 2**63 - 10]  # past a double's precision; near BIGINT's end


@pytest.mark.parametrize("start", _BIG_SEQS)
def test_the_stored_hash_is_compute_hash_for_tricky_content(
    metadata_store: SqlMetadataStore, start: int
) -> None:
    start_hash = hashlib.sha256(str(start).encode()).hexdigest() if start else GENESIS_HASH
    with metadata_store.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE audit_head SET seq = :seq, hash = :hash"),
            {"seq": start, "hash": start_hash},
        )
    ids = [new_id() for _ in _TRICKY]
    for draft, event_id in zip(_TRICKY, ids, strict=True):
        with metadata_store.unit_of_work() as uow:
            uow.audit.append(draft, event_id=event_id, at=at(1.5))
            uow.commit()
    with metadata_store.unit_of_work(read_only=True) as uow:
        stored = list(uow.audit.stored_events())
        head = uow.audit.head()
    head_link = ChainHead(start, start_hash)
    for draft, event_id, event in zip(_TRICKY, ids, stored, strict=True):
        sealed = seal(draft, head=head_link, event_id=event_id, at=at(1.5))
        assert (event.seq, event.prev_hash, event.hash) == (
            sealed.seq,
            sealed.prev_hash,
            sealed.hash,
        )
        assert event.details_json == canonical_details(draft.details)
        assert event.hash == compute_hash(
            seq=event.seq,
            event_id=event.id,
            occurred_at=event.occurred_at,
            action=event.action,
            actor=event.actor,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            details_json=event.details_json,
            prev_hash=event.prev_hash,
        )
        head_link = ChainHead(event.seq, event.hash)
    assert head == head_link
    assert _head_prev_hash(metadata_store) == stored[-1].prev_hash
    if start == 0:
        assert verify_chain(stored, head).ok


def test_compute_hash_is_the_sha256_of_the_compact_json_array() -> None:
    # The encoding every stored chain was sealed with: the SQL append and compute_hash must
    # both keep it, byte for byte.
    draft, seq, event_id = _TRICKY[0], 2**63 - 1, "0" * 32
    details_json = canonical_details(draft.details)
    prev_hash = 'not hex: "\\'  # verification recomputes whatever was stored
    body = json.dumps(
        [
            seq,
            event_id,
            to_micros(at(1.5)),
            draft.action,
            draft.actor,
            draft.subject_type,
            draft.subject_id,
            details_json,
            prev_hash,
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert (
        compute_hash(
            seq=seq,
            event_id=event_id,
            occurred_at=at(1.5),
            action=draft.action,
            actor=draft.actor,
            subject_type=draft.subject_type,
            subject_id=draft.subject_id,
            details_json=details_json,
            prev_hash=prev_hash,
        )
        == hashlib.sha256(body.encode()).hexdigest()
    )


def test_an_append_the_database_refuses_fails_the_unit(
    uow_factory: UowFactory, metadata_store: SqlMetadataStore
) -> None:
    taken = new_id()
    with uow_factory() as uow:
        uow.audit.append(_draft(), event_id=taken, at=at(1))
        uow.commit()

    def append_twice() -> None:  # refused at the append on SQLite, at the commit on PostgreSQL
        with uow_factory() as uow:
            uow.projects.add(make_project("doomed"))
            uow.audit.append(_draft(), event_id=taken, at=at(2))
            uow.commit()

    with pytest.raises(sa.exc.IntegrityError, match=r"audit_events\.id|uq_audit_events_id"):
        append_twice()
    with uow_factory() as uow:
        assert uow.audit.head().seq == 1
        uow.audit.append(_draft(), event_id=new_id(), at=at(3))
        uow.commit()
    with uow_factory() as uow:
        verdict = verify_chain(uow.audit.stored_events(), uow.audit.head())
    assert (verdict.ok, verdict.checked) == (True, 2)
    assert _count(metadata_store, "projects") == 0


def test_an_append_without_a_head_row_fails_the_unit(
    metadata_store: SqlMetadataStore, dialect: str
) -> None:
    with metadata_store.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_head"))

    def append() -> None:
        with metadata_store.unit_of_work() as uow:
            uow.projects.add(make_project("unaudited"))
            uow.audit.append(_draft(), event_id=new_id(), at=at(1))
            uow.commit()

    if dialect == "postgresql":  # no head to seal with: the event's seq is NULL
        with pytest.raises(sa.exc.IntegrityError, match="seq"):
            append()
    else:
        with pytest.raises(sa.exc.NoResultFound, match="No row was found"):
            append()
    assert (_count(metadata_store, "projects"), _count(metadata_store, "audit_events")) == (0, 0)


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


def _wait_until_blocked(store: SqlMetadataStore, pid: int, task: Future[None]) -> None:
    """Return once the backend `pid` waits for a lock (polling pg_locks; no sleep)."""
    deadline = time.monotonic() + 30
    query = sa.text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted")
    with store.engine.connect() as watcher:
        while not watcher.execute(query, {"pid": pid}).scalar_one():
            if task.done():
                task.result()
                pytest.fail("the append went through without waiting for the head's row lock")
            assert time.monotonic() < deadline, "the append never waited for the head"


@pytest.mark.parametrize("dialect", [pytest.param("postgresql", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("holder_commits", [True, False], ids=["commits", "rolls-back"])
def test_an_append_that_waited_for_the_head_seals_after_what_the_holder_left(
    metadata_store: SqlMetadataStore, holder_commits: bool
) -> None:
    # The UPDATE that seals the waiting event reads the head only once it holds the row: after
    # the holder's commit it seals after the holder's event, after its rollback after the
    # event before.
    with metadata_store.unit_of_work() as uow:  # the pipelined writer connection exists now
        uow.audit.append(_draft("first"), event_id=new_id(), at=at(0))
        uow.commit()
    group = metadata_store._group
    assert group is not None
    assert group._connection is not None
    writer = group._connection.connection.driver_connection
    assert writer is not None
    writer_pid = writer.info.backend_pid

    def append_on_the_writer() -> None:
        with metadata_store.unit_of_work() as uow:
            uow.audit.append(_draft("waiter"), event_id=new_id(), at=at(2))
            uow.commit()

    with ThreadPoolExecutor(max_workers=1) as pool:
        with SqlUnitOfWork(metadata_store.engine) as holder:
            holder.audit.append(_draft("holder"), event_id=new_id(), at=at(1))  # locks the head
            waiting = pool.submit(append_on_the_writer)
            _wait_until_blocked(metadata_store, writer_pid, waiting)
            if holder_commits:
                holder.commit()
        waiting.result(timeout=30)
    with metadata_store.unit_of_work(read_only=True) as uow:
        events = uow.audit.list_events(0, 10)
        verdict = verify_chain(uow.audit.stored_events(), uow.audit.head())
        head_prev_hash = _head_prev_hash(metadata_store)
    expected = ["first", "holder", "waiter"] if holder_commits else ["first", "waiter"]
    assert [e.subject_id for e in events] == expected
    assert [e.seq for e in events] == list(range(1, len(expected) + 1))
    assert events[-1].prev_hash == events[-2].hash == head_prev_hash
    assert (verdict.ok, verdict.checked) == (True, len(expected))


def test_details_are_stored_exactly_as_hashed(
    uow_factory: UowFactory, metadata_store: SqlMetadataStore
) -> None:
    with uow_factory() as uow:
        uow.audit.append(_draft(z=1, a={"y": [1, 2], "b": None}), event_id=new_id(), at=at(1))
        uow.commit()
    with metadata_store.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT details FROM audit_events")).scalar_one()
    assert stored == '{"a":{"b":null,"y":[1,2]},"z":1}'
