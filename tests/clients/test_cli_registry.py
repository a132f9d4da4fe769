"""`lockgate models` against the real app: create, register, show, versions and aliases."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from lockgate.sdk import Client
from tests.clients.conftest import CliInvoke


@pytest.fixture
def run_id(client: Client, project: str, tmp_path: Path) -> str:
    (tmp_path / "model.json").write_text('{"trees": 10}')
    with client.start_run(project, "best", capture_environment=False) as run:
        run.log_artifact(tmp_path / "model.json", "model")
    return run.id


def test_create_register_and_show_a_model(
    invoke: CliInvoke, project: str, run_id: str, tmp_path: Path
) -> None:
    created = invoke(
        "models",
        "create",
        "churn-clf",
        "--project",
        project,
        "--owner",
        "team-retention",
        "--description",
        "Predicts churn",
        "--metadata",
        "task=binary",
    )
    assert created.exit_code == 0, created.output
    signature = tmp_path / "signature.json"
    signature.write_text(
        json.dumps(
            {
                "inputs": [{"name": "tenure", "type": "int64"}],
                "outputs": [{"name": "p", "type": "float64"}],
            }
        )
    )
    registered = invoke(
        "models",
        "register",
        "churn-clf",
        "--run",
        run_id,
        "--artifact-path",
        "model",
        "--signature",
        str(signature),
        "--description",
        "first",
        "--json",
    )
    assert registered.exit_code == 0, registered.output
    version = json.loads(registered.stdout)
    assert version["version"] == 1
    assert version["signature"]["inputs"][0]["name"] == "tenure"
    again = invoke("models", "register", "churn-clf", "--run", run_id, "--artifact-path", "model")
    assert "registered churn-clf version 2" in again.stdout
    assert [m["name"] for m in json.loads(invoke("models", "list", "--json").stdout)] == [
        "churn-clf"
    ]
    assert "churn-clf" in invoke("models", "list", "--project", project).stdout
    shown = invoke("models", "show", "churn-clf")
    assert shown.exit_code == 0, shown.output
    assert "Predicts churn" in shown.stdout
    assert "metadata.task" in shown.stdout
    assert json.loads(invoke("models", "show", "churn-clf", "--json").stdout)["owner"] == (
        "team-retention"
    )
    first = invoke("models", "show", "churn-clf/1")
    assert "version 1" in first.stdout
    assert "tenure" in first.stdout
    assert "model.json" in first.stdout
    versions = json.loads(invoke("models", "versions", "churn-clf", "--json").stdout)
    assert [v["version"] for v in versions] == [2, 1]
    assert "first" in invoke("models", "versions", "churn-clf").stdout


def test_alias_set_delete_history_and_at(
    client: Client, invoke: CliInvoke, project: str, run_id: str
) -> None:
    client.models.create("churn-clf", project=project, owner="o", description="d")
    for _ in range(2):
        client.models.create_version("churn-clf", run_id=run_id, artifact_path="model")
    first = invoke("models", "alias", "set", "churn-clf", "champion", "1")
    assert first.stdout.strip() == "churn-clf@champion: nothing -> version 1"
    moved = json.loads(
        invoke("models", "alias", "set", "churn-clf", "champion", "2", "--json").stdout
    )
    assert (moved["previous_version"], moved["version"]) == (1, 2)
    assert (
        json.loads(invoke("models", "show", "churn-clf@champion", "--json").stdout)["version"] == 2
    )
    history = json.loads(invoke("models", "alias", "history", "churn-clf", "--json").stdout)
    assert [(m["previous_version"], m["version"]) for m in history] == [(None, 1), (1, 2)]
    table = invoke("models", "alias", "history", "churn-clf", "--alias", "champion")
    assert "champion" in table.stdout
    at_first = history[0]["moved_at"]
    at = invoke("models", "alias", "at", "churn-clf", "champion", "--at", at_first)
    assert at.exit_code == 0, at.output
    assert at.stdout.strip().endswith("version 1")
    as_json = invoke("models", "alias", "at", "churn-clf", "champion", "--at", at_first, "--json")
    assert json.loads(as_json.stdout)["version"] == 1
    naive = invoke("models", "alias", "at", "churn-clf", "champion", "--at", "2026-01-01T00:00:00")
    assert naive.exit_code == 2
    before = client.models.alias_history("churn-clf")[0].moved_at - timedelta(days=1)
    none_then = invoke("models", "alias", "at", "churn-clf", "champion", "--at", before.isoformat())
    assert none_then.exit_code == 1
    deleted = invoke("models", "alias", "delete", "churn-clf", "champion")
    assert deleted.stdout.strip() == "churn-clf@champion: version 2 -> nothing (removed)"


def test_bad_metadata_and_signature_are_input_errors(
    invoke: CliInvoke, project: str, run_id: str, tmp_path: Path
) -> None:
    bad = invoke(
        "models",
        "create",
        "m",
        "--project",
        project,
        "--owner",
        "o",
        "--description",
        "d",
        "--metadata",
        "novalue",
    )
    assert bad.exit_code == 1
    assert "KEY=VALUE" in bad.stderr
    invoke("models", "create", "m", "--project", project, "--owner", "o", "--description", "d")
    signature = tmp_path / "sig.json"
    signature.write_text("{not json")
    result = invoke(
        "models",
        "register",
        "m",
        "--run",
        run_id,
        "--artifact-path",
        "model",
        "--signature",
        str(signature),
    )
    assert result.exit_code == 1
    assert "(field: signature)" in result.stderr


def test_models_verify_reports_an_intact_version_and_a_changed_one(
    invoke: CliInvoke, client: Client, tmp_path: Path
) -> None:
    client.projects.create("pk")
    run = client.runs.create("pk")
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"weights" * 50)
    client.artifacts.upload(run.id, weights, "model/w.bin")
    client.models.create("pkm", project="pk", owner="ml", description="d")
    client.models.create_version("pkm", run_id=run.id, artifact_path="model", flavor="onnx")
    assert client.models.manifest("pkm", 1).manifest["flavor"] == "onnx"
    assert client.models.sbom("pkm", 1)["bomFormat"] == "CycloneDX"
    intact = invoke("models", "verify", "pkm/1")
    assert intact.exit_code == 0, intact.output
    assert "intact" in intact.output
    digest = client.models.get_version("pkm", 1).files[0].digest
    (blob,) = [p for p in tmp_path.rglob(digest) if p.is_file() and p != weights]
    blob.chmod(0o600)
    blob.write_bytes(b"Weights" + blob.read_bytes()[7:])
    changed = invoke("models", "verify", "pkm/1")
    assert changed.exit_code == 1
    assert "w.bin: sha256" in changed.output
    assert not client.models.verify("pkm", 1).ok
