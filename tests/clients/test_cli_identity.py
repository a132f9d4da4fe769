"""`lockgate admin bootstrap`, `whoami`, `principals`, `teams`, `tokens` and `grants` against the
real app with auth on, on each dialect; and `--token` / LOCKGATE_TOKEN on every server command."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lockgate.cli.context import CliState
from lockgate.cli.main import cli
from lockgate.sdk import Client
from lockgate.server.app import create_app
from lockgate.server.composition import build_platform
from lockgate.server.inprocess import InProcessTransport
from lockgate.settings import Settings

Invoke = Callable[..., Result]


@pytest.fixture
def auth_settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        metadata_url=db_url,
        artifacts_url=(tmp_path / "artifacts").as_uri(),
        auth_enabled=True,
        allowed_hosts=["localhost", "127.0.0.1", "lockgate.test"],
    )


@pytest.fixture
def transport(auth_settings: Settings) -> Iterator[InProcessTransport]:
    transport = InProcessTransport(create_app(auth_settings))
    yield transport
    transport.close()


@pytest.fixture
def lockgate(transport: InProcessTransport) -> Invoke:
    """Run `lockgate ARGS...` against the in-process app; `env` adds environment variables
    (LOCKGATE_TOKEN is unset unless given)."""
    runner = CliRunner()

    def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        environment: dict[str, str | None] = {"LOCKGATE_TOKEN": None, **(env or {})}
        return runner.invoke(
            cli, list(args), obj=CliState(transport=transport), env=environment, input=input
        )

    return run


@pytest.fixture
def store_options(auth_settings: Settings) -> list[str]:
    """The settings options that point `lockgate admin` at the app's database."""
    return [
        "--home",
        str(auth_settings.home),
        "--metadata-url",
        auth_settings.resolved_metadata_url(),
        "--artifacts-url",
        auth_settings.resolved_artifacts_url(),
    ]


@pytest.fixture
def root_token(auth_settings: Settings) -> str:
    platform = build_platform(auth_settings)
    try:
        return platform.credentials.bootstrap_admin("root").secret
    finally:
        platform.close()


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def refused(result: Result, message: str) -> None:
    """Exit code 1 and one error line on stderr that says `message` (after the progress
    bar of an upload, if any)."""
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [result.stderr.splitlines()[-1]], result.stderr
    assert errors[0].startswith(f"error: {message}"), result.stderr


def test_admin_bootstrap_prints_a_working_token_once(
    lockgate: Invoke, store_options: list[str]
) -> None:
    refused(lockgate("whoami"), "send an API token")
    booted = ok(lockgate(*store_options, "admin", "bootstrap", "--username", "root"))
    token = booted.stdout.strip()
    assert booted.stdout == f"{token}\n"
    assert token.startswith("lgt_")
    assert booted.output.count(token) == 1
    assert "created platform admin user:root" in booted.stderr
    assert "shown only once" in booted.stderr
    me = ok(lockgate("whoami", "--token", token))
    assert "user:root" in me.stdout
    assert "platform_admin" in me.stdout
    # The token works from the environment and from the root command too.
    as_env = json.loads(ok(lockgate("whoami", "--json", env={"LOCKGATE_TOKEN": token})).stdout)
    assert (as_env["actor"], as_env["via"]) == ("user:root", "token")
    assert "user:root" in ok(lockgate("--token", token, "whoami")).stdout
    # A token given on the command line wins over the environment.
    given = lockgate("--token", token, "whoami", env={"LOCKGATE_TOKEN": "lgt_stale"})
    assert "user:root" in ok(given).stdout
    refused(lockgate("whoami", "--token", "lgt_bad", env={"LOCKGATE_TOKEN": token}), "the creden")
    assert ok(lockgate("--token", token, "projects", "create", "churn")).exit_code == 0
    # A second bootstrap is refused and prints no token.
    again = lockgate(*store_options, "admin", "bootstrap", "--username", "mallory", "--json")
    refused(again, "a platform admin exists already")
    assert again.stdout == ""
    refused(lockgate("whoami", "--token", "lgt_guessed"), "the credentials are unknown")


def test_admin_bootstrap_json(lockgate: Invoke, store_options: list[str]) -> None:
    booted = json.loads(
        ok(lockgate(*store_options, "admin", "bootstrap", "--username", "ops", "--json")).stdout
    )
    assert booted["name"] == "bootstrap"
    assert booted["token"].startswith(booted["hint"])
    assert json.loads(ok(lockgate("whoami", "--token", booted["token"], "--json")).stdout)[
        "actor"
    ] == ("user:ops")
    refused(lockgate(*store_options, "admin", "bootstrap", "--username", "ops"), "a platform admin")


