"""A populated app with authentication on, shared by the access and attack tests: a project
with a run, a logged artifact and metric, a model version with an alias, one token per role,
and a victim principal, team and token to aim at."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from lockgate.server.app import create_app
from lockgate.server.inprocess import InProcessTransport
from lockgate.settings import Settings

PROJECT_ROLES = ("viewer", "contributor", "reviewer", "deployer", "admin")
PLATFORM_ROLES = ("platform_admin", "auditor")


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def fill(body: object, values: dict[str, str]) -> object:
    """A request body with every `"{name}"` string replaced by the world's value of `name`."""
    if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
        return values.get(body[1:-1], body)
    if isinstance(body, dict):
        return {key: fill(value, values) for key, value in body.items()}
    if isinstance(body, list):
        return [fill(value, values) for value in body]
    return body


def _report(auc: float) -> dict[str, object]:
    return {
        "task": "binary_classification",
        "rows": 500,
        "metrics": {"roc_auc": {"value": auc, "lower": auc - 0.01, "upper": auc + 0.01}},
    }


_DATASET = {"name": "holdout", "fingerprint": "d" * 64, "row_count": 500}
_CONFIG = {"task": "binary_classification", "target": "churned"}

EVALUATION_BODY: dict[str, object] = {
    "dataset": _DATASET,
    "config": _CONFIG,
    "report": _report(0.8),
    "package_digest": "{digest_1}",
    "engine": "world",
}
"""Records an evaluation of version 1 (the path's `{version}`)."""

COMPARISON_BODY: dict[str, object] = {
    "dataset": _DATASET,
    "config": _CONFIG,
    "candidate": {"version": 2, "package_digest": "{digest_2}", "report": _report(0.75)},
    "baseline": {"version": 1, "package_digest": "{digest_1}", "report": _report(0.8)},
    "changes": {
        "changes": [
            {
                "metric": "roc_auc",
                "candidate": 0.75,
                "baseline": 0.8,
                "delta": {"value": 0.75 - 0.8, "lower": -0.07, "upper": -0.03},
            }
        ]
    },
    "baseline_alias": "champion",
    "engine": "world",
}
"""Compares version 2 with version 1, the holder of `champion`: a FAIL."""


def _ok(response: httpx.Response) -> httpx.Response:
    assert response.is_success, response.text
    return response


@dataclass
class World:
    """An app with auth on, a project with a run, a model version and an alias, and one
    token per role."""

    client: httpx.Client
    app: FastAPI
    tokens: dict[str, str]
    values: dict[str, str]
    root: Path


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    settings = Settings(
        home=tmp_path / "home",
        metadata_url=db_url,
        artifacts_url=(tmp_path / "artifacts").as_uri(),
        auth_enabled=True,
        allowed_hosts=["localhost"],
    )
    app = create_app(settings)
    boot = app.state.platform.credentials.bootstrap_admin("root")
    with httpx.Client(transport=InProcessTransport(app), base_url="http://localhost") as client:
        admin = auth(boot.secret)
        tokens = {"root": boot.secret}

        def principal(ref: str, *, role: str | None = None) -> str:
            kind, name = ref.split(":")
            body: dict[str, object] = {"kind": kind, "name": name}
            if role is not None:
                body["platform_role"] = role
            _ok(client.post("/api/v1/principals", json=body, headers=admin))
            if kind == "team":
                return ""
            issued = client.post(
                f"/api/v1/principals/{ref}/tokens", json={"name": "t"}, headers=admin
            )
            return str(_ok(issued).json()["token"])

        _ok(
            client.post(
                "/api/v1/projects", json={"name": "churn", "description": ""}, headers=admin
            )
        )
        for role in PROJECT_ROLES:
            tokens[role] = principal(f"user:{role}-user")
            grant = {"principal": f"user:{role}-user", "role": role}
            _ok(client.put("/api/v1/projects/churn/grants", json=grant, headers=admin))
        for role in PLATFORM_ROLES:
            tokens[role] = principal(f"user:{role}-user", role=role)
        tokens["nobody-user"] = principal("user:nobody")
        tokens["nobody-sa"] = principal("sa:nobody")
        principal("user:victim")
        principal("team:victims")
        _ok(client.put("/api/v1/teams/team:victims/members/user:victim", headers=admin))
        grant = {"principal": "user:victim", "role": "viewer"}
        _ok(client.put("/api/v1/projects/churn/grants", json=grant, headers=admin))
        victim_tokens = _ok(client.get("/api/v1/principals/user:victim/tokens", headers=admin))
        run = _ok(client.post("/api/v1/projects/churn/runs", json={"name": "base"}, headers=admin))
        run_id = run.json()["id"]
        _ok(
            client.put(
                f"/api/v1/runs/{run_id}/artifacts/model/weights.bin",
                content=b"w",
                headers={**admin, "content-type": "application/octet-stream"},
            )
        )
        metrics = {"metrics": [{"key": "loss", "value": 1.0}]}
        _ok(client.post(f"/api/v1/runs/{run_id}/metrics", json=metrics, headers=admin))
        model = {"name": "churn-clf", "project": "churn", "owner": "ml", "description": "d"}
        _ok(client.post("/api/v1/models", json=model, headers=admin))
        version = {"run_id": run_id, "artifact_path": "model"}
        _ok(client.post("/api/v1/models/churn-clf/versions", json=version, headers=admin))
        _ok(
            client.put(
                "/api/v1/models/churn-clf/aliases/champion", json={"version": 1}, headers=admin
            )
        )
        _ok(client.post("/api/v1/models/churn-clf/versions", json=version, headers=admin))
        digests = {
            f"digest_{n}": _ok(
                client.get(f"/api/v1/models/churn-clf/versions/{n}/manifest", headers=admin)
            ).json()["manifest_sha256"]
            for n in (1, 2)
        }
        evaluation = client.post(
            "/api/v1/models/churn-clf/versions/1/evaluations",
            json=fill(EVALUATION_BODY, digests),
            headers=admin,
        )
        comparison = client.post(
            "/api/v1/models/churn-clf/comparisons",
            json=fill(COMPARISON_BODY, digests),
            headers=admin,
        )
        promotion = client.post(
            "/api/v1/models/churn-clf/versions/1/promotions",
            json={"environment": "staging", "reason": "the world's request"},
            headers=admin,
        )
        expires_at = (datetime.now(UTC) + timedelta(days=7)).isoformat()
        exception = client.post(
            "/api/v1/models/churn-clf/versions/1/exceptions",
            json={
                "environment": "staging",
                "gate": "evaluation",
                "justification": "the world's waiver",
                "expires_at": expires_at,
            },
            headers=admin,
        )
        values = {
            **digests,
            "evaluation_id": _ok(evaluation).json()["id"],
            "comparison_id": _ok(comparison).json()["id"],
            "project": "churn",
            "run_id": run_id,
            "path": "model/weights.bin",
            "key": "loss",
            "name": "churn-clf",
            "version": "1",
            "alias": "champion",
            "section": "intended_use",
            "promotion_id": _ok(promotion).json()["request"]["id"],
            "exception_id": _ok(exception).json()["id"],
            "environment": "production",
            "expires_at": expires_at,
            "principal": "user:victim",
            "team": "team:victims",
            "member": "user:victim",
            "token_id": victim_tokens.json()[0]["id"],
            "role": "viewer",
        }
        yield World(client, app, tokens, values, tmp_path)
