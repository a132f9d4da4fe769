"""The real app in-process, on each metadata dialect, with local artifacts under tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lockgate.server.app import create_app
from lockgate.server.guard import LOOPBACK_HOSTS
from lockgate.server.inprocess import InProcessTransport
from lockgate.settings import Settings


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        metadata_url=db_url,
        artifacts_url=(tmp_path / "artifacts").as_uri(),
        max_upload_bytes=1024 * 1024,
        max_body_bytes=256 * 1024,
        actor="user:tester",
        # The in-process clients talk to http://lockgate.test.
        allowed_hosts=[*LOOPBACK_HOSTS, "lockgate.test"],
    )


@pytest.fixture
def api(settings: Settings) -> Iterator[httpx.Client]:
    transport = InProcessTransport(create_app(settings))
    with httpx.Client(transport=transport, base_url="http://lockgate.test") as client:
        yield client


@pytest.fixture
def project(api: httpx.Client) -> str:
    response = api.post("/api/v1/projects", json={"name": "churn", "description": "demo"})
    assert response.status_code == 201, response.text
    return "churn"


@pytest.fixture
def run_id(api: httpx.Client, project: str) -> str:
    response = api.post(f"/api/v1/projects/{project}/runs", json={"name": "baseline"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def audit_count(api: httpx.Client) -> int:
    """How many audit events exist (the verify endpoint counts them)."""
    return int(api.post("/api/v1/audit/verify").json()["checked"])