def test_principals_teams_and_grants(lockgate: Invoke, root_token: str) -> None:
    def admin(*args: str, input: str | None = None) -> Result:
        return lockgate(*args, "--token", root_token, input=input)

    ok(admin("projects", "create", "churn"))
    assert ok(admin("principals", "create", "user:alice", "--display-name", "Alice")).stdout == (
        "created user:alice\n"
    )
    ok(admin("principals", "create", "sa:ci-bot"))
    team = json.loads(ok(admin("principals", "create", "team:ml", "--json")).stdout)
    assert (team["ref"], team["kind"]) == ("team:ml", "team")
    refused(
        admin("principals", "create", "team:ops", "--platform-role", "auditor"),
        "teams hold project roles only (field: platform_role)",
    )
    refused(admin("principals", "create", "alice"), "principal 'alice' must be user:NAME")
    refused(admin("principals", "create", "user:alice"), "user:alice already exists (field: name)")
    listed = json.loads(ok(admin("principals", "list", "--json")).stdout)
    assert sorted(p["ref"] for p in listed) == ["sa:ci-bot", "team:ml", "user:alice", "user:root"]
    service_accounts = ok(admin("principals", "list", "--kind", "sa")).stdout
    assert "sa:ci-bot" in service_accounts
    assert "user:alice" not in service_accounts
    shown = ok(admin("principals", "show", "user:alice")).stdout
    assert "Alice" in shown
    assert "active" in shown
    assert "API tokens only" in shown
    assert (
        "now holds auditor" in ok(admin("principals", "set-role", "user:alice", "auditor")).stdout
    )
    assert "no platform role" in ok(admin("principals", "set-role", "user:alice", "none")).stdout
    refused(admin("principals", "set-role", "user:root", "none"), "this is the last platform admin")
    secret = "correct horse battery staple"
    ok(admin("principals", "set-password", "user:alice", input=f"{secret}\n{secret}\n"))
    assert json.loads(ok(admin("principals", "show", "user:alice", "--json")).stdout)[
        "has_password"
    ]
    assert "disabled user:alice" in ok(admin("principals", "disable", "user:alice")).stdout
    assert json.loads(ok(admin("principals", "show", "user:alice", "--json")).stdout)["disabled"]
    assert ok(admin("principals", "enable", "user:alice")).stdout == "enabled user:alice\n"
    # Teams.
    ok(admin("teams", "add-member", "ml", "user:alice"))
    ok(admin("teams", "add-member", "team:ml", "sa:ci-bot"))
    members = json.loads(ok(admin("teams", "members", "ml", "--json")).stdout)
    assert [m["ref"] for m in members] == ["sa:ci-bot", "user:alice"]
    ok(admin("teams", "remove-member", "ml", "user:alice"))
    assert "user:alice" not in ok(admin("teams", "members", "ml")).stdout
    refused(admin("teams", "add-member", "ml", "team:ml"), "teams do not nest")
    # Grants.
    added = json.loads(
        ok(admin("grants", "add", "team:ml", "viewer", "--project", "churn", "--json")).stdout
    )
    assert (added["principal"], added["role"]) == ("team:ml", "viewer")
    table = ok(admin("grants", "list", "--project", "churn")).stdout
    assert "team:ml" in table
    assert "viewer" in table
    ok(admin("grants", "remove", "team:ml", "viewer", "--project", "churn"))
    grants = json.loads(ok(admin("grants", "list", "--project", "churn", "--json")).stdout)
    assert [(g["principal"], g["role"]) for g in grants] == [("user:root", "admin")]
    refused(admin("grants", "remove", "team:ml", "viewer", "--project", "churn"), "team:ml holds")
    assert admin("grants", "add", "team:ml", "owner", "--project", "churn").exit_code == 2


