"""The edge of the API: the Host allow-list, CORS, media types, body limits, unknown routes,
OpenAPI, schema checks."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from lockgate.domain.errors import SchemaOutdatedError
from lockgate.domain.identity import Uuid7Factory
from lockgate.server.app import create_app
from lockgate.server.cors import install_cors
from lockgate.server.guard import EdgeGuard
from lockgate.server.inprocess import InProcessTransport
from lockgate.settings import Settings
from tests.api.conftest import audit_count


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
    # The API lives under /api/v1; the web UI's pages (only sign-in so far) outside it.
    assert {p for p in paths if not p.startswith("/api/v1/")} == {"/login"}


def test_server_refuses_to_start_on_an_empty_database(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, metadata_url=f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaOutdatedError, match="lockgate db upgrade"):
        create_app(settings)


def _json_routes(api: httpx.Client) -> list[tuple[str, str]]:
    spec = api.get("/openapi.json").json()
    return [
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


def test_every_json_route_refuses_other_media_types(api: httpx.Client, run_id: str) -> None:
    before = audit_count(api)
    routes = _json_routes(api)
    assert len(routes) >= 10
    for method, path in routes:
        url = path.format_map(defaultdict(lambda: "x", project="churn", run_id=run_id))
        for media_type in ("text/plain", "application/x-www-form-urlencoded"):
            headers = {"content-type": media_type}
            response = api.request(method, url, content=b'{"a": 1}', headers=headers)
            assert response.status_code == 415, (method, path, response.text)
            assert response.json()["code"] == "unsupported_media_type"
    assert audit_count(api) == before


def test_a_foreign_host_is_refused_before_the_app_runs(api: httpx.Client) -> None:
    before = audit_count(api)
    response = api.post(
        "/api/v1/projects", json={"name": "rebound"}, headers={"host": "evil.example"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "host_not_allowed"
    assert problem["request_id"] == response.headers["x-request-id"]
    assert api.get("/api/v1/health", headers={"host": "lockgate.test:8420"}).status_code == 200
    assert audit_count(api) == before


def test_the_allowed_hosts_setting_reaches_the_guard(settings: Settings) -> None:
    only_ui = settings.model_copy(update={"allowed_hosts": ["ui.example"]})
    transport = InProcessTransport(create_app(only_ui))
    with httpx.Client(transport=transport, base_url="http://ui.example") as client:
        assert client.get("/api/v1/health").status_code == 200
        refused = client.get("/api/v1/health", headers={"host": "lockgate.test"})
        assert refused.json()["code"] == "host_not_allowed"
    transport.close()


async def _answer_ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def _status_through_guard(
    headers: list[tuple[bytes, bytes]], *, http_version: str = "1.1", **guard: Any
) -> int:
    """Send one raw ASGI request (exactly these headers) through an EdgeGuard."""
    app = EdgeGuard(_answer_ok, ids=Uuid7Factory(), max_body_bytes=1024, **guard)
    scope = {"type": "http", "http_version": http_version, "method": "GET", "path": "/"}
    scope["headers"] = headers
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    asyncio.run(app(scope, receive, send))
    return statuses[0]


@pytest.mark.parametrize(
    ("host", "status"),
    [
        (b"127.0.0.1", 200),
        (b"127.0.0.1:8420", 200),
        (b"LocalHost:8420", 200),
        (b"[::1]", 200),
        (b"[::1]:8420", 200),
        (b"::1", 400),  # an IPv6 Host must be bracketed
        (b"[::1", 400),
        (b"[::1]x", 400),
        (b"localhost:http", 400),
        (b"localhost:", 400),
        (b":8420", 400),
        (b"localhost.", 400),
        (b"127.0.0.1.nip.io", 400),
        (b"evil.example", 400),
        (b"", 400),
    ],
)
def test_the_host_header_is_matched_without_its_port(host: bytes, status: int) -> None:
    assert _status_through_guard([(b"host", host)]) == status


def test_a_missing_or_repeated_host_is_refused() -> None:
    assert _status_through_guard([]) == 400
    assert _status_through_guard([(b"host", b"localhost"), (b"host", b"evil.example")]) == 400
    # HTTP/1.0 has no Host (old health checkers); no browser sends such a request.
    assert _status_through_guard([], http_version="1.0") == 200


def test_configured_hosts_are_matched_like_host_headers() -> None:
    hosts = ["Models.Example.COM", "[fd00::1]"]
    assert _status_through_guard([(b"host", b"models.example.com")], allowed_hosts=hosts) == 200
    assert _status_through_guard([(b"host", b"[fd00::1]:443")], allowed_hosts=hosts) == 200
    assert _status_through_guard([(b"host", b"localhost")], allowed_hosts=hosts) == 400


PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "content-type",
}


def test_cors_is_off_without_origins(api: httpx.Client) -> None:
    evil = {"origin": "https://evil.example"}
    preflight = api.options("/api/v1/projects", headers={**evil, **PREFLIGHT})
    assert "access-control-allow-origin" not in preflight.headers
    simple = api.get("/api/v1/projects", headers=evil)
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers


def test_cors_echoes_only_the_configured_origins(settings: Settings) -> None:
    with_ui = settings.model_copy(update={"cors_origins": ["https://ui.example"]})
    transport = InProcessTransport(create_app(with_ui))
    with httpx.Client(transport=transport, base_url="http://lockgate.test") as client:
        ui = {"origin": "https://ui.example"}
        preflight = client.options("/api/v1/projects", headers={**ui, **PREFLIGHT})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://ui.example"
        assert preflight.headers["access-control-allow-credentials"] == "true"
        allowed = preflight.headers["access-control-allow-methods"].split(", ")
        assert set(allowed) == {"GET", "POST", "PUT", "DELETE"}
        simple = client.get("/api/v1/projects", headers=ui)
        assert simple.headers["access-control-allow-origin"] == "https://ui.example"
        refused = client.get("/api/v1/nothing-here", headers=ui)
        assert refused.headers["access-control-allow-origin"] == "https://ui.example"
        evil = {"origin": "https://evil.example"}
        denied = client.options("/api/v1/projects", headers={**evil, **PREFLIGHT})
        assert "access-control-allow-origin" not in denied.headers
        other = client.get("/api/v1/projects", headers=evil)
        assert "access-control-allow-origin" not in other.headers
    transport.close()


def test_install_cors_refuses_wildcards_and_ignores_an_empty_list() -> None:
    app = FastAPI()
    install_cors(app, [])
    assert app.user_middleware == []
    with pytest.raises(ValueError, match="wildcard"):
        install_cors(app, ["https://*.example"])


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/projects/a%00b", "path"),
        ("/api/v1/models?project=%00", "query"),
        ("/api/v1/audit/events?subject_id=a%00", "query"),
    ],
)
def test_a_nul_in_the_url_is_refused_at_the_edge(api: httpx.Client, url: str, field: str) -> None:
    response = api.get(url)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert response.json()["field"] == field


def test_a_search_filter_with_control_characters_is_refused(
    api: httpx.Client, project: str
) -> None:
    for body in ({"filter": "params.lr = 'a\u0000'"}, {"order_by": "metrics.`a\u0000` desc"}):
        response = api.post(f"/api/v1/projects/{project}/runs/search", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["field"] == next(iter(body))


def test_a_repeated_upload_answers_a_documented_status(api: httpx.Client, run_id: str) -> None:
    url = f"/api/v1/runs/{run_id}/artifacts/model/weights.bin"
    headers = {"content-type": "application/octet-stream"}
    assert api.put(url, content=b"abc", headers=headers).status_code == 201
    again = api.put(url, content=b"abc", headers=headers)
    assert again.status_code == 200
    operation = api.get("/openapi.json").json()["paths"]["/api/v1/runs/{run_id}/artifacts/{path}"][
        "put"
    ]
    assert "200" in operation["responses"]
