"""Signed model packages over REST, on SQLite and PostgreSQL: every version gets a manifest
signed with the registry's Ed25519 key and a CycloneDX SBOM; verification re-hashes every
stored byte and names what changed."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from lockgate.domain.errors import InvalidInputError
from lockgate.server.app import create_app
from lockgate.server.inprocess import InProcessTransport
from lockgate.settings import Settings

ENVIRONMENT = {
    "python_version": "3.11.7",
    "packages": ["numpy==2.1.0", "scikit-learn==1.5.2", "lockgate @ file:///src"],
}
WEIGHTS = b"\x00weights\x01" * 100


def _register(api: httpx.Client, project: str, flavor: str = "sklearn") -> str:
    run = api.post(f"/api/v1/projects/{project}/runs", json={"environment": ENVIRONMENT})
    run_id = run.json()["id"]
    raw = {"content-type": "application/octet-stream"}
    api.put(f"/api/v1/runs/{run_id}/artifacts/model/weights.bin", content=WEIGHTS, headers=raw)
    api.put(f"/api/v1/runs/{run_id}/artifacts/model/conf.json", content=b"{}", headers=raw)
    model = {"name": "clf", "project": project, "owner": "ml", "description": "d"}
    api.post("/api/v1/models", json=model)
    version = {"run_id": run_id, "artifact_path": "model", "flavor": flavor}
    created = api.post("/api/v1/models/clf/versions", json=version)
    assert created.status_code == 201, created.text
    return str(run_id)


def test_a_version_gets_a_manifest_signed_by_the_registry_key(
    api: httpx.Client, project: str
) -> None:
    run_id = _register(api, project)
    body = api.get("/api/v1/models/clf/versions/1/manifest").json()
    manifest = body["manifest"]
    assert manifest["format"] == "lockgate.manifest/1"
    assert (manifest["model"], manifest["version"], manifest["flavor"]) == ("clf", 1, "sklearn")
    assert [f["path"] for f in manifest["files"]] == ["conf.json", "weights.bin"]
    assert manifest["requirements"] == sorted(ENVIRONMENT["packages"])
    assert manifest["python_version"] == "3.11.7"
    assert manifest["run_id"] == run_id
    key = api.get("/api/v1/signing-key").json()
    assert body["key_id"] == key["key_id"]
    public = serialization.load_pem_public_key(key["public_key_pem"].encode())
    assert isinstance(public, Ed25519PublicKey)
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    public.verify(base64.b64decode(body["signature"]), canonical.encode())  # raises if wrong
    assert api.post("/api/v1/models/clf/versions/1/verify").json() == {
        "ok": True,
        "manifest_sha256": body["manifest_sha256"],
        "problems": [],
    }


def test_the_sbom_is_valid_cyclonedx_naming_the_model_files_and_packages(
    api: httpx.Client, project: str
) -> None:
    _register(api, project)
    response = api.get("/api/v1/models/clf/versions/1/sbom")
    assert response.headers["content-type"] == "application/vnd.cyclonedx+json"
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(response.text)
    assert errors is None, errors
    sbom = response.json()
    assert sbom["metadata"]["component"]["type"] == "machine-learning-model"
    purls = {c.get("purl") for c in sbom["components"] if c["type"] == "library"}
    assert {"pkg:pypi/numpy@2.1.0", "pkg:pypi/scikit-learn@1.5.2", "pkg:pypi/lockgate"} <= purls
    hashes = {
        c["name"]: c["hashes"][0]["content"] for c in sbom["components"] if c["type"] == "file"
    }
    files = api.get("/api/v1/models/clf/versions/1").json()["files"]
    assert hashes == {f["path"]: f["digest"] for f in files}
    assert api.get("/api/v1/models/clf/versions/1/sbom").text == response.text  # stable


def test_one_flipped_byte_in_a_stored_file_fails_verification_naming_it(
    api: httpx.Client, project: str, tmp_path: Path
) -> None:
    _register(api, project)
    digest = next(
        f["digest"]
        for f in api.get("/api/v1/models/clf/versions/1").json()["files"]
        if f["path"] == "weights.bin"
    )
    (blob,) = [p for p in (tmp_path / "artifacts").rglob(digest) if p.is_file()]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.chmod(stat.S_IRUSR | stat.S_IWUSR)
    blob.write_bytes(bytes(data))
    verdict = api.post("/api/v1/models/clf/versions/1/verify").json()
    assert verdict["ok"] is False
    assert len(verdict["problems"]) == 1
    assert verdict["problems"][0].startswith("weights.bin: sha256")


def test_an_edited_manifest_fails_its_signature(
    api: httpx.Client, project: str, db_url: str
) -> None:
    _register(api, project)
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE version_manifests SET manifest = replace(manifest, 'sklearn', 'onnx')")
        )
    engine.dispose()
    verdict = api.post("/api/v1/models/clf/versions/1/verify").json()
    assert verdict["ok"] is False
    assert "the manifest was changed" in verdict["problems"][0]


def test_a_registry_with_another_key_refuses_the_package(
    api: httpx.Client, project: str, settings: Settings, tmp_path: Path
) -> None:
    _register(api, project)
    key = settings.resolved_signing_key_path()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    other = settings.model_copy(update={"signing_key_path": tmp_path / "other.pem"})
    with httpx.Client(
        transport=InProcessTransport(create_app(other)), base_url="http://lockgate.test"
    ) as client:
        verdict = client.post("/api/v1/models/clf/versions/1/verify").json()
    assert verdict["ok"] is False
    assert "not this registry's key" in verdict["problems"][0]
    same = settings.model_copy()
    with httpx.Client(
        transport=InProcessTransport(create_app(same)), base_url="http://lockgate.test"
    ) as client:
        assert client.post("/api/v1/models/clf/versions/1/verify").json()["ok"] is True


def test_an_unknown_flavor_is_refused_and_registers_nothing(
    api: httpx.Client, project: str
) -> None:
    with pytest.raises(AssertionError):
        _register(api, project, flavor="pickle")
    assert api.get("/api/v1/models/clf/versions").json()["items"] == []


def test_a_broken_key_file_stops_the_server(settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    with pytest.raises(InvalidInputError, match="not an unencrypted PEM") as refused:
        create_app(settings.model_copy(update={"signing_key_path": bad}))
    assert refused.value.field == "signing_key_path"
