"""Registry over REST: models with required metadata, immutable versions, aliases and history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.api.conftest import audit_count

SIGNATURE = {
    "inputs": [{"name": "age", "type": "int64"}, {"name": "plan", "type": "string"}],
    "outputs": [{"name": "churn", "type": "float64", "shape": [-1, 1]}],
}


def _model(api: httpx.Client, project: str, name: str = "churn-clf") -> None:
    response = api.post(
        "/api/v1/models",
        json={
            "name": name,
            "project": project,
            "owner": "team-growth",
            "description": "predicts churn",
            "metadata": {"framework": "sklearn"},
        },
    )
    assert response.status_code == 201, response.text


def _logged_run(api: httpx.Client, project: str) -> str:
    run = api.post(f"/api/v1/projects/{project}/runs", json={}).json()["id"]
    for path, content in (("model/model.json", b'{"trees": 3}'), ("model/conda.yaml", b"x: 1")):
        put = api.put(f"/api/v1/runs/{run}/artifacts/{path}", content=content)
        assert put.status_code == 201, put.text
    api.put(f"/api/v1/runs/{run}/artifacts/plots/roc.svg", content=b"<svg/>")
    return str(run)


def test_model_requires_owner_and_description(api: httpx.Client, project: str) -> None:
    before = audit_count(api)
    response = api.post(
        "/api/v1/models",
        json={
            "name": "m1",
            "project": project,
            "owner": " ",
            "description": "d",
        },
    )
    assert response.status_code == 422
    assert response.json()["field"] == "owner"
    missing = api.post("/api/v1/models", json={"name": "m1", "project": project, "owner": "o"})
    assert missing.status_code == 422
    assert missing.json()["field"] == "description"
    assert api.get("/api/v1/models").json()["items"] == []
    assert audit_count(api) == before


def test_version_freezes_the_files_under_the_artifact_path(api: httpx.Client, project: str) -> None:
    _model(api, project)
    run = _logged_run(api, project)
    created = api.post(
        "/api/v1/models/churn-clf/versions",
        json={
            "run_id": run,
            "artifact_path": "model",
            "signature": SIGNATURE,
            "description": "v1",
        },
    )
    assert created.status_code == 201, created.text
    version = created.json()
    assert version["version"] == 1
    assert sorted(f["path"] for f in version["files"]) == ["conda.yaml", "model.json"]
    assert version["signature"]["outputs"][0]["shape"] == [-1, 1]
    again = api.post(
        "/api/v1/models/churn-clf/versions", json={"run_id": run, "artifact_path": "model"}
    ).json()
    assert again["version"] == 2
    listed = api.get("/api/v1/models/churn-clf/versions").json()["items"]
    assert [v["version"] for v in listed] == [2, 1]
    assert api.get("/api/v1/models/churn-clf/resolve").json()["version"] == 2
    assert api.get("/api/v1/models/churn-clf/resolve", params={"ref": "1"}).json()["version"] == 1


def test_version_from_nothing_or_a_foreign_run_is_refused(api: httpx.Client, project: str) -> None:
    _model(api, project)
    run = _logged_run(api, project)
    empty = api.post(
        "/api/v1/models/churn-clf/versions", json={"run_id": run, "artifact_path": "nothing-here"}
    )
    assert empty.status_code == 422
    assert empty.json()["field"] == "artifact_path"
    api.post("/api/v1/projects", json={"name": "other"})
    foreign = api.post("/api/v1/projects/other/runs", json={}).json()["id"]
    response = api.post(
        "/api/v1/models/churn-clf/versions", json={"run_id": foreign, "artifact_path": "model"}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "run_id"
    bad_type = dict(SIGNATURE, outputs=[{"name": "y", "type": "complex128"}])
    typed = api.post(
        "/api/v1/models/churn-clf/versions",
        json={"run_id": run, "artifact_path": "model", "signature": bad_type},
    )
    assert typed.json()["field"] == "signature.outputs[0].type"
    assert api.get("/api/v1/models/churn-clf/versions").json()["items"] == []


def test_aliases_move_with_a_queryable_history(api: httpx.Client, project: str) -> None:
    _model(api, project)
    run = _logged_run(api, project)
    for _ in range(2):
        api.post(
            "/api/v1/models/churn-clf/versions", json={"run_id": run, "artifact_path": "model"}
        )
    first = api.put("/api/v1/models/churn-clf/aliases/champion", json={"version": 1}).json()
    assert first["previous_version"] is None
    between = datetime.now(UTC)
    moved = api.put("/api/v1/models/churn-clf/aliases/champion", json={"version": 2}).json()
    assert moved["previous_version"] == 1

    assert api.get("/api/v1/models/churn-clf/aliases/champion").json()["version"] == 2
    at_then = api.get(
        "/api/v1/models/churn-clf/aliases/champion", params={"at": between.isoformat()}
    )
    assert at_then.json()["version"] == 1
    before_any = (datetime.fromisoformat(first["moved_at"]) - timedelta(seconds=1)).isoformat()
    too_early = api.get("/api/v1/models/churn-clf/aliases/champion", params={"at": before_any})
    assert too_early.status_code == 404
    assert api.get("/api/v1/models/churn-clf/versions/2").json()["aliases"] == ["champion"]

    deleted = api.delete("/api/v1/models/churn-clf/aliases/champion")
    assert deleted.json()["version"] is None
    assert api.get("/api/v1/models/churn-clf/aliases/champion").status_code == 404
    history = api.get("/api/v1/models/churn-clf/alias-history").json()
    assert [(m["version"], m["previous_version"]) for m in history] == [
        (1, None),
        (2, 1),
        (None, 2),
    ]


def test_alias_to_a_missing_version_or_a_bad_name_is_refused(
    api: httpx.Client, project: str
) -> None:
    _model(api, project)
    assert (
        api.put("/api/v1/models/churn-clf/aliases/champion", json={"version": 7}).status_code == 404
    )
    bad = api.put("/api/v1/models/churn-clf/aliases/Champion!", json={"version": 1})
    assert bad.status_code == 422
    assert bad.json()["field"] == "alias"
    assert api.get("/api/v1/models/churn-clf/alias-history").json() == []
