"""Tracking over REST: projects, runs, params, metrics, tags, inputs, history and search."""

from __future__ import annotations

import math

import httpx

from tests.api.conftest import audit_count


def test_create_project_then_read_it_back(api: httpx.Client) -> None:
    created = api.post("/api/v1/projects", json={"name": "fraud", "description": "cards"})
    assert created.status_code == 201
    assert created.json()["created_by"] == "user:tester"
    assert api.get("/api/v1/projects/fraud").json()["description"] == "cards"
    names = [p["name"] for p in api.get("/api/v1/projects").json()["items"]]
    assert names == ["fraud"]


def test_bad_project_name_is_a_problem_naming_the_field_and_changes_nothing(
    api: httpx.Client,
) -> None:
    before = audit_count(api)
    response = api.post("/api/v1/projects", json={"name": "Bad Name!", "description": ""})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert problem["field"] == "name"
    assert problem["request_id"] == response.headers["x-request-id"]
    assert api.get("/api/v1/projects").json()["items"] == []
    assert audit_count(api) == before


def test_duplicate_project_is_a_conflict(api: httpx.Client, project: str) -> None:
    response = api.post("/api/v1/projects", json={"name": project})
    assert response.status_code == 409
    assert response.json()["code"] == "already_exists"


def test_unknown_field_in_body_is_refused(api: httpx.Client) -> None:
    response = api.post("/api/v1/projects", json={"name": "x1", "colour": "red"})
    assert response.status_code == 422
    assert response.json()["field"] == "colour"


def test_run_records_params_metrics_tags_inputs_and_environment(
    api: httpx.Client, project: str
) -> None:
    started = api.post(
        f"/api/v1/projects/{project}/runs",
        json={
            "name": "gbm",
            "tags": {"team": "growth"},
            "environment": {
                "git_sha": "a" * 40,
                "git_dirty": True,
                "python_version": "3.11.7",
                "packages": ["numpy==2.0.0"],
                "seed": 42,
            },
        },
    ).json()
    run = started["id"]
    assert started["status"] == "running"
    assert started["project"] == project
    assert api.post(f"/api/v1/runs/{run}/params", json={"params": {"lr": "0.1"}}).status_code == 204
    metrics = [{"key": "loss", "value": v, "step": s} for s, v in enumerate([0.9, 0.5, "NaN"])]
    assert api.post(f"/api/v1/runs/{run}/metrics", json={"metrics": metrics}).status_code == 204
    assert api.post(f"/api/v1/runs/{run}/tags", json={"tags": {"stage": "x"}}).status_code == 204
    dataset = {
        "name": "customers",
        "fingerprint": "f" * 64,
        "row_count": 1000,
        "schema": {"age": "int64", "plan": "string"},
    }
    assert api.post(f"/api/v1/runs/{run}/inputs", json=dataset).status_code == 204

    body = api.get(f"/api/v1/runs/{run}").json()
    assert body["params"] == {"lr": "0.1"}
    assert body["tags"] == {"team": "growth", "stage": "x"}
    assert body["metrics"]["loss"]["step"] == 2
    assert body["metrics"]["loss"]["value"] == "NaN"
    assert body["environment"]["seed"] == 42
    assert body["environment"]["git_dirty"] is True
    assert body["inputs"] == [{**dataset, "source": None}]


def test_params_are_write_once(api: httpx.Client, run_id: str) -> None:
    assert api.post(f"/api/v1/runs/{run_id}/params", json={"params": {"a": "1"}}).status_code == 204
    assert api.post(f"/api/v1/runs/{run_id}/params", json={"params": {"a": "1"}}).status_code == 204
    again = api.post(f"/api/v1/runs/{run_id}/params", json={"params": {"a": "2"}})
    assert again.status_code == 409
    assert api.get(f"/api/v1/runs/{run_id}").json()["params"] == {"a": "1"}


def test_run_lifecycle_ends_once_and_then_refuses_data(api: httpx.Client, run_id: str) -> None:
    ended = api.post(f"/api/v1/runs/{run_id}/end", json={"status": "finished"})
    assert ended.status_code == 200
    assert ended.json()["status"] == "finished"
    assert ended.json()["ended_at"] is not None
    again = api.post(f"/api/v1/runs/{run_id}/end", json={"status": "failed"})
    assert again.status_code == 409
    late = api.post(f"/api/v1/runs/{run_id}/metrics", json={"metrics": [{"key": "a", "value": 1}]})
    assert late.status_code == 409
    assert api.get(f"/api/v1/runs/{run_id}").json()["metrics"] == {}


