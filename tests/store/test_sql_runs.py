"""Contract of SqlRunRepository (everything but search) on every dialect."""

from __future__ import annotations

import math

import pytest
import sqlalchemy as sa

from lockgate.domain.errors import ConflictError, NotFoundError
from lockgate.domain.pagination import Page
from lockgate.domain.tracking import DatasetInput, Metric, Project, Run, RunId, RunStatus
from lockgate.store.sql import SqlMetadataStore
from tests.store.sql_builders import UowFactory, add_project, add_run, at, make_project, make_run


@pytest.fixture
def project(uow_factory: UowFactory) -> Project:
    return add_project(uow_factory)


@pytest.fixture
def run(uow_factory: UowFactory, project: Project) -> Run:
    return add_run(uow_factory, project, {"team": "growth"})


def test_run_reads_back_with_environment_and_tags(uow_factory: UowFactory, run: Run) -> None:
    with uow_factory() as uow:
        assert uow.runs.get(run.id) == run
        detail = uow.runs.detail(run.id)
    assert detail.run == run
    assert detail.tags == {"team": "growth"}
    assert (detail.params, detail.metrics, detail.inputs) == ({}, {}, ())


def test_missing_run_is_not_found(uow_factory: UowFactory) -> None:
    with uow_factory() as uow, pytest.raises(NotFoundError, match=f"run {'9' * 32} does not"):
        uow.runs.detail(RunId("9" * 32))


def test_run_of_a_missing_project_is_not_found(uow_factory: UowFactory) -> None:
    with uow_factory() as uow, pytest.raises(NotFoundError, match=r"project .* does not exist"):
        uow.runs.add(make_run(make_project("ghost")), {})


def test_save_status_is_conditional(uow_factory: UowFactory, run: Run) -> None:
    finished = run.end(RunStatus.FINISHED, at(60))
    with uow_factory() as uow:
        uow.runs.save_status(finished, expected=RunStatus.RUNNING)
        uow.commit()
    with uow_factory() as uow:
        assert uow.runs.get(run.id) == finished
        with pytest.raises(ConflictError, match="is finished, not running"):
            uow.runs.save_status(run.end(RunStatus.FAILED, at(61)), expected=RunStatus.RUNNING)


def test_params_are_write_once(uow_factory: UowFactory, run: Run) -> None:
    with uow_factory() as uow:
        uow.runs.add_params(run, {"lr": "0.1", "depth": "3"})
        uow.runs.add_params(run, {"lr": "0.1", "seed": "7"})  # same value again: no-op
        with pytest.raises(ConflictError, match=r"param 'lr' .* is already '0\.1'"):
            uow.runs.add_params(run, {"lr": "0.2"})
        uow.commit()
    with uow_factory() as uow:
        assert uow.runs.detail(run.id).params == {"depth": "3", "lr": "0.1", "seed": "7"}


def test_long_param_values_are_stored_whole(uow_factory: UowFactory, run: Run) -> None:
    value = "é" * 6000  # past PostgreSQL's index row limit unless only a prefix is indexed
    with uow_factory() as uow:
        uow.runs.add_params(run, {"blob": value})
        uow.runs.set_tags(run, {"note": value})
        uow.commit()
    with uow_factory() as uow:
        detail = uow.runs.detail(run.id)
    assert detail.params["blob"] == value
    assert detail.tags["note"] == value


def test_tags_upsert(uow_factory: UowFactory, run: Run) -> None:
    with uow_factory() as uow:
        uow.runs.set_tags(run, {"team": "risk", "stage": "dev"})
        uow.commit()
    with uow_factory() as uow:
        assert uow.runs.detail(run.id).tags == {"stage": "dev", "team": "risk"}


def test_latest_metric_is_highest_step_then_time_then_last_logged(
    uow_factory: UowFactory, run: Run
) -> None:
    with uow_factory() as uow:
        uow.runs.add_metrics(
            run,
            [
                Metric("loss", 0.9, 1, at(1)),
                Metric("loss", 0.5, 3, at(2)),
                Metric("loss", 0.7, 2, at(9)),
                Metric("acc", 0.1, 0, at(5)),
            ],
        )
        uow.commit()
    with uow_factory() as uow:
        uow.runs.add_metrics(run, [Metric("loss", 0.8, 3, at(1)), Metric("acc", 0.2, 0, at(5))])
        uow.commit()
    with uow_factory() as uow:
        latest = uow.runs.detail(run.id).metrics
    assert latest["loss"] == Metric("loss", 0.5, 3, at(2))
    assert latest["acc"] == Metric("acc", 0.2, 0, at(5))


