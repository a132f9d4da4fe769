"""The express lane of `POST /runs/{run_id}/metrics` answers exactly as the regular route:
what it serves is stored and audited the same way, and whatever it declines (odd bodies,
media types, ids, missing callers) reaches the regular route with its body intact."""

from __future__ import annotations

import math

import httpx
import pytest

from lockgate.server.app import create_app
from lockgate.server.routes.tracking import MetricsExpressRoute
from lockgate.settings import Settings
from tests.api.conftest import audit_count

# Declines the lane (only the plain spelling takes it) and is JSON to the regular route.
CHARSET = {"content-type": "application/json; charset=utf-8"}


def _history(api: httpx.Client, run_id: str, key: str) -> dict[str, object]:
    response = api.get(f"/api/v1/runs/{run_id}/metrics/{key}/history")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _without_request_id(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k != "x-request-id"}


def test_the_lane_is_the_first_route_and_takes_only_posts(settings: Settings) -> None:
    app = create_app(settings)
    lane = next(r for r in app.router.routes if isinstance(r, MetricsExpressRoute))
    scope = {"type": "http", "method": "POST", "path": "/api/v1/runs/abc/metrics"}
    assert lane.matches(scope)[0].name == "FULL"
    for other in ({**scope, "method": "GET"}, {**scope, "path": "/api/v1/runs/abc/params"}):
        assert lane.matches(other)[0].name == "NONE"


def test_a_point_through_the_lane_is_stored_and_audited_like_any(
    api: httpx.Client, run_id: str
) -> None:
    before = audit_count(api)
    body = {"metrics": [{"key": "loss", "value": 0.25, "step": 3}]}
    fast = api.post(f"/api/v1/runs/{run_id}/metrics", json=body)
    slow = api.post(
        f"/api/v1/runs/{run_id}/metrics",
        content=b'{"metrics": [{"key": "loss", "value": 0.5, "step": 4}]}',
        headers=CHARSET,
    )
    assert fast.status_code == slow.status_code == 204
    assert _without_request_id(fast) == _without_request_id(slow)
    assert fast.content == slow.content == b""
    assert _history(api, run_id, "loss")["values"] == [0.25, 0.5]
    assert audit_count(api) == before + 2
    events = api.get(
        "/api/v1/audit/events", params={"subject_type": "run", "subject_id": run_id}
    ).json()
    logged = [e for e in events if e["action"] == "run.metrics_logged"]
    assert all(e["subject_type"] == "run" and e["actor"] == "user:tester" for e in logged)
    assert [e["details"] for e in logged] == [{"keys": ["loss"], "points": 1}] * 2


def test_batches_and_timestamps_take_the_lane_too(api: httpx.Client, run_id: str) -> None:
    points = [
        {"key": "acc", "value": i / 10, "step": i, "timestamp": "2026-01-01T00:00:00Z"}
        for i in range(5)
    ]
    response = api.post(f"/api/v1/runs/{run_id}/metrics", json={"metrics": points})
    assert response.status_code == 204, response.text
    history = _history(api, run_id, "acc")
    assert history["steps"] == [0, 1, 2, 3, 4]
    assert history["timestamps"] == ["2026-01-01T00:00:00Z"] * 5
    latest = api.get(f"/api/v1/runs/{run_id}").json()["metrics"]["acc"]
    assert (latest["value"], latest["step"]) == (0.4, 4)


def test_a_body_only_the_regular_parser_reads_is_replayed_to_it(
    api: httpx.Client, run_id: str
) -> None:
    # orjson refuses the NaN literal; Python's json (the regular route's) reads it.
    response = api.post(
        f"/api/v1/runs/{run_id}/metrics",
        content=b'{"metrics": [{"key": "loss", "value": NaN}]}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 204, response.text
    (value,) = _history(api, run_id, "loss")["values"]  # type: ignore[misc]
    assert value == "NaN" or math.isnan(float(value))


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b'{"metrics": [{"key": "loss", "value": "high"}]}', "metrics[0].value"),
        (b'{"metrics": []}', "metrics"),
        (b'{"metrics": [{"key": "loss", "value": 1, "step": -1}]}', "metrics[0].step"),
        (b'{"metrics": [{"key": "loss", "value": 1, "extra": 1}]}', "metrics[0].extra"),
        (b'{"metrics": [{"key": "loss", "value": 1, "timestamp": "2026-01-01T00:00:00"}]}', None),
        (b"{not json", "body"),
        (b"", "body"),
    ],
)
def test_declined_bodies_get_the_regular_routes_errors(
    api: httpx.Client, run_id: str, content: bytes, field: str | None
) -> None:
    path = f"/api/v1/runs/{run_id}/metrics"
    plain = api.post(path, content=content, headers={"content-type": "application/json"})
    regular = api.post(path, content=content, headers=CHARSET)
    assert plain.status_code == regular.status_code == 422, plain.text
    assert plain.headers["content-type"] == "application/problem+json"
    problem = plain.json()
    assert problem["code"] == "invalid_input"
    if field is not None:
        assert problem["field"] == field
    expected = regular.json()
    for document in (problem, expected):
        document.pop("request_id")
    assert problem == expected


def test_service_errors_through_the_lane_are_problems(api: httpx.Client, run_id: str) -> None:
    body = {"metrics": [{"key": "loss", "value": 1.0}]}
    missing = api.post(f"/api/v1/runs/{'0' * 32}/metrics", json=body)
    assert missing.status_code == 404, missing.text
    assert missing.json()["code"] == "not_found"
    malformed = api.post("/api/v1/runs/not-an-id/metrics", json=body)
    assert malformed.status_code == 422, malformed.text
    assert malformed.json()["field"] == "run_id"
    too_long = api.post(f"/api/v1/runs/{'a' * 65}/metrics", json=body)
    assert too_long.status_code == 422, too_long.text
    assert too_long.json()["field"] == "run_id"
    ended = api.post(f"/api/v1/runs/{run_id}/end", json={"status": "finished"})
    assert ended.status_code == 200, ended.text
    refused = api.post(f"/api/v1/runs/{run_id}/metrics", json=body)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "conflict"
    assert refused.json()["request_id"] == refused.headers["x-request-id"]


def test_other_methods_on_the_path_are_the_regular_routes_405(
    api: httpx.Client, run_id: str
) -> None:
    response = api.get(f"/api/v1/runs/{run_id}/metrics")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
