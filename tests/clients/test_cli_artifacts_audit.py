"""`lockgate artifacts` and `lockgate audit` against the real app: transfers with progress bars,
listing, and the audit log read and verified through the server."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from lockgate.sdk import Client
from tests.clients.conftest import CliInvoke


@pytest.fixture
def run_id(client: Client, project: str) -> str:
    return client.start_run(project, "files", capture_environment=False).id


def test_upload_a_file_and_a_directory_then_list_and_download(
    invoke: CliInvoke, run_id: str, tmp_path: Path
) -> None:
    payload = os.urandom(1_500_000)
    weights = tmp_path / "weights.bin"
    weights.write_bytes(payload)
    uploaded = invoke("artifacts", "upload", run_id, str(weights), "--path", "model/weights.bin")
    assert uploaded.exit_code == 0, uploaded.output
    assert f"sha256 {hashlib.sha256(payload).hexdigest()}" in uploaded.stdout
    assert "uploading" in uploaded.stderr
    assert "model/weights.bin" in uploaded.stderr
    tree = tmp_path / "plots"
    tree.mkdir()
    (tree / "auc.svg").write_text("<svg/>")
    (tree / "loss.svg").write_text("<svg/>")
    as_json = invoke("artifacts", "upload", run_id, str(tree), "--path", "plots", "--json")
    assert [a["path"] for a in json.loads(as_json.stdout)] == ["plots/auc.svg", "plots/loss.svg"]
    listed = json.loads(invoke("artifacts", "list", run_id, "--json").stdout)
    assert [a["path"] for a in listed] == ["model/weights.bin", "plots/auc.svg", "plots/loss.svg"]
    table = invoke("artifacts", "list", run_id, "--prefix", "plots")
    assert "plots/auc.svg" in table.stdout
    assert "weights.bin" not in table.stdout
    out = tmp_path / "out"
    out.mkdir()
    downloaded = invoke("artifacts", "download", run_id, "model/weights.bin", "--dest", str(out))
    assert downloaded.exit_code == 0, downloaded.output
    assert "downloading" in downloaded.stderr
    assert (out / "weights.bin").read_bytes() == payload
    folder = invoke("artifacts", "download", run_id, "plots", "--dest", str(tmp_path / "p"))
    assert folder.exit_code == 0, folder.output
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["auc.svg", "loss.svg"]
    missing = invoke("artifacts", "download", run_id, "nope", "--dest", str(out))
    assert missing.exit_code == 1


def test_audit_events_and_verify_through_the_server(
    invoke: CliInvoke, client: Client, project: str
) -> None:
    events = json.loads(invoke("audit", "events", "--json").stdout)
    assert events[0]["action"] == "project.created"
    assert events[0]["subject_id"] == client.projects.get(project).id
    table = invoke("audit", "events", "--limit", "1")
    assert "project.created" in table.stdout
    verified = invoke("audit", "verify", "--url", "http://lockgate.test")
    assert verified.exit_code == 0, verified.output
    assert f"audit chain intact: {len(events)} events checked" in verified.stdout
    verdict = json.loads(
        invoke("audit", "verify", "--url", "http://lockgate.test", "--json").stdout
    )
    assert verdict["ok"] is True
