"""Every route of the app is covered by authentication and authorization, and every role gets
exactly the rights the role matrix in docs/security.md gives it, on SQLite and PostgreSQL.

The routes come from the app itself; a route added without a declared requirement, a body
example or a path value fails here.
"""

from __future__ import annotations

import io
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Route

from lockgate.domain.access import Permission
from lockgate.server.auth import PUBLIC_ROUTES
from lockgate.server.permissions import PERMISSION_KEY
from lockgate.server.routes import ROUTERS
from tests.api.world import (
    COMPARISON_BODY,
    EVALUATION_BODY,
    PLATFORM_ROLES,
    PROJECT_ROLES,
    World,
    auth,
    fill,
    world,
)

__all__ = ["world"]  # the fixture, imported for pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# Bodies of the routes that take one, keyed by method and path template; run_id is filled in.
BODIES: dict[tuple[str, str], object] = {
    ("POST", "/api/v1/auth/login"): {"username": "nobody", "password": "not the password"},
    ("POST", "/api/v1/principals"): {"kind": "user", "name": "new-user"},
    ("PUT", "/api/v1/principals/{principal}/platform-role"): {"role": "auditor"},
    ("PUT", "/api/v1/principals/{principal}/state"): {"disabled": False},
    ("PUT", "/api/v1/principals/{principal}/password"): {"password": "correct horse battery"},
    ("POST", "/api/v1/principals/{principal}/tokens"): {"name": "extra"},
    ("PUT", "/api/v1/projects/{project}/grants"): {"principal": "user:victim", "role": "viewer"},
    ("POST", "/api/v1/projects"): {"name": "another", "description": ""},
    ("POST", "/api/v1/projects/{project}/runs"): {"name": "r"},
    ("POST", "/api/v1/projects/{project}/runs/search"): {},
    ("POST", "/api/v1/runs/{run_id}/end"): {"status": "finished"},
    ("POST", "/api/v1/runs/{run_id}/params"): {"params": {"depth": "6"}},
    ("POST", "/api/v1/runs/{run_id}/metrics"): {"metrics": [{"key": "loss", "value": 0.5}]},
    ("POST", "/api/v1/runs/{run_id}/tags"): {"tags": {"team": "growth"}},
    ("POST", "/api/v1/runs/{run_id}/inputs"): {"name": "train", "fingerprint": "a" * 64},
    ("PUT", "/api/v1/runs/{run_id}/artifacts/{path}"): b"weights",
    ("PUT", "/api/v1/runs/{run_id}/archives/{path}"): _tar({"a.txt": b"a"}),
    ("POST", "/api/v1/models"): {
        "name": "second",
        "project": "churn",
        "owner": "ml",
        "description": "d",
    },
    ("POST", "/api/v1/models/{name}/versions"): {"run_id": "{run_id}", "artifact_path": "model"},
    ("PUT", "/api/v1/models/{name}/aliases/{alias}"): {"version": 1},
    ("POST", "/api/v1/models/{name}/versions/{version}/evaluations"): EVALUATION_BODY,
    ("POST", "/api/v1/models/{name}/comparisons"): COMPARISON_BODY,
    ("POST", "/api/v1/models/{name}/versions/{version}/retire"): {"reason": "superseded"},
    ("POST", "/api/v1/models/{name}/retire"): {"reason": "sunset"},
    ("POST", "/api/v1/environments"): {"name": "canary", "order": 25},
    ("PUT", "/api/v1/models/{name}/governance"): {"tier": "medium", "monitor": None},
    ("POST", "/api/v1/models/{name}/versions/{version}/promotions"): {
        "environment": "staging",
        "reason": "access test",
    },
    ("POST", "/api/v1/promotions/{promotion_id}/approvals"): {"comment": "ok"},
    ("POST", "/api/v1/promotions/{promotion_id}/rejections"): {"comment": "not yet"},
    ("POST", "/api/v1/promotions/{promotion_id}/cancellations"): {},
    ("POST", "/api/v1/models/{name}/versions/{version}/exceptions"): {
        "environment": "staging",
        "gate": "evaluation",
        "justification": "access test",
        "expires_at": "{expires_at}",
    },
    ("POST", "/api/v1/exceptions/{exception_id}/approvals"): {},
    ("POST", "/api/v1/exceptions/{exception_id}/revocations"): {"reason": "done"},
    ("POST", "/api/v1/projects/{project}/policies"): {
        "name": "access_check",
        "source": 'package lockgate.gates.access_check\n\ndeny contains "no" if false\n',
    },
    ("POST", "/api/v1/projects/{project}/policies/{name}/versions/{version}/approve"): {},
    ("POST", "/api/v1/projects/{project}/policies/{name}/versions/{version}/reject"): {
        "comment": "not now"
    },
    ("PUT", "/api/v1/models/{name}/versions/{version}/card/sections/{section}"): {
        "text": "Scores churn risk for the retention team.",
        "row_version": 0,
    },
}


@dataclass(frozen=True)
class Call:
    method: str
    template: str
    requirement: str


def api_calls(app: FastAPI) -> list[Call]:
    """Every operation of the app, from its own OpenAPI document (FastAPI builds it from the
    routes it serves, however routers are nested)."""
    calls = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            requirement = operation.get(PERMISSION_KEY)
            assert requirement, f"{method} {path} declares no requirement (server.permissions)"
            calls.append(Call(method.upper(), path, requirement))
    assert len(calls) > 40
    return calls


