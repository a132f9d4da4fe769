"""Concurrent writers end in one consistent outcome, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

from lockgate.domain.access import Caller
from lockgate.domain.errors import ConflictError
from lockgate.domain.identity import Actor
from lockgate.domain.tracking import RunEnvironment
from lockgate.server.composition import Platform
from lockgate.services import MetricPoint

ALICE = Caller.local(Actor("user:alice"))


def _run_with_model_files(platform: Platform) -> str:
    platform.tracking.create_project(ALICE, "churn")
    platform.registry.create_model(ALICE, "churn", "clf", "growth", "churn model", {})
    run = platform.tracking.start_run(ALICE, "churn", "r", {}, RunEnvironment()).run
    platform.artifacts.upload(ALICE, run.id, "model/m.json", io.BytesIO(b"{}"))
    return run.id


def test_concurrent_registrations_get_distinct_contiguous_versions(platform: Platform) -> None:
    run_id = _run_with_model_files(platform)

    def register(_: int) -> int:
        version = platform.registry.create_version(ALICE, "clf", run_id, "model", None, "", {})
        return version.version

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(register, range(24)))
    assert sorted(numbers) == list(range(1, 25))
    assert platform.audit.verify(ALICE).ok


def test_racing_to_end_a_run_has_one_winner(platform: Platform) -> None:
    platform.tracking.create_project(ALICE, "churn")
    run = platform.tracking.start_run(ALICE, "churn", "r", {}, RunEnvironment()).run

    def end(status: str) -> str:
        try:
            return platform.tracking.end_run(ALICE, run.id, status).run.status.value
        except ConflictError:
            return "refused"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(end, ["finished", "failed", "killed"] * 2))
    winners = [o for o in outcomes if o != "refused"]
    assert len(winners) == 1
    assert platform.tracking.get_run(ALICE, run.id).run.status.value == winners[0]
    ended_events = [e for e in platform.audit.list_events(ALICE, 0, 100) if e.action == "run.ended"]
    assert len(ended_events) == 1


def test_concurrent_metric_logging_loses_nothing_and_keeps_the_chain(platform: Platform) -> None:
    platform.tracking.create_project(ALICE, "churn")
    run = platform.tracking.start_run(ALICE, "churn", "r", {}, RunEnvironment()).run

    def log(step: int) -> None:
        platform.tracking.log_metrics(ALICE, run.id, [MetricPoint("loss", 1.0 / (step + 1), step)])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(log, range(80)))
    history = platform.tracking.metric_history(ALICE, run.id, "loss", 1000, None).items
    assert [m.step for m in history] == list(range(80))
    assert platform.tracking.get_run(ALICE, run.id).metrics["loss"].step == 79
    verdict = platform.audit.verify(ALICE)
    assert verdict.ok
    assert verdict.checked == 2 + 80
