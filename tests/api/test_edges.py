"""The edge of the API: media types, body limits, unknown routes, OpenAPI, schema checks."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from lockgate.domain.errors import SchemaOutdatedError
from lockgate.server.app import create_app
from lockgate.settings import Settings


def test_json_routes_refuse_other_media_types(api: httpx.Client) -> None:
    response = api.post(
        "/api/v1/projects",
        content=b"name=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert api.get("/api/v1/projects").json()["items"] == []


def test_oversized_json_body_is_refused(api: httpx.Client, settings: Settings) -> None:
    description = "x" * (settings.max_body_bytes + 10)
    response = api.post("/api/v1/projects", json={"name": "big", "description": description})
    assert response.status_code == 413
    assert api.get("/api/v1/projects").json()["items"] == []


def test_only_artifact_uploads_escape_the_json_rules(api: httpx.Client) -> None:
    api.post("/api/v1/projects", json={"name": "artifacts"})
    response = api.post(
        "/api/v1/projects/artifacts/runs",
        content=b"x" * 300_000,
        headers={"content-type": "text/plain"},
    )
    assert response.status_code in {413, 415}
    assert (
        api.post("/api/v1/projects/artifacts/runs/search", json={"filter": ""}).json()["items"]
        == []
    )


def test_malformed_json_is_an_invalid_input(api: httpx.Client) -> None:
    response = api.post(
        "/api/v1/projects", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_unknown_route_is_a_problem(api: httpx.Client) -> None:
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["request_id"]


def test_page_size_is_bounded(api: httpx.Client) -> None:
    response = api.get("/api/v1/projects", params={"page_size": 5000})
    assert response.status_code == 422
    assert response.json()["field"] == "page_size"
    forged = api.get("/api/v1/projects", params={"page_token": "bm90IGEgY3Vyc29y"})
    assert forged.status_code == 422
    assert forged.json()["field"] == "page_token"


def test_openapi_lists_the_v1_routes(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert "/api/v1/projects/{project}/runs/search" in paths
    assert "/api/v1/models/{name}/aliases/{alias}" in paths
    assert all(p.startswith("/api/v1/") for p in paths)


def test_server_refuses_to_start_on_an_empty_database(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, metadata_url=f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaOutdatedError, match="lockgate db upgrade"):
        create_app(settings)