def test_end_with_unknown_status_names_the_field(api: httpx.Client, run_id: str) -> None:
    response = api.post(f"/api/v1/runs/{run_id}/end", json={"status": "done"})
    assert response.status_code == 422
    assert response.json()["field"] == "status"


def test_batch_with_one_bad_point_stores_nothing(api: httpx.Client, run_id: str) -> None:
    metrics = [{"key": "ok", "value": 1.0}, {"key": "bad key!", "value": 2.0}]
    response = api.post(f"/api/v1/runs/{run_id}/metrics", json={"metrics": metrics})
    assert response.status_code == 422
    assert response.json()["field"] == "metrics[1].key"
    assert api.get(f"/api/v1/runs/{run_id}").json()["metrics"] == {}


def test_metric_history_is_in_step_order_and_pages(api: httpx.Client, run_id: str) -> None:
    points = [{"key": "loss", "value": 1.0 / (s + 1), "step": s} for s in reversed(range(250))]
    points.append({"key": "loss", "value": "Infinity", "step": 250})
    api.post(f"/api/v1/runs/{run_id}/metrics", json={"metrics": points})
    steps: list[int] = []
    values: list[float | str] = []
    token = None
    while True:
        params: dict[str, str | int] = {"page_size": 100}
        if token:
            params["page_token"] = token
        page = api.get(f"/api/v1/runs/{run_id}/metrics/loss/history", params=params).json()
        steps += page["steps"]
        values += page["values"]
        token = page["next_page_token"]
        if token is None:
            break
    assert steps == list(range(251))
    assert values[-1] == "Infinity"
    assert math.isclose(float(values[3]), 0.25)


def test_unknown_run_is_not_found_and_malformed_id_is_invalid(api: httpx.Client) -> None:
    assert api.get(f"/api/v1/runs/{'0' * 32}").json()["code"] == "not_found"
    response = api.get("/api/v1/runs/not-an-id")
    assert response.status_code == 422
    assert response.json()["field"] == "run_id"


def _seed_runs(api: httpx.Client, project: str) -> list[str]:
    ids = []
    for index in range(12):
        run = api.post(f"/api/v1/projects/{project}/runs", json={"name": f"r{index}"}).json()["id"]
        api.post(f"/api/v1/runs/{run}/params", json={"params": {"depth": str(index % 3)}})
        if index != 5:  # one run without the metric: it must sort last
            api.post(
                f"/api/v1/runs/{run}/metrics",
                json={"metrics": [{"key": "auc", "value": index / 10}]},
            )
        ids.append(run)
    return ids


def test_search_filters_orders_and_pages(api: httpx.Client, project: str) -> None:
    ids = _seed_runs(api, project)
    body = {"filter": "metrics.auc >= 0.3 and params.depth = '0'", "order_by": "metrics.auc desc"}
    found = api.post(f"/api/v1/projects/{project}/runs/search", json=body).json()["items"]
    assert [r["id"] for r in found] == [ids[9], ids[6], ids[3]]

    seen: list[str] = []
    token = None
    while True:
        page = api.post(
            f"/api/v1/projects/{project}/runs/search",
            json={"order_by": "metrics.auc asc", "page_size": 5, "page_token": token},
        ).json()
        seen += [r["id"] for r in page["items"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == [i for i in ids if i != ids[5]] + [ids[5]]


def test_a_searched_run_is_the_run_as_get_returns_it(api: httpx.Client, project: str) -> None:
    ids = _seed_runs(api, project)
    response = api.post(f"/api/v1/projects/{project}/runs/search", json={"page_size": 3})
    assert response.headers["content-type"] == "application/json"
    page = response.json()
    assert len(page["items"]) == 3
    assert page["next_page_token"] is not None
    for item in page["items"]:
        assert item["id"] in ids
        assert item == api.get(f"/api/v1/runs/{item['id']}").json()


def test_search_with_a_broken_filter_names_the_filter(api: httpx.Client, project: str) -> None:
    response = api.post(
        f"/api/v1/projects/{project}/runs/search", json={"filter": "metrics.auc > 'high'"}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "filter"
