"""PostgreSQL's writer connection in pipeline mode: a unit's statements travel together, an
error that surfaces at a later read or sync is still SQLAlchemy's, nothing of the failed unit
is written, and the connection stays usable."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from psycopg import pq

from lockgate.domain.access import Caller
from lockgate.domain.audit import AuditDraft, verify_chain
from lockgate.domain.errors import AlreadyExistsError
from lockgate.domain.identity import SystemClock, Uuid7Factory
from lockgate.domain.tracking import Metric, Run
from lockgate.services import MetricPoint, TrackingService
from lockgate.services.context import ServiceContext
from lockgate.store.sql import SqlMetadataStore
from lockgate.store.sql.group_commit import CommitGroup, GroupUnitOfWork
from tests.store.group_units import commit_batch, join_without_waiting
from tests.store.sql_builders import ALICE, add_run, at, make_project, make_run, new_id


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def dialect(request: pytest.FixtureRequest) -> str:
    """Pipeline mode is PostgreSQL's (SQLite runs in the same process: nothing to wait for)."""
    return str(request.param)


@pytest.fixture
def run(metadata_store: SqlMetadataStore) -> Run:
    return add_run(metadata_store.unit_of_work)  # the writer connection exists from here on


class _Trips:
    count = 0


@contextmanager
def _round_trips(driver: Any, tmp_path: Path) -> Iterator[_Trips]:
    """Count the times the client waits for the server on `driver`: libpq traces every
    protocol message, and a round trip is a run of messages to the server (F) that the
    server answers (B)."""
    trips = _Trips()
    path = tmp_path / "libpq.trace"
    with path.open("w") as sink:
        driver.pgconn.trace(sink.fileno())
        driver.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            yield trips
        finally:
            driver.pgconn.untrace()  # flushes the trace
    directions = [line[0] for line in path.read_text().splitlines() if line[:1] in ("F", "B")]
    trips.count = sum(1 for pair in itertools.pairwise(directions) if pair == ("F", "B"))


def _writer(store: SqlMetadataStore) -> Any:
    group = store._group
    assert group is not None
    assert group._connection is not None
    return group._connection.connection.driver_connection


def _backend_pid(store: SqlMetadataStore) -> int:
    return int(_writer(store).info.backend_pid)


def _draft() -> AuditDraft:
    return AuditDraft("run.metrics_logged", ALICE, "run", "r", {})


def _point(step: int = 0) -> Metric:
    return Metric("loss", 0.5, step, at(step))


def _written(store: SqlMetadataStore, run: Run) -> tuple[int, list[int]]:
    """The audit head's seq and the steps of `run`'s points, read on a reader connection."""
    with store.unit_of_work(read_only=True) as uow:
        seq = uow.audit.head().seq
        steps = [m.step for m in uow.runs.metric_history(run.id, "loss", 100, None).items]
    return seq, steps


def test_logging_one_point_costs_two_round_trips(
    metadata_store: SqlMetadataStore, run: Run, tmp_path: Path
) -> None:
    # BEGIN + the run, then the point + the latest value + the audit event (sealed by the
    # statement that moves the head) + COMMIT: five statements in two round trips.
    context = ServiceContext(metadata_store.unit_of_work, SystemClock(), Uuid7Factory())
    tracking = TrackingService(context)
    caller = Caller.local(ALICE)
    with _round_trips(_writer(metadata_store), tmp_path) as trips:
        tracking.log_metrics(caller, run.id, [MetricPoint("loss", 0.5, 7)])
    assert trips.count == 2
    assert tracking.get_run(caller, run.id).metrics["loss"].step == 7
    with metadata_store.unit_of_work(read_only=True) as uow:
        assert verify_chain(uow.audit.stored_events(), uow.audit.head()).ok


def test_an_audit_append_costs_no_round_trip_of_its_own(
    metadata_store: SqlMetadataStore, run: Run, tmp_path: Path
) -> None:
    # Nothing in this unit is read: BEGIN, the point, the latest value, two events and COMMIT
    # travel together, and the events' seq and hash come back with the COMMIT.
    seq = _written(metadata_store, run)[0]
    with (
        _round_trips(_writer(metadata_store), tmp_path) as trips,
        metadata_store.unit_of_work() as uow,
    ):
        uow.runs.add_metrics(run, [_point(1)])
        uow.audit.append(_draft(), event_id=new_id(), at=at(1))
        uow.audit.append(_draft(), event_id=new_id(), at=at(2))
        uow.commit()
    assert trips.count == 1
    assert _written(metadata_store, run) == (seq + 2, [1])


