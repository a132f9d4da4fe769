"""The SDK and the CLI wired to the real app in-process, on each metadata dialect."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lockgate.cli.context import CliState
from lockgate.cli.main import cli
from lockgate.sdk import Client
from lockgate.server.app import create_app
from lockgate.server.guard import LOOPBACK_HOSTS
from lockgate.server.inprocess import InProcessTransport
from lockgate.settings import Settings

CliInvoke = Callable[..., Result]


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        metadata_url=db_url,
        artifacts_url=(tmp_path / "artifacts").as_uri(),
        actor="user:tester",
        # The in-process clients talk to http://lockgate.test.
        allowed_hosts=[*LOOPBACK_HOSTS, "lockgate.test"],
    )


@pytest.fixture
def transport(settings: Settings) -> Iterator[InProcessTransport]:
    transport = InProcessTransport(create_app(settings))
    yield transport
    transport.close()


@pytest.fixture
def client(transport: InProcessTransport) -> Client:
    return Client("http://lockgate.test", transport=transport)


@pytest.fixture
def project(client: Client) -> str:
    client.projects.create("churn", "customer churn")
    return "churn"


@pytest.fixture
def invoke(transport: InProcessTransport) -> CliInvoke:
    """Run `lockgate ARGS...` against the in-process app; returns click's Result."""
    runner = CliRunner()

    def run(*args: str, color: bool = False) -> Result:
        return runner.invoke(cli, list(args), obj=CliState(transport=transport), color=color)

    return run
