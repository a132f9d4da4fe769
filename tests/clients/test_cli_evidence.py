"""`lockgate evidence export|verify` and `lockgate compliance` against the real app: a version
promoted to production (set up through the services) exports a bundle that verifies offline
with the registry's key pinned; a tampered copy exits 1 naming the member; the compliance
report prints its shares and rows."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from lockgate.sdk import Client
from lockgate.server.composition import build_platform
from lockgate.settings import Settings
from tests.clients.conftest import CliInvoke
from tests.services.test_evidence import StepClock, build_world


@pytest.fixture
def promoted(settings: Settings, client: Client) -> Iterator[str]:
    """`clf/1` of project `churn` in production (bob asked, carol approved); the registry's
    key id."""
    client.health()  # the app has migrated and started
    platform = build_platform(settings)
    try:
        world = build_world(platform, StepClock(), ("churn",))
        world.model("churn", "clf")
        world.to_production("clf")
        yield platform.packages.key_id
    finally:
        platform.close()


def test_export_then_verify_offline_with_the_key_pinned(
    invoke: CliInvoke, promoted: str, client: Client, tmp_path: Path
) -> None:
    bundle = tmp_path / "clf.zip"
    exported = invoke("evidence", "export", "clf/1", "-o", str(bundle))
    assert exported.exit_code == 0, exported.output
    assert str(bundle) in exported.output
    checked = invoke("evidence", "verify", str(bundle), "--fingerprint", promoted)
    assert checked.exit_code == 0, checked.output
    assert "ok   signature: ed25519 over manifest.json by key" in checked.output
    assert "(pinned)" in checked.output
    assert "audit segment: events" in checked.output
    assert "evidence bundle intact: clf/1" in checked.output
    assert "warning" not in checked.output

    key = tmp_path / "registry.pem"
    key.write_text(client.models.signing_key().public_key_pem)
    by_key = invoke("evidence", "verify", str(bundle), "--public-key", str(key), "--json")
    assert by_key.exit_code == 0, by_key.output
    verdict = json.loads(by_key.output)
    assert verdict["ok"] is True
    assert verdict["key_pinned"] is True
    assert verdict["key_fingerprint"] == promoted
    assert "decisions/" in " ".join(verdict["members"])


def test_export_into_a_directory_and_verify_without_a_pin_warns(
    invoke: CliInvoke, promoted: str, tmp_path: Path
) -> None:
    exported = invoke("evidence", "export", "clf/1", "--output", str(tmp_path))
    assert exported.exit_code == 0, exported.output
    bundle = tmp_path / "clf-1-evidence.zip"
    assert bundle.is_file()
    checked = invoke("evidence", "verify", str(bundle))
    assert checked.exit_code == 0, checked.output
    assert "NOT pinned" in checked.output
    assert "warning" in checked.output


def test_a_tampered_bundle_exits_1_naming_the_problem(
    invoke: CliInvoke, promoted: str, tmp_path: Path
) -> None:
    bundle = tmp_path / "clf.zip"
    assert invoke("evidence", "export", "clf/1", "-o", str(bundle)).exit_code == 0
    data = bytearray(bundle.read_bytes())
    with zipfile.ZipFile(bundle) as archive:
        approvals = archive.read("approvals.json")
    data[data.index(approvals) + 10] ^= 0x01
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(bytes(data))
    refused = invoke("evidence", "verify", str(tampered), "--fingerprint", promoted)
    assert refused.exit_code == 1
    assert "evidence bundle refused" in refused.output
    assert "approvals.json" in refused.output
    as_json = invoke("evidence", "verify", str(tampered), "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.output)["ok"] is False
    other_key = invoke("evidence", "verify", str(bundle), "--fingerprint", "ab" * 32)
    assert other_key.exit_code == 1
    assert "not the trusted key" in other_key.output


def test_verify_refuses_both_pins_and_a_non_key(invoke: CliInvoke, tmp_path: Path) -> None:
    bundle = tmp_path / "b.zip"
    bundle.write_bytes(b"not a zip")
    key = tmp_path / "key.pem"
    key.write_text("not a key")
    both = invoke("evidence", "verify", str(bundle), "--public-key", str(key), "--fingerprint", "a")
    assert both.exit_code == 2
    bad_key = invoke("evidence", "verify", str(bundle), "--public-key", str(key))
    assert bad_key.exit_code == 1
    assert "not a PEM public key" in bad_key.output
    garbage = invoke("evidence", "verify", str(bundle))
    assert garbage.exit_code == 1
    assert "not a readable zip archive" in garbage.output


def test_export_of_a_missing_version_fails(
    invoke: CliInvoke, promoted: str, tmp_path: Path
) -> None:
    missing = invoke("evidence", "export", "clf/7", "-o", str(tmp_path / "x.zip"))
    assert missing.exit_code == 1
    assert "error:" in missing.output
    assert not (tmp_path / "x.zip").exists()
    unnumbered = invoke("evidence", "export", "clf@production", "-o", str(tmp_path / "x.zip"))
    assert unnumbered.exit_code == 1
    assert "NAME/VERSION" in unnumbered.output


def test_compliance_prints_the_shares_rows_and_exceptions(invoke: CliInvoke, promoted: str) -> None:
    shown = invoke("compliance", "--project", "churn")
    assert shown.exit_code == 0, shown.output
    assert "compliance of project churn in production" in shown.output
    assert "approvals per policy  100% (1 of 1)" in shown.output
    assert "complete model card   0% (0 of 1)" in shown.output
    assert "clf/1" in shown.output
    assert "no active exceptions" in shown.output
    platform_wide = invoke("compliance", "--json")
    assert platform_wide.exit_code == 0, platform_wide.output
    report = json.loads(platform_wide.output)
    assert report["project"] is None
    assert report["production_models"] == 1
    assert report["policy_compliant"] == {"count": 1, "total": 1, "ratio": 1.0}
    assert report["models"][0]["model"] == "clf"