def test_an_error_surfacing_at_the_commit_is_sqlalchemys_and_writes_nothing(
    metadata_store: SqlMetadataStore, run: Run
) -> None:
    ghost = make_run(make_project("nowhere"))  # its points break the runs foreign key
    pid = _backend_pid(metadata_store)
    before = _written(metadata_store, run)

    def log_and_commit() -> None:
        # Only writes: the error surfaces at the COMMIT's sync, or earlier when the server's
        # answer happens to be read while a later statement is sent.
        with metadata_store.unit_of_work() as uow:
            uow.runs.add_metrics(run, [_point(1)])
            uow.runs.add_metrics(ghost, [_point(2)])
            uow.commit()

    with pytest.raises(sa.exc.IntegrityError, match="foreign key"):
        log_and_commit()
    assert _written(metadata_store, run) == before
    with metadata_store.unit_of_work() as uow:  # the next writer works, on the same connection
        uow.runs.add_metrics(run, [_point(3)])
        uow.commit()
    assert _backend_pid(metadata_store) == pid
    assert _written(metadata_store, run) == (before[0], [3])


def test_an_error_surfacing_at_a_later_read_leaves_the_connection_usable(
    metadata_store: SqlMetadataStore, run: Run
) -> None:
    ghost = make_run(make_project("nowhere"))
    pid = _backend_pid(metadata_store)
    before = _written(metadata_store, run)

    def log_then_read() -> None:
        with metadata_store.unit_of_work() as uow:
            uow.runs.add_metrics(ghost, [_point(1)])  # queued
            uow.audit.append(_draft(), event_id=new_id(), at=at(0))  # queued
            uow.runs.get(run.id)  # reads the run: waits

    with pytest.raises(sa.exc.IntegrityError, match="foreign key"):
        log_then_read()
    writer = _writer(metadata_store)
    assert writer.pgconn.pipeline_status == pq.PipelineStatus.ON  # not ABORTED
    assert writer.info.transaction_status == pq.TransactionStatus.IDLE  # rolled back
    assert _written(metadata_store, run) == before
    with metadata_store.unit_of_work() as uow:
        uow.runs.add_metrics(run, [_point(2)])
        uow.audit.append(_draft(), event_id=new_id(), at=at(0))
        uow.commit()
    assert _backend_pid(metadata_store) == pid  # the same connection, not a new one
    assert _written(metadata_store, run) == (before[0] + 1, [2])


def test_a_unit_failing_at_its_sync_rolls_back_alone_in_a_shared_batch(
    metadata_store: SqlMetadataStore, run: Run
) -> None:
    group = CommitGroup(metadata_store.engine)
    group._waiting = 1  # as if another writer were queued: units batch instead of committing
    ghost = make_run(make_project("nowhere"))
    try:
        first = GroupUnitOfWork(group)
        with first:
            first.runs.add_metrics(run, [_point(1)])
            batch = join_without_waiting(group, first)

        def second() -> None:  # in a savepoint; fails by its commit's sync at the latest
            with GroupUnitOfWork(group) as unit:
                unit.runs.add_metrics(run, [_point(2)])
                unit.runs.add_metrics(ghost, [_point(2)])
                unit.commit()

        with pytest.raises(sa.exc.IntegrityError, match="foreign key"):
            second()
        with GroupUnitOfWork(group) as third:
            third.runs.add_metrics(run, [_point(3)])
            third_batch = join_without_waiting(group, third)
        assert batch is third_batch is not None
        assert batch.members == 2
        commit_batch(group, batch)
    finally:
        group.close()
    assert _written(metadata_store, run)[1] == [1, 3]


def test_sqlalchemy_statements_run_in_turn_with_the_queued_ones(
    metadata_store: SqlMetadataStore, run: Run
) -> None:
    taken = make_project("taken")
    with metadata_store.unit_of_work() as uow:
        uow.projects.add(taken)
        uow.commit()
    with metadata_store.unit_of_work() as uow:
        uow.runs.add_metrics(run, [_point(4)])  # queued on the driver connection
        assert uow.runs.detail(run.id).metrics["loss"].step == 4  # SQLAlchemy sees it
        with pytest.raises(AlreadyExistsError):  # its savepoint rolls back; the unit goes on
            uow.projects.add(make_project("taken"))
        uow.audit.append(_draft(), event_id=new_id(), at=at(0))
        uow.commit()
    assert _written(metadata_store, run)[1] == [4]


def test_the_writer_connection_goes_back_to_the_pool_as_it_came(
    metadata_store: SqlMetadataStore,
) -> None:
    group = CommitGroup(metadata_store.engine)
    connection, _ = group.enter()
    driver = connection.connection.driver_connection
    assert driver is not None
    assert driver.pgconn.pipeline_status == pq.PipelineStatus.ON
    assert driver.autocommit
    group.leave(joined=False)
    group.close()
    assert not driver.closed  # pooled
    assert driver.pgconn.pipeline_status == pq.PipelineStatus.OFF
    assert not driver.autocommit