def test_tokens_create_list_and_revoke(lockgate: Invoke, root_token: str) -> None:
    def admin(*args: str) -> Result:
        return lockgate(*args, "--token", root_token)

    ok(admin("projects", "create", "churn"))
    ok(admin("principals", "create", "sa:ci-bot"))
    ok(admin("grants", "add", "sa:ci-bot", "contributor", "--project", "churn"))
    created = ok(
        admin(
            "tokens",
            "create",
            "ci",
            "--principal",
            "sa:ci-bot",
            "--expires-in-days",
            "30",
            "--project",
            "churn",
            "--role",
            "viewer",
        )
    )
    secret = created.stdout.strip()
    assert created.stdout == f"{secret}\n"
    assert created.output.count(secret) == 1
    assert "for sa:ci-bot" in created.stderr
    assert "shown only once" in created.stderr
    me = json.loads(ok(lockgate("whoami", "--json", env={"LOCKGATE_TOKEN": secret})).stdout)
    assert (me["actor"], me["scope_role"]) == ("sa:ci-bot", "viewer")
    assert me["scope_project_id"] is not None
    listed = json.loads(ok(admin("tokens", "list", "--principal", "sa:ci-bot", "--json")).stdout)
    assert [t["name"] for t in listed] == ["ci"]
    assert "token" not in listed[0]
    expires = datetime.fromisoformat(listed[0]["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)
    assert "active" in ok(admin("tokens", "list", "--principal", "sa:ci-bot")).stdout
    # Without --principal, tokens are the caller's own.
    mine = json.loads(ok(admin("tokens", "create", "laptop", "--json")).stdout)
    own = json.loads(ok(admin("tokens", "list", "--json")).stdout)
    assert sorted(t["name"] for t in own) == ["bootstrap", "laptop"]
    assert mine["token"] not in ok(admin("tokens", "list")).stdout
    revoked = ok(admin("tokens", "revoke", listed[0]["id"]))
    assert revoked.stdout == f"revoked token ci ({listed[0]['id']})\n"
    assert "revoked" in ok(admin("tokens", "list", "--principal", "sa:ci-bot")).stdout
    refused(
        lockgate("whoami", "--token", secret), "the credentials are unknown, expired or revoked"
    )
    refused(admin("tokens", "create", "bad", "--principal", "team:ml"), "teams cannot hold tokens")
    assert admin("tokens", "create", "x", "--expires-in-days", "0").exit_code == 2


def test_a_viewer_is_refused_on_every_write(
    lockgate: Invoke, transport: InProcessTransport, root_token: str, tmp_path: Path
) -> None:
    model_file = tmp_path / "model.json"
    model_file.write_text('{"trees": 3}')
    with Client("http://localhost", token=root_token, transport=transport) as admin:
        admin.projects.create("churn")
        run = admin.runs.create("churn", name="baseline")
        admin.artifacts.upload(run.id, model_file, "model/model.json")
        admin.models.create("churn-clf", project="churn", owner="ml", description="churn")
        admin.models.create_version("churn-clf", run_id=run.id, artifact_path="model")
        admin.models.set_alias("churn-clf", "champion", 1)
        admin.principals.create_service_account("ci-bot")
        admin.grants.add("churn", "sa:ci-bot", "viewer")
        viewer_token = admin.tokens.issue("ci", principal="sa:ci-bot").token
        before = admin.audit.verify().checked

        def viewer(*args: str) -> Result:
            return lockgate(*args, env={"LOCKGATE_TOKEN": viewer_token})

        assert run.id in ok(viewer("runs", "list", "churn")).stdout
        assert "churn-clf" in ok(viewer("models", "list")).stdout
        assert "champion" in ok(viewer("models", "show", "churn-clf@champion")).stdout
        writes = [
            ("projects", "create", "mine"),
            (
                "models",
                "create",
                "evil",
                "--project",
                "churn",
                "--owner",
                "x",
                "--description",
                "d",
            ),
            ("models", "register", "churn-clf", "--run", run.id, "--artifact-path", "model"),
            ("models", "alias", "set", "churn-clf", "champion", "1"),
            ("models", "alias", "delete", "churn-clf", "champion"),
            ("artifacts", "upload", run.id, str(model_file)),
            ("grants", "add", "sa:ci-bot", "admin", "--project", "churn"),
            ("principals", "create", "user:mallory"),
            ("tokens", "create", "stolen", "--principal", "user:root"),
        ]
        for write in writes:
            refused(viewer(*write), "permission denied")
        events = list(admin.audit.events(after_seq=before))
        assert [(e.action, e.actor) for e in events] == [("access.denied", "sa:ci-bot")] * len(
            writes
        )
        assert [v.version for v in admin.models.list_versions("churn-clf")] == [1]
        assert admin.models.resolve("churn-clf@champion").version == 1
        assert [a.path for a in admin.artifacts.list(run.id)] == ["model/model.json"]
