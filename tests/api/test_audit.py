"""Every mutation writes one audit event in its transaction, and the chain verifies."""

from __future__ import annotations

import itertools

import httpx


def test_each_mutation_is_audited_with_actor_and_subject(api: httpx.Client, run_id: str) -> None:
    api.post(f"/api/v1/runs/{run_id}/metrics", json={"metrics": [{"key": "a", "value": 1}]})
    api.post(f"/api/v1/runs/{run_id}/end", json={"status": "killed"})
    events = api.get("/api/v1/audit/events").json()
    assert [e["action"] for e in events] == [
        "project.created",
        "run.started",
        "run.metrics_logged",
        "run.ended",
    ]
    assert {e["actor"] for e in events} == {"user:tester"}
    assert events[3]["subject_id"] == run_id
    assert events[3]["details"] == {"status": "killed"}
    for previous, event in itertools.pairwise(events):
        assert event["prev_hash"] == previous["hash"]
    about_run = api.get(
        "/api/v1/audit/events", params={"subject_type": "run", "subject_id": run_id}
    ).json()
    assert len(about_run) == 3
    verdict = api.post("/api/v1/audit/verify").json()
    assert verdict == {"ok": True, "checked": 4, "first_bad_seq": None, "reason": None}


def test_failed_mutations_write_no_event(api: httpx.Client, run_id: str) -> None:
    before = api.post("/api/v1/audit/verify").json()["checked"]
    api.post(f"/api/v1/runs/{run_id}/params", json={"params": {"bad key!": "1"}})
    api.post(f"/api/v1/runs/{run_id}/end", json={"status": "finished"})
    api.post(f"/api/v1/runs/{run_id}/end", json={"status": "finished"})
    assert api.post("/api/v1/audit/verify").json()["checked"] == before + 1
