"""The SDK's tracking calls against the real app: the run context manager, what a run records,
search paging and errors mapped back to their classes."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest

from lockgate.domain.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    LockgateError,
    NotFoundError,
)
from lockgate.sdk import Client, MetricPoint


def test_run_block_that_completes_ends_finished(client: Client, project: str) -> None:
    with client.start_run(project, "baseline", tags={"team": "growth"}, seed=42) as run:
        run.log_param("max_depth", 6)
        assert run.status == "running"
    assert run.status == "finished"
    stored = client.runs.get(run.id)
    assert stored.status == "finished"
    assert stored.ended_at is not None
    assert stored.tags == {"team": "growth"}
    assert stored.environment.seed == 42


def test_run_block_that_raises_ends_failed_and_the_error_propagates(
    client: Client, project: str
) -> None:
    with pytest.raises(ValueError, match="bad batch"), client.start_run(project) as run:
        raise ValueError("bad batch")
    assert client.runs.get(run.id).status == "failed"


def test_keyboard_interrupt_ends_the_run_killed(client: Client, project: str) -> None:
    with pytest.raises(KeyboardInterrupt), client.start_run(project) as run:
        raise KeyboardInterrupt
    assert client.runs.get(run.id).status == "killed"


@pytest.mark.parametrize(("code", "status"), [(0, "finished"), (None, "finished"), (3, "failed")])
def test_sys_exit_inside_the_block_ends_the_run_by_its_code(
    client: Client, project: str, code: int | None, status: str
) -> None:
    with pytest.raises(SystemExit), client.start_run(project, capture_environment=False) as run:
        raise SystemExit(code)
    assert client.runs.get(run.id).status == status


def test_a_run_ended_inside_the_block_is_left_as_it_is(client: Client, project: str) -> None:
    with client.start_run(project) as run:
        run.end("killed")
    assert client.runs.get(run.id).status == "killed"


def test_start_run_needs_the_project_unless_asked_to_create_it(client: Client) -> None:
    with pytest.raises(NotFoundError):
        client.start_run("fraud", capture_environment=False)
    with client.start_run("fraud", capture_environment=False, create_project=True) as run:
        pass
    assert client.projects.get("fraud").name == "fraud"
    assert client.runs.get(run.id).project == "fraud"
    # A second run in the now existing project does not try to create it again.
    with client.start_run("fraud", capture_environment=False, create_project=True):
        pass


def test_environment_is_captured_at_start(client: Client, project: str) -> None:
    with client.start_run(project, seed=7) as run:
        pass
    env = client.runs.get(run.id).environment
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    ).stdout.strip()
    assert env.git_sha == head
    assert env.git_dirty is not None
    assert env.python_version is not None
    assert env.python_version.startswith("3.")
    assert any(p.startswith("httpx==") for p in env.packages)
    assert env.packages == sorted(env.packages, key=str.lower)
    assert env.seed == 7


def test_environment_outside_a_repository_has_no_git(tmp_path: Path) -> None:
    from lockgate.sdk import capture_environment

    env = capture_environment(cwd=tmp_path)
    assert env.git_sha is None
    assert env.git_dirty is None


def test_params_metrics_tags_and_inputs_round_trip(
    client: Client, project: str, tmp_path: Path
) -> None:
    data = tmp_path / "train.csv"
    data.write_text("a,b\n1,2\n")
    with client.start_run(project, capture_environment=False) as run:
        run.log_params({"learning_rate": 0.1, "max_depth": 6, "early_stop": True})
        run.log_metric("loss", 0.9)
        run.log_metric("loss", 0.5)
        run.log_metric("loss", math.nan)
        run.log_metrics({"auc": 0.8, "acc": 0.7}, step=10)
        run.log_metric("auc", 0.85)
        run.set_tag("stage", "dev")
        run.set_tags({"stage": "review", "owner": "ana"})
        run.log_input("customers", fingerprint="a" * 64, schema={"a": "int64"}, row_count=10)
        fingerprint = run.log_input_file("customers-csv", data, row_count=1)
    stored = client.runs.get(run.id)
    assert stored.params == {"learning_rate": "0.1", "max_depth": "6", "early_stop": "True"}
    assert stored.tags == {"stage": "review", "owner": "ana"}
    assert stored.metrics["auc"].value == 0.85
    assert stored.metrics["auc"].step == 11
    assert stored.metrics["acc"].step == 10
    history = client.runs.metric_history(run.id, "loss")
    assert history.steps == [0, 1, 2]
    assert history.values[:2] == [0.9, 0.5]
    assert math.isnan(history.values[2])
    inputs = {d.name: d for d in stored.inputs}
    assert inputs["customers"].schema_ == {"a": "int64"}
    assert inputs["customers"].row_count == 10
    assert inputs["customers-csv"].fingerprint == fingerprint
    assert inputs["customers-csv"].source == data.resolve().as_uri()


def test_log_metrics_batches_past_ten_thousand_points(client: Client, project: str) -> None:
    points = [MetricPoint("loss", 1 / (i + 1), i) for i in range(10_001)]
    with client.start_run(project, capture_environment=False) as run:
        run.log_metrics(points)
    history = client.runs.metric_history(run.id, "loss", page_size=4000)
    assert history.steps == list(range(10_001))
    assert history.next_page_token is None


def test_search_filters_orders_and_pages_lazily(client: Client, project: str) -> None:
    ids = []
    for depth in range(5):
        with client.start_run(project, f"d{depth}", capture_environment=False) as run:
            run.log_param("depth", depth)
            run.log_metric("auc", 0.5 + depth / 10)
        ids.append(run.id)
    found = client.runs.search(
        project, "metrics.auc > 0.55", order_by="metrics.auc desc", page_size=2
    )
    assert [r.id for r in found] == ids[:0:-1]
    assert [r.name for r in client.runs.search(project, "params.depth = '0'")] == ["d0"]


def test_errors_come_back_as_their_classes_with_the_field(client: Client, project: str) -> None:
    with pytest.raises(InvalidInputError, match="lowercase") as bad_name:
        client.projects.create("Bad Name")
    assert bad_name.value.field == "name"
    with pytest.raises(AlreadyExistsError):
        client.projects.create(project)
    with pytest.raises(NotFoundError):
        client.projects.get("nope")
    with pytest.raises(InvalidInputError) as bad_filter:
        list(client.runs.search(project, "metrics.auc >"))
    assert bad_filter.value.field == "filter"
    with client.start_run(project, capture_environment=False) as run:
        run.log_param("lr", 0.1)
        with pytest.raises(ConflictError):
            run.log_param("lr", 0.2)
    with pytest.raises(ConflictError):
        run.end("failed")
    with pytest.raises(ConflictError):
        run.log_metric("late", 1.0)


def test_a_server_that_cannot_be_reached_is_named_in_the_error() -> None:
    with (
        Client("http://127.0.0.1:9", timeout=2) as offline,
        pytest.raises(
            LockgateError, match=r"cannot reach the Lockgate server at http://127\.0\.0\.1:9"
        ),
    ):
        offline.projects.get("churn")


def test_projects_list_pages_through_everything(client: Client) -> None:
    for index in range(5):
        client.projects.create(f"p{index}")
    assert [p.name for p in client.projects.list(page_size=2)] == [f"p{i}" for i in range(5)]
    assert client.projects.exists("p3")
    assert not client.projects.exists("p9")


def test_health_names_the_schema(client: Client) -> None:
    health = client.health()
    assert health["status"] == "ok"


def test_a_failure_to_end_the_run_is_noted_on_the_users_exception(
    client: Client, project: str
) -> None:
    run = client.start_run(project, capture_environment=False)
    client.runs.end(run.id, "killed")  # e.g. an operator stopped it meanwhile
    with pytest.raises(ValueError, match="boom") as raised, run:
        raise ValueError("boom")
    assert any("could not be marked failed" in note for note in raised.value.__notes__)
    assert run.refresh().status == "killed"


def test_local_inputs_must_exist(client: Client, project: str, tmp_path: Path) -> None:
    with client.start_run(project, capture_environment=False) as run:
        with pytest.raises(InvalidInputError) as missing:
            run.log_input_file("data", tmp_path / "absent.csv")
        assert missing.value.field == "local_path"
        with pytest.raises(InvalidInputError) as not_a_dir:
            run.log_artifacts(tmp_path / "absent")
        assert not_a_dir.value.field == "local_dir"


def test_oversized_input_is_an_invalid_input_naming_the_field(client: Client) -> None:
    client.projects.create("limits")
    run_id = client.runs.create("limits").id
    with pytest.raises(InvalidInputError) as too_long:
        client.runs.set_tags(run_id, {"note": "x" * 7000})
    assert too_long.value.field is not None
    assert too_long.value.field.startswith("tags")
    with pytest.raises(InvalidInputError, match="page_size"):
        list(client.runs.search("limits", page_size=5000))
