"""A team on the real app with auth on, for the SDK and CLI promotion tests: `root` (platform
admin) registered model `clf` versions 1 and 2 in project `churn`; `erin` may request
promotions; `carol` and `dave` review; tokens for each."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lockgate.sdk import Client
from lockgate.server.app import create_app
from lockgate.server.composition import build_platform
from lockgate.server.inprocess import InProcessTransport
from lockgate.settings import Settings

ROLES = {"erin": "contributor", "carol": "reviewer", "dave": "reviewer", "vic": "viewer"}


@dataclass
class Team:
    transport: InProcessTransport
    tokens: dict[str, str]
    clients: dict[str, Client]

    def __getitem__(self, name: str) -> Client:
        return self.clients[name]


@pytest.fixture
def team(db_url: str, tmp_path: Path) -> Iterator[Team]:
    settings = Settings(
        home=tmp_path / "home",
        metadata_url=db_url,
        artifacts_url=(tmp_path / "artifacts").as_uri(),
        auth_enabled=True,
        allowed_hosts=["localhost", "127.0.0.1"],
    )
    bootstrap = build_platform(settings)
    try:
        root_token = bootstrap.credentials.bootstrap_admin("root").secret
    finally:
        bootstrap.close()
    transport = InProcessTransport(create_app(settings))
    clients: dict[str, Client] = {}
    tokens = {"root": root_token}
    root = clients["root"] = Client("http://localhost", token=root_token, transport=transport)
    root.projects.create("churn", "customer churn")
    root.models.create("clf", project="churn", owner="growth", description="churn model")
    (tmp_path / "model.json").write_text("{}")
    with root.start_run("churn", "train", capture_environment=False) as run:
        run.log_artifact(str(tmp_path / "model.json"), "model")
    for _ in range(2):
        root.models.create_version("clf", run_id=run.id, artifact_path="model")
    for name, role in ROLES.items():
        root.principals.create_user(name)
        root.grants.add("churn", f"user:{name}", role)
        tokens[name] = root.tokens.issue("test", principal=f"user:{name}").token
        clients[name] = Client("http://localhost", token=tokens[name], transport=transport)
    yield Team(transport, tokens, clients)
    for client in clients.values():
        client.close()
    transport.close()
