"""The evaluation routes on the real app: recording, comparing (the verdict comes from the
server), reading back, and bad input refused as problem+json naming the field, changing
nothing."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from tests.api.conftest import audit_count
from tests.api.world import COMPARISON_BODY, EVALUATION_BODY, fill

JsonBody = dict[str, Any]


@pytest.fixture
def digests(api: httpx.Client, run_id: str) -> dict[str, str]:
    """Model `churn-clf` with versions 1 and 2 (signed) and `champion` on 1."""
    api.put(
        f"/api/v1/runs/{run_id}/artifacts/model/weights.bin",
        content=b"w",
        headers={"content-type": "application/octet-stream"},
    ).raise_for_status()
    model = {"name": "churn-clf", "project": "churn", "owner": "ml", "description": "d"}
    api.post("/api/v1/models", json=model).raise_for_status()
    for _ in range(2):
        version = {"run_id": run_id, "artifact_path": "model"}
        api.post("/api/v1/models/churn-clf/versions", json=version).raise_for_status()
    api.put("/api/v1/models/churn-clf/aliases/champion", json={"version": 1}).raise_for_status()
    return {
        f"digest_{n}": api.get(f"/api/v1/models/churn-clf/versions/{n}/manifest").json()[
            "manifest_sha256"
        ]
        for n in (1, 2)
    }


def _evaluation_body(digests: dict[str, str]) -> JsonBody:
    body = fill(copy.deepcopy(EVALUATION_BODY), digests)
    assert isinstance(body, dict)
    return body


def _comparison_body(digests: dict[str, str]) -> JsonBody:
    body = fill(copy.deepcopy(COMPARISON_BODY), digests)
    assert isinstance(body, dict)
    return body


EVALUATIONS = "/api/v1/models/churn-clf/versions/1/evaluations"
COMPARISONS = "/api/v1/models/churn-clf/comparisons"


def test_an_evaluation_is_recorded_and_read_back(
    api: httpx.Client, digests: dict[str, str]
) -> None:
    body = _evaluation_body(digests)
    body["report"]["segments"] = [
        {"segment": "plan", "value": "pro", "rows": 80, "metrics": {"roc_auc": {"value": 0.7}}}
    ]
    created = api.post(EVALUATIONS, json=body)
    assert created.status_code == 201, created.text
    evaluation = created.json()
    assert (evaluation["model"], evaluation["version"]) == ("churn-clf", 1)
    assert evaluation["package_digest"] == digests["digest_1"]
    assert evaluation["report"]["metrics"]["roc_auc"] == {
        "value": 0.8,
        "lower": pytest.approx(0.79),
        "upper": pytest.approx(0.81),
    }
    assert evaluation["report"]["segments"][0]["metrics"]["roc_auc"]["lower"] is None
    assert evaluation["config"]["resamples"] == 1000  # defaults are recorded
    assert evaluation["dataset"]["fingerprint"] == "d" * 64
    assert api.get(f"/api/v1/evaluations/{evaluation['id']}").json() == evaluation
    second = api.post(EVALUATIONS, json=body).json()
    first_page = api.get(EVALUATIONS, params={"page_size": 1}).json()
    assert [e["id"] for e in first_page["items"]] == [second["id"]]
    rest = api.get(EVALUATIONS, params={"page_token": first_page["next_page_token"]}).json()
    assert [e["id"] for e in rest["items"]] == [evaluation["id"]]
    assert rest["next_page_token"] is None
    assert api.get("/api/v1/models/churn-clf/versions/2/evaluations").json()["items"] == []


def test_a_comparison_returns_the_servers_verdict_with_every_check(
    api: httpx.Client, digests: dict[str, str]
) -> None:
    created = api.post(COMPARISONS, json=_comparison_body(digests))
    assert created.status_code == 201, created.text
    comparison = created.json()
    verdict = comparison["verdict"]
    assert verdict["passed"] is False
    assert verdict["reasons"] == [verdict["checks"][0]["message"]]
    check = verdict["checks"][0]
    assert (check["scope"], check["metric"], check["baseline"], check["candidate"]) == (
        "overall",
        "roc_auc",
        0.8,
        0.75,
    )
    assert check["allowed"] == 0.01
    assert comparison["thresholds"] == {
        "min_rows": 100,
        "rules": [
            {
                "metric": "roc_auc",
                "max_drop": 0.01,
                "relative": False,
                "direction": None,
                "segments": True,
                "significant_only": False,
            }
        ],
    }
    assert (comparison["candidate"]["version"], comparison["baseline"]["version"]) == (2, 1)
    assert comparison["baseline_alias"] == "champion"
    assert api.get(f"/api/v1/comparisons/{comparison['id']}").json() == comparison
    assert (
        api.get(f"/api/v1/evaluations/{comparison['candidate']['id']}").json()
        == (comparison["candidate"])
    )
    body = _comparison_body(digests)
    body["thresholds"] = {"rules": [{"metric": "roc_auc", "max_drop": 0.1}]}
    lenient = api.post(COMPARISONS, json=body).json()
    assert lenient["verdict"] == {
        "passed": True,
        "reasons": [],
        "checks": [
            {
                **check,
                "allowed": 0.1,
                "passed": True,
                "message": lenient["verdict"]["checks"][0]["message"],
            }
        ],
    }
    listed = api.get(COMPARISONS, params={"candidate_version": 2}).json()["items"]
    assert [c["id"] for c in listed] == [lenient["id"], comparison["id"]]
    assert api.get(COMPARISONS, params={"candidate_version": 1}).json()["items"] == []


def _break(body: JsonBody, path: str, value: object) -> JsonBody:
    broken = copy.deepcopy(body)
    *parents, leaf = path.split(".")
    target: Any = broken
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    target[int(leaf) if leaf.isdigit() else leaf] = value
    return broken


EVALUATION_FAULTS: list[tuple[str, object, str]] = [
    ("package_digest", "0" * 64, "package_digest"),
    ("package_digest", "{digest_2}", "package_digest"),
    ("report.metrics.rmse", {"value": 1.0}, "report.metrics"),
    (
        "report.metrics.roc_auc",
        {"value": 0.8, "lower": 0.9, "upper": 0.7},
        "report.metrics.roc_auc",
    ),
    ("report.metrics.roc_auc", {"value": "high"}, "report.metrics.roc_auc.value"),
    ("report.rows", -1, "report.rows"),
    ("report.task", "regression", "report.task"),
    (
        "report.confusion_matrix",
        {"labels": ["a", "b"], "counts": [[1, 2]]},
        "report.confusion_matrix.counts",
    ),
    ("config.target", "", "config.target"),
    ("config.task", "clustering", "config.task"),
    ("config.sensitive", ["sex"], "config.sensitive"),
    ("config.segments", [{"name": "bad", "column": "a", "predicate": "b"}], "config.segments[0]"),
    ("dataset.fingerprint", "short", "dataset.fingerprint"),
    ("engine", "", "engine"),
    ("surprise", 1, "surprise"),
]


@pytest.mark.parametrize(("path", "value", "field"), EVALUATION_FAULTS)
def test_a_bad_evaluation_is_a_problem_naming_the_field_and_changes_nothing(
    api: httpx.Client, digests: dict[str, str], path: str, value: object, field: str
) -> None:
    before = audit_count(api)
    body = _break(_evaluation_body(digests), path, fill(value, digests))
    if path == "config.sensitive":
        body["config"]["task"] = body["report"]["task"] = "regression"
        body["report"]["metrics"] = {}
    response = api.post(EVALUATIONS, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert problem["field"] == field
    assert problem["request_id"]
    assert api.get(EVALUATIONS).json()["items"] == []
    assert audit_count(api) == before


COMPARISON_FAULTS: list[tuple[str, object, str]] = [
    ("candidate.version", 1, "baseline.version"),
    ("baseline.package_digest", "{digest_2}", "baseline.package_digest"),
    ("changes.changes.0.candidate", 0.9, "changes.changes.roc_auc"),
    (
        "changes.changes.0.delta",
        {"value": -0.05, "lower": 1.0, "upper": 0.0},
        "changes.changes.roc_auc.delta",
    ),
    (
        "changes.segment_changes",
        [{"segment": "plan", "value": "x", "rows": 5}],
        "changes.segment_changes[0]",
    ),
    ("changes.fairness_changes", {"sex": []}, "changes.fairness_changes.sex"),
    ("baseline.report.rows", 499, "baseline.report.rows"),
    ("candidate.report.metrics.mae", {"value": 1.0}, "candidate.report.metrics"),
    ("thresholds", {"rules": [{"metric": "rmse", "max_drop": 0.1}]}, "thresholds.rules[0].metric"),
    ("thresholds", {"rules": []}, "thresholds.rules"),
    (
        "thresholds",
        {"rules": [{"metric": "roc_auc", "max_drop": -1}]},
        "thresholds.rules[0].max_drop",
    ),
    ("baseline_alias", "Champion", "baseline_alias"),
    # A client never submits a verdict: the server computes it.
    ("verdict", {"passed": True, "reasons": [], "checks": []}, "verdict"),
]


@pytest.mark.parametrize(("path", "value", "field"), COMPARISON_FAULTS)
def test_a_bad_comparison_is_a_problem_naming_the_field_and_changes_nothing(
    api: httpx.Client, digests: dict[str, str], path: str, value: object, field: str
) -> None:
    before = audit_count(api)
    body = _break(_comparison_body(digests), path, fill(value, digests))
    response = api.post(COMPARISONS, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert api.get(COMPARISONS).json()["items"] == []
    assert api.get("/api/v1/models/churn-clf/versions/2/evaluations").json()["items"] == []
    assert audit_count(api) == before


def test_a_comparison_against_a_moved_alias_is_a_conflict(
    api: httpx.Client, digests: dict[str, str]
) -> None:
    api.put("/api/v1/models/churn-clf/aliases/champion", json={"version": 2}).raise_for_status()
    before = audit_count(api)
    response = api.post(COMPARISONS, json=_comparison_body(digests))
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "alias moved" in response.json()["detail"]
    assert audit_count(api) == before


def test_unknown_objects_are_not_found(api: httpx.Client, digests: dict[str, str]) -> None:
    assert api.get(f"/api/v1/evaluations/{'0' * 32}").status_code == 404
    assert api.get(f"/api/v1/comparisons/{'0' * 32}").status_code == 404
    bad_id = api.get("/api/v1/evaluations/not-an-id")
    assert (bad_id.status_code, bad_id.json()["field"]) == (422, "evaluation_id")
    assert api.get("/api/v1/models/churn-clf/versions/9/evaluations").status_code == 404
    missing = api.post(
        "/api/v1/models/churn-clf/versions/9/evaluations", json=_evaluation_body(digests)
    )
    assert missing.status_code == 404
    assert (
        api.post("/api/v1/models/nope/comparisons", json=_comparison_body(digests)).status_code
        == 404
    )


def test_the_openapi_schema_documents_the_report_shapes(api: httpx.Client) -> None:
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    report = schemas["ReportIO"]["properties"]
    assert set(report) == {
        "task",
        "rows",
        "cutoffs",
        "metrics",
        "confusion_matrix",
        "segments",
        "fairness",
        "calibration",
    }
    assert report["segments"]["maxItems"] == 1000
    assert report["metrics"]["maxProperties"] == 64
    assert set(schemas["Task"]["enum"]) == {
        "binary_classification",
        "multiclass_classification",
        "regression",
        "ranking",
    }
    assert set(schemas["CheckOut"]["properties"]) >= {"scope", "passed", "message", "allowed"}
