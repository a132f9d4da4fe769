"""The lineage routes on the real app: edges recorded through the other routes, the graph of a
version and of a dataset, OpenLineage events, and bad queries refused as problem+json."""

from __future__ import annotations

import httpx
import pytest

from tests.support.openlineage import validate_events

VERSION = "/api/v1/models/churn-clf/versions/{version}/lineage"
DATASET = "/api/v1/projects/churn/datasets/{name}/lineage"
FINGERPRINT = "a" * 64


@pytest.fixture
def lineage(api: httpx.Client, run_id: str) -> str:
    """Run `baseline` read `train` and produced version 1 of `churn-clf`."""
    api.post(
        f"/api/v1/runs/{run_id}/inputs",
        json={"name": "train", "fingerprint": FINGERPRINT, "schema": {"x": "float64"}},
    ).raise_for_status()
    api.put(
        f"/api/v1/runs/{run_id}/artifacts/model/weights.bin",
        content=b"w",
        headers={"content-type": "application/octet-stream"},
    ).raise_for_status()
    model = {"name": "churn-clf", "project": "churn", "owner": "ml", "description": "d"}
    api.post("/api/v1/models", json=model).raise_for_status()
    version = {"run_id": run_id, "artifact_path": "model"}
    api.post("/api/v1/models/churn-clf/versions", json=version).raise_for_status()
    return run_id


def test_a_version_graph_upstream(api: httpx.Client, lineage: str) -> None:
    response = api.get(VERSION.format(version=1), params={"direction": "upstream", "depth": 5})
    assert response.status_code == 200, response.text
    graph = response.json()
    assert graph["direction"] == "upstream"
    assert graph["depth"] == 5
    assert graph["truncated"] is False
    assert [(n["kind"], n["label"]) for n in graph["nodes"]] == [
        ("model_version", "churn-clf/1"),
        ("run", "baseline"),
        ("dataset", f"train@{'a' * 12}"),
    ]
    assert graph["nodes"][2]["columns"] == {"x": "float64"}
    assert {(e["relation"], e["target"]) for e in graph["edges"]} == {
        ("input", f"run:{lineage}"),
        ("produced", graph["roots"][0]),
    }


def test_a_dataset_graph_downstream_and_as_openlineage(api: httpx.Client, lineage: str) -> None:
    params = {"direction": "downstream", "fingerprint": FINGERPRINT}
    graph = api.get(DATASET.format(name="train"), params=params).json()
    assert [n["kind"] for n in graph["nodes"]] == ["dataset", "run", "model_version"]
    events = api.get(DATASET.format(name="train"), params={**params, "format": "openlineage"})
    assert events.status_code == 200, events.text
    assert validate_events(events.json()["events"]) == 1
    (event,) = events.json()["events"]
    assert event["eventType"] == "RUNNING"  # the run has not ended
    assert [d["name"] for d in event["outputs"]] == ["models/churn-clf"]


def test_the_default_is_both_ways_as_a_graph(api: httpx.Client, lineage: str) -> None:
    graph = api.get(VERSION.format(version=1)).json()
    assert graph["direction"] == "both"
    assert graph["depth"] == 10
    version = api.get(VERSION.format(version=1), params={"format": "openlineage"})
    assert validate_events(version.json()["events"]) == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"depth": 0}, "depth"),
        ({"depth": 51}, "depth"),
        ({"format": "dot"}, "format"),
    ],
)
def test_a_bad_query_is_refused(
    api: httpx.Client, lineage: str, params: dict[str, object], field: str
) -> None:
    response = api.get(VERSION.format(version=1), params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.text


def test_unknown_versions_and_datasets_are_404(api: httpx.Client, lineage: str) -> None:
    assert api.get(VERSION.format(version=2)).json()["code"] == "not_found"
    assert api.get(DATASET.format(name="nothing")).json()["code"] == "not_found"
    missing = api.get(DATASET.format(name="train"), params={"fingerprint": "b" * 64})
    assert missing.status_code == 404
