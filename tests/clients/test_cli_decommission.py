"""Decommissioning from the SDK and the CLI against the real app: `lockgate retire` of a
version and of a model, archived versions hidden from listings unless asked for, `lockgate
admin retention apply` (and its dry run) through the composition root, and a purged file
answering `gone` (HTTP 410) to the SDK and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from lockgate.cli import decommission as decommission_cli
from lockgate.domain.access import Caller, PrincipalKind, Role
from lockgate.domain.errors import ConflictError, GoneError, InvalidInputError, LockgateError
from lockgate.sdk import Client
from lockgate.server.composition import Platform, build_platform
from lockgate.server.guard import LOOPBACK_HOSTS
from lockgate.server.inprocess import InProcessTransport
from lockgate.settings import Settings
from lockgate.store.artifacts import LocalBlobStore
from tests.clients.conftest import CliInvoke


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """The clients' settings, with no retention period: a retired version's bytes may go at
    the next retention pass."""
    return Settings(
        home=tmp_path / "home",
        metadata_url=db_url,
        artifacts_url=(tmp_path / "artifacts").as_uri(),
        actor="user:tester",
        allowed_hosts=[*LOOPBACK_HOSTS, "lockgate.test"],
        artifact_retention_days=0,
    )


@pytest.fixture
def run_id(client: Client, project: str, tmp_path: Path) -> str:
    """`churn-clf` versions 1 and 2 from one run (different weights), `champion` on 1."""
    for name, text in (("w1.bin", "weights one"), ("w2.bin", "weights two")):
        (tmp_path / name).write_text(text)
    with client.start_run(project, "train", capture_environment=False) as run:
        run.log_artifact(tmp_path / "w1.bin", "v1")
        run.log_artifact(tmp_path / "w2.bin", "v2")
    client.models.create("churn-clf", project=project, owner="ml", description="churn")
    client.models.create_version("churn-clf", run_id=run.id, artifact_path="v1")
    client.models.create_version("churn-clf", run_id=run.id, artifact_path="v2")
    client.models.set_alias("churn-clf", "champion", 1)
    return run.id


def _admin(invoke: CliInvoke, settings: Settings, *args: str) -> tuple[int, str]:
    assert settings.metadata_url is not None
    assert settings.artifacts_url is not None
    result = invoke(
        "admin",
        "retention",
        *args,
        "--home",
        str(settings.home),
        "--metadata-url",
        settings.metadata_url,
        "--artifacts-url",
        settings.artifacts_url,
    )
    return result.exit_code, result.output


def test_the_sdk_retires_a_version_which_stays_readable_but_unlisted(
    client: Client, run_id: str
) -> None:
    retired = client.decommission.retire_version("churn-clf", 1, reason="superseded")

    assert (retired.model, retired.version, retired.status) == ("churn-clf", 1, "archived")
    assert retired.removed_aliases == ["champion"]
    assert retired.archive is not None
    assert retired.archive.reason == "superseded"
    assert retired.archive.archived_by == "user:tester"
    version = client.models.get_version("churn-clf", 1)
    assert version.archive == retired.archive
    assert version.aliases == []
    assert [v.version for v in client.models.list_versions("churn-clf")] == [2]
    every = client.models.list_versions("churn-clf", include_archived=True)
    assert [v.version for v in every] == [2, 1]
    with pytest.raises(ConflictError, match="archived already"):
        client.decommission.retire_version("churn-clf", 1, reason="again")
    with pytest.raises(InvalidInputError) as blank:
        client.decommission.retire_version("churn-clf", 2, reason="")
    assert blank.value.field == "reason"


def test_the_sdk_retires_a_model(client: Client, run_id: str) -> None:
    retired = client.decommission.retire_model("churn-clf", reason="sunset")

    assert retired.archive is not None
    assert [(v.version, v.status) for v in retired.versions] == [
        (2, "archived"),
        (1, "archived"),
    ]
    assert [m.name for m in client.models.list()] == []
    listed = list(client.models.list(include_archived=True))
    assert [(m.name, m.archive is not None) for m in listed] == [("churn-clf", True)]


def test_cli_retire_a_version_and_a_model(invoke: CliInvoke, run_id: str) -> None:
    one = invoke("retire", "churn-clf/1", "--reason", "superseded")
    assert one.exit_code == 0, one.output
    assert "retired churn-clf/1; removed aliases champion; artifacts kept until" in one.output

    versions = invoke("models", "versions", "churn-clf")
    assert versions.exit_code == 0, versions.output
    assert "superseded" not in versions.output
    every = invoke("models", "versions", "churn-clf", "--include-archived", "--json")
    assert [(v["version"], v["archive"] is not None) for v in json.loads(every.output)] == [
        (2, False),
        (1, True),
    ]
    shown = invoke("models", "show", "churn-clf/1")
    assert "retirement reason" in shown.output
    assert "superseded" in shown.output

    model = invoke("retire", "churn-clf", "--reason", "sunset")
    assert model.exit_code == 0, model.output
    assert "retired churn-clf/2; artifacts kept until" in model.output
    assert "churn-clf/1 was retired already" in model.output
    assert "retired model churn-clf" in model.output
    listed = invoke("models", "list", "--include-archived")
    assert "churn-clf" in listed.output
    assert "churn-clf" not in invoke("models", "list").output


def test_cli_retire_refuses_an_alias_and_a_missing_reason(invoke: CliInvoke, run_id: str) -> None:
    alias = invoke("retire", "churn-clf@champion", "--reason", "x")
    assert alias.exit_code == 1
    assert "name the version by number" in alias.output

    missing = invoke("retire", "churn-clf/1")
    assert missing.exit_code == 2
    assert "--reason" in missing.output


def test_admin_retention_dry_run_then_apply_then_downloads_are_gone(
    client: Client,
    invoke: CliInvoke,
    transport: InProcessTransport,
    settings: Settings,
    run_id: str,
    tmp_path: Path,
) -> None:
    client.decommission.retire_version("churn-clf", 1, reason="superseded")
    digest = client.models.get_version("churn-clf", 1).files[0].digest

    code, output = _admin(invoke, settings, "apply", "--dry-run", "--json")
    assert code == 0, output
    plan = json.loads(output)
    # Version 2 came from the same run and is live: the run keeps its files.
    assert plan["dry_run"] is True
    assert plan["purged"] == []
    assert plan["kept"] == [
        {"digest": digest, "reason": f"a file of run {run_id}, which is not retired"}
    ]

    client.decommission.retire_version("churn-clf", 2, reason="superseded too")
    code, output = _admin(invoke, settings, "apply", "--dry-run")
    assert code == 0, output
    assert "would purge 2 blob(s)" in output
    still = client.models.download_file("churn-clf", 1, "w1.bin", tmp_path / "still.bin")
    assert still.read_text() == "weights one"

    code, output = _admin(invoke, settings, "apply")
    assert code == 0, output
    assert "purged 2 blob(s), 22 bytes; kept 0" in output
    assert "churn-clf/1" in output

    with pytest.raises(GoneError, match="purged by artifact retention"):
        client.models.download_file("churn-clf", 1, "w1.bin", tmp_path / "gone.bin")
    request = httpx.Request(
        "GET", "http://lockgate.test/api/v1/models/churn-clf/versions/1/files/w1.bin"
    )
    response = transport.handle_request(request)
    response.read()
    assert response.status_code == 410
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["code"], response.json()["field"]) == ("gone", "digest")
    with pytest.raises(GoneError, match=r"archived versions churn-clf/2"):
        client.artifacts.download(run_id, "v2/w2.bin", tmp_path / "gone2.bin")
    cli = invoke("artifacts", "download", run_id, "v1/w1.bin", "--dest", str(tmp_path / "x.bin"))
    assert cli.exit_code == 1
    assert "purged by artifact retention" in cli.output

    purges = list(client.decommission.purges())
    assert sorted(p.versions[0] for p in purges) == ["churn-clf/1", "churn-clf/2"]
    code, output = _admin(invoke, settings, "purges", "--json")
    assert code == 0, output
    assert {p["digest"] for p in json.loads(output)} == {p.digest for p in purges}
    code, output = _admin(invoke, settings, "apply")
    assert "purged 0 blob(s)" in output
    events = [e.action for e in client.audit.events()]
    assert events.count("retention.applied") == 2


def test_cli_retirement_through_environments_waits_for_an_approval(
    client: Client, invoke: CliInvoke, settings: Settings, run_id: str
) -> None:
    client.promotions.set_tier("churn-clf", "low")
    assert client.promotions.request("churn-clf", 1, to="dev", reason="try").request.status == (
        "promoted"
    )
    staging = client.promotions.request("churn-clf", 1, to="staging", reason="ship").request
    platform = build_platform(settings)
    try:
        reviewer = _reviewer(platform)
        platform.promotions.approve(reviewer, staging.id)

        retired = invoke("retire", "churn-clf/1", "--reason", "replaced")
        assert retired.exit_code == 0, retired.output
        assert "churn-clf/1 is retiring through requests" in retired.output
        assert "(dev), " in retired.output
        assert "(staging); it is archived once it has left every environment" in retired.output
        assert [c.environment for c in client.environments.current("churn-clf")] == ["staging"]

        model = invoke("retire", "churn-clf", "--reason", "sunset")
        assert model.exit_code == 0, model.output
        assert "retired churn-clf/2; artifacts kept until" in model.output
        assert "model churn-clf is retired once its last version is" in model.output
        again = invoke("retire", "churn-clf", "--reason", "sunset", "--json")
        assert again.exit_code == 0, again.output
        document = json.loads(again.output)
        assert document["archive"] is None
        assert [(v["version"], v["status"]) for v in document["versions"]] == [
            (2, "already_archived"),
            (1, "pending"),
        ]

        (pending,) = [
            r for r in client.promotions.list("churn-clf", status="open") if r.kind == "retirement"
        ]
        platform.promotions.approve(reviewer, pending.id)
    finally:
        platform.close()
    archive = client.models.get("churn-clf").archive
    assert archive is not None
    assert archive.reason == "sunset"


def _reviewer(platform: Platform) -> Caller:
    operator = platform.operator()
    platform.principals.create(operator, PrincipalKind.USER, "rita")
    platform.principals.grant(operator, "churn", "user:rita", Role.REVIEWER)
    secret = platform.credentials.issue_token(operator, "user:rita", "t").secret
    return platform.credentials.authenticate_token(secret)


def test_admin_retention_prints_what_it_keeps_and_what_it_could_not_delete(
    client: Client,
    invoke: CliInvoke,
    settings: Settings,
    run_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client.decommission.retire_version("churn-clf", 1, reason="superseded")
    code, output = _admin(invoke, settings, "apply", "--dry-run")
    assert code == 0, output
    assert "blobs kept" in output
    assert "which is not retired" in output
    assert "would purge 0 blob(s), 0 bytes; kept 1" in output

    client.decommission.retire_version("churn-clf", 2, reason="superseded too")

    def failing(self: LocalBlobStore, digest: str) -> None:
        raise LockgateError("disk is read-only")

    monkeypatch.setattr(LocalBlobStore, "delete", failing)
    code, output = _admin(invoke, settings, "apply")
    assert code == 1
    assert "could not delete" in output
    assert "disk is read-only" in output
    assert "2 blob(s) could not be deleted; run the command again" in output
    monkeypatch.undo()

    code, output = _admin(invoke, settings, "apply")
    assert code == 0, output
    assert "purged 2 blob(s)" in output
    monkeypatch.setattr(decommission_cli, "PURGES_PAGE", 1)  # two pages of purges
    code, output = _admin(invoke, settings, "purges")
    assert code == 0, output
    assert "artifact purges" in output
    assert output.count("churn-clf/") == 2