def test_nan_and_infinities_round_trip(uow_factory: UowFactory, run: Run) -> None:
    points = [
        Metric("loss", math.nan, 0, at(0)),
        Metric("loss", math.inf, 1, at(1)),
        Metric("loss", -math.inf, 2, at(2)),
        Metric("loss", math.nan, 3, at(3)),
    ]
    with uow_factory() as uow:
        uow.runs.add_metrics(run, points)
        uow.commit()
    with uow_factory() as uow:
        history = uow.runs.metric_history(run.id, "loss", 100, None).items
        latest = uow.runs.detail(run.id).metrics["loss"]
    assert math.isnan(history[0].value)
    assert math.isnan(history[3].value)
    assert [p.value for p in history[1:3]] == [math.inf, -math.inf]
    assert math.isnan(latest.value)
    assert latest.step == 3


def test_metric_history_pages_in_order(uow_factory: UowFactory, run: Run) -> None:
    points = [Metric("loss", float(i), i % 4, at(i // 4)) for i in range(23)]
    with uow_factory() as uow:
        uow.runs.add_metrics(run, points)
        uow.runs.add_metrics(run, [Metric("other", 1.0, 0, at(0))])
        uow.commit()
    expected = sorted(points, key=lambda p: (p.step, p.timestamp))  # stable: insertion order
    seen: list[Metric] = []
    cursor = None
    with uow_factory() as uow:
        while True:
            page = uow.runs.metric_history(run.id, "loss", 5, cursor)
            seen += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == expected


def test_metric_history_reads_alike_in_a_write_unit_and_when_statements_are_watched(
    metadata_store: SqlMetadataStore, run: Run
) -> None:
    """The history skips SQLAlchemy's result rows: its rows come from the driver's cursor,
    from a pipelined writer's queued one (PostgreSQL), and from SQLAlchemy's result while
    something listens to the engine's statements."""
    points = [Metric("loss", float(i), i, at(i)) for i in range(7)]
    with metadata_store.unit_of_work() as uow:
        assert uow.runs.metric_history(run.id, "loss", 5, None) == Page([], None)
        uow.runs.add_metrics(run, points)
        first = uow.runs.metric_history(run.id, "loss", 5, None)
        uow.commit()
    assert first.items == points[:5]
    assert first.next_cursor is not None
    watched: list[str] = []
    sa.event.listen(
        metadata_store.engine, "before_cursor_execute", lambda *args: watched.append(args[2])
    )
    with metadata_store.unit_of_work(read_only=True) as uow:
        rest = uow.runs.metric_history(run.id, "loss", 5, first.next_cursor)
    assert rest == Page(points[5:], None)
    assert any("FROM metrics" in statement for statement in watched)


def test_inputs_are_idempotent_and_datasets_shared(
    uow_factory: UowFactory, project: Project, run: Run
) -> None:
    train = DatasetInput("train", "a" * 64, 1000, (("age", "int64"), ("y", "bool")), "s3://b/t")
    test = DatasetInput("test", "b" * 64, None, ())
    other = make_run(project, "other")
    with uow_factory() as uow:
        uow.runs.add(other, {})
        for target in (run, run, other):
            uow.runs.add_input(target, train)
        uow.runs.add_input(run, test)
        uow.commit()
    with uow_factory() as uow:
        assert uow.runs.detail(run.id).inputs == (test, train)
        assert uow.runs.detail(other.id).inputs == (train,)


def test_data_of_a_missing_run_is_refused(uow_factory: UowFactory, project: Project) -> None:
    ghost = make_run(project)

    def log_and_commit() -> None:
        with uow_factory() as uow:
            uow.runs.add_metrics(ghost, [Metric("m", 1.0, 0, at(0))])
            uow.commit()  # a pipelined PostgreSQL connection learns of the error here

    with pytest.raises(sa.exc.IntegrityError, match=r"(?i)foreign key"):
        log_and_commit()