def send(world: World, call: Call, token: str | None) -> httpx.Response:
    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in world.values, f"no test value for path parameter {name!r} of {call.template}"
        return world.values[name]

    url = re.sub(r"\{(\w+)\}", value_of, call.template)
    headers = auth(token) if token else {}
    plain = call.template
    body = BODIES.get((call.method, plain))
    if call.method in {"POST", "PUT", "PATCH"} and body is None and _takes_body(world, call):
        pytest.fail(f"add an example body for {call.method} {plain} to BODIES")
    if isinstance(body, bytes):
        headers["content-type"] = "application/octet-stream"
        return world.client.request(call.method, url, content=body, headers=headers)
    if isinstance(body, dict):
        return world.client.request(
            call.method, url, json=fill(body, world.values), headers=headers
        )
    return world.client.request(call.method, url, headers=headers)


def _takes_body(world: World, call: Call) -> bool:
    operation = world.app.openapi()["paths"][call.template]
    return "requestBody" in operation[call.method.lower()]


def test_no_route_hides_from_the_openapi_document(world: World) -> None:
    """The coverage tests enumerate the OpenAPI document; a route left out of it
    (include_in_schema=False) would escape them, so none may be."""
    documented = {(c.method, c.template) for c in api_calls(world.app)}
    served = {
        (method, route.path.replace(":path}", "}"))
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert served == documented


def test_every_route_declares_a_requirement_and_only_the_allow_list_is_public(
    world: World,
) -> None:
    public = {(c.method, c.template) for c in api_calls(world.app) if c.requirement == "public"}
    others = {
        (method, route.path)
        for route in world.app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert public | others <= PUBLIC_ROUTES
    allowed = {str(p) for p in Permission} | {"public", "authenticated", "listing"}
    assert {c.requirement for c in api_calls(world.app)} <= allowed


def test_every_route_refuses_a_request_without_credentials(world: World) -> None:
    for call in api_calls(world.app):
        if call.requirement == "public":
            continue
        response = send(world, call, None)
        assert response.status_code == 401, (call, response.text)
        assert response.json()["code"] == "unauthenticated"
        assert response.headers["www-authenticate"].startswith("Bearer")
        bogus = send(world, call, "lgt_not-a-real-token")
        assert bogus.status_code == 401, (call, bogus.text)


def test_every_governed_route_refuses_a_caller_without_a_grant(world: World) -> None:
    for call in api_calls(world.app):
        response = send(world, call, world.tokens["nobody-sa"])
        if call.requirement == "public":
            # Answered by the route (a login may still fail), never refused at the edge.
            assert "send an API token" not in response.text, call
        elif call.requirement == "authenticated":
            assert response.is_success, (call, response.text)
        elif call.requirement == "listing":
            assert response.status_code == 200, (call, response.text)
            assert response.json()["items"] == [], call
        else:
            assert response.status_code == 403, (call, response.text)
            assert response.json()["code"] == "permission_denied"


def _documented_matrix() -> dict[str, dict[str, bool]]:
    text = DOCS.read_text()
    table = text.split("<!-- role-matrix")[1].split("<!-- /role-matrix -->")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    header = [h.strip() for h in table.splitlines()[1].strip("|").split("|")]
    matrix: dict[str, dict[str, bool]] = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        permission = cells[0].strip("`")
        matrix[permission] = {
            role: cell == "yes" for role, cell in zip(header[1:], cells[1:], strict=True)
        }
    return matrix


def test_the_documented_matrix_names_every_permission_routes_use() -> None:
    matrix = _documented_matrix()
    special = {Permission.PROJECT_CREATE, Permission.CREDENTIALS_MANAGE}
    assert set(matrix) == {str(p) for p in Permission} - {str(p) for p in special}
    for grants in matrix.values():
        assert set(grants) == set(PROJECT_ROLES) | set(PLATFORM_ROLES)


def _expected(requirement: str, role: str, matrix: dict[str, dict[str, bool]]) -> bool:
    if requirement in {"public", "authenticated", "listing"}:
        return True
    if requirement == Permission.PROJECT_CREATE:
        return True  # every caller in this test is a user
    if requirement == Permission.CREDENTIALS_MANAGE:
        return role == "platform_admin"  # the path names another principal
    return matrix[requirement][role]


def test_every_role_gets_exactly_the_documented_rights_on_every_route(world: World) -> None:
    matrix = _documented_matrix()
    calls = [c for c in api_calls(world.app) if c.requirement != "public"]
    mismatches = []
    for role in (*PROJECT_ROLES, *PLATFORM_ROLES):
        for call in calls:
            response = send(world, call, world.tokens[role])
            assert response.status_code < 500, (role, call, response.text)
            allowed = response.status_code not in {401, 403}
            if allowed != _expected(call.requirement, role, matrix):
                mismatches.append((role, call.method, call.template, response.status_code))
    assert not mismatches, mismatches


def test_denied_attempts_are_in_the_audit_log_with_their_actor(world: World) -> None:
    viewer = auth(world.tokens["viewer"])
    denied = world.client.post(
        f"/api/v1/runs/{world.values['run_id']}/params", json={"params": {"x": "1"}}, headers=viewer
    )
    assert denied.status_code == 403
    events = world.client.get(
        "/api/v1/audit/events", params={"limit": 1000}, headers=auth(world.tokens["root"])
    ).json()
    refusals = [e for e in events if e["action"] == "access.denied"]
    assert refusals[-1]["actor"] == "user:viewer-user"
    assert refusals[-1]["details"]["permission"] == "run.write"
    assert refusals[-1]["subject_type"] == "run"
    assert world.client.post("/api/v1/audit/verify", headers=auth(world.tokens["root"])).json()[
        "ok"
    ]
