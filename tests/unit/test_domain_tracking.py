"""Runs end exactly once, and what a run records is checked before it is stored."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from lockgate.domain.errors import ConflictError, InvalidInputError
from lockgate.domain.identity import Actor
from lockgate.domain.tracking import (
    DatasetInput,
    Metric,
    ProjectId,
    Run,
    RunEnvironment,
    RunId,
    RunStatus,
    check_metric,
    check_params,
    check_tags,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _run(status: RunStatus = RunStatus.RUNNING) -> Run:
    return Run(
        RunId("1" * 32), ProjectId("2" * 32), "r", status, T0, None, Actor("u:a"), RunEnvironment()
    )


@pytest.mark.parametrize("status", [RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED])
def test_a_running_run_ends_once(status: RunStatus) -> None:
    ended = _run().end(status, T0)
    assert (ended.status, ended.ended_at) == (status, T0)
    assert status.is_terminal
    with pytest.raises(ConflictError, match=f"is {status}; it cannot become killed"):
        ended.end(RunStatus.KILLED, T0)
    with pytest.raises(ConflictError, match="takes no more data"):
        ended.ensure_accepts_data()


def test_a_run_cannot_go_back_to_running() -> None:
    _run().ensure_accepts_data()
    with pytest.raises(ConflictError):
        _run().end(RunStatus.RUNNING, T0)


def test_params_and_tags_are_checked() -> None:
    check_params({"lr": "0.1"})
    check_tags({})
    with pytest.raises(InvalidInputError, match="at least one param"):
        check_params({})
    with pytest.raises(InvalidInputError) as caught:
        check_params({"/abs": "x"})
    assert caught.value.field == "params./abs"
    with pytest.raises(InvalidInputError, match="at most 1000 tags"):
        check_tags({f"k{i}": "v" for i in range(1001)})
    with pytest.raises(InvalidInputError, match="control character"):
        check_tags({"k": "a\x00b"})


def test_metric_values_may_be_nan_or_infinite_but_steps_are_bounded() -> None:
    for value in (math.nan, math.inf, -math.inf, 0.0):
        check_metric(Metric("loss", value, 0, T0), index=0)
    with pytest.raises(InvalidInputError) as caught:
        check_metric(Metric("loss", 1.0, -1, T0), index=3)
    assert caught.value.field == "metrics[3].step"
    with pytest.raises(InvalidInputError, match="value must be a number"):
        check_metric(Metric("loss", 1, 0, T0), index=0)


@pytest.mark.parametrize(
    ("dataset", "field"),
    [
        (DatasetInput("Bad Name", "a" * 64, 1, ()), "dataset.name"),
        (DatasetInput("train", "short", 1, ()), "dataset.fingerprint"),
        (DatasetInput("train", "a" * 64, -1, ()), "dataset.row_count"),
        (DatasetInput("train", "a" * 64, 1, (("c", "x" * 129),)), "dataset.schema"),
        (DatasetInput("train", "a" * 64, 1, (), "s" * 2049), "dataset.source"),
    ],
)
def test_dataset_inputs_are_checked(dataset: DatasetInput, field: str) -> None:
    DatasetInput("train", "a" * 64, 10, (("age", "int64"),), "s3://b/k").check()
    with pytest.raises(InvalidInputError) as caught:
        dataset.check()
    assert caught.value.field == field


def test_environments_are_checked() -> None:
    RunEnvironment(git_sha="abcdef1", packages=("numpy==2.0",)).check()
    with pytest.raises(InvalidInputError, match="git_sha"):
        RunEnvironment(git_sha="XYZ").check()
    with pytest.raises(InvalidInputError, match="at most 5000 packages"):
        RunEnvironment(packages=("p",) * 5001).check()
