"""The loader fetches a version's files and refuses anything that is not byte for byte what the
registry signed: a changed file in the blob store or in the cache, a changed manifest, a
signature from another key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from lockgate.domain.errors import InvalidInputError, PackageIntegrityError
from lockgate.sdk import Client
from lockgate.serving.loader import fetch_package, load_package, verify_files
from lockgate.settings import Settings


def _register(client: Client, project: str, tmp_path: Path) -> str:
    source = tmp_path / "source"
    (source / "nested").mkdir(parents=True)
    (source / "weights.bin").write_bytes(bytes(range(256)) * 64)
    (source / "nested" / "config.json").write_text(json.dumps({"depth": 3}))
    client.models.create("churn", project=project, owner="team:ml", description="churn model")
    with client.start_run(project, "train") as run:
        run.log_artifacts(source, "model")
        run.register_model("churn", "model")
    client.models.set_alias("churn", "champion", 1)
    return "churn@champion"


def _other_key() -> str:
    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def test_fetch_downloads_and_verifies_every_file(
    client: Client, project: str, tmp_path: Path
) -> None:
    ref = _register(client, project, tmp_path)

    package = fetch_package(client, ref, tmp_path / "cache")

    assert package.ref == "churn/1"
    assert package.directory == tmp_path / "cache" / package.manifest.digest
    assert (package.directory / "weights.bin").read_bytes() == bytes(range(256)) * 64
    assert json.loads((package.directory / "nested" / "config.json").read_text()) == {"depth": 3}
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".")]
    # A second fetch uses the cache, after checking it.
    assert fetch_package(client, "churn/1", tmp_path / "cache") == package


def test_a_flipped_byte_in_the_cache_stops_the_load(
    client: Client, project: str, tmp_path: Path
) -> None:
    package = fetch_package(client, _register(client, project, tmp_path), tmp_path / "cache")
    weights = package.directory / "weights.bin"
    data = bytearray(weights.read_bytes())
    data[1000] ^= 0x01
    weights.write_bytes(bytes(data))

    with pytest.raises(PackageIntegrityError, match=r"weights\.bin: sha256"):
        load_package(package)
    with pytest.raises(PackageIntegrityError, match=r"weights\.bin"):
        fetch_package(client, "churn@champion", tmp_path / "cache")


def test_an_extra_or_missing_file_in_the_cache_stops_the_load(
    client: Client, project: str, tmp_path: Path
) -> None:
    package = fetch_package(client, _register(client, project, tmp_path), tmp_path / "cache")
    (package.directory / "evil.py").write_text("import os")
    with pytest.raises(PackageIntegrityError, match=r"evil\.py: not in the manifest"):
        verify_files(package)
    (package.directory / "evil.py").unlink()
    (package.directory / "nested" / "config.json").unlink()
    with pytest.raises(PackageIntegrityError, match=r"nested/config\.json: missing"):
        verify_files(package)


def test_a_changed_blob_in_the_store_is_refused_and_nothing_is_kept(
    client: Client, project: str, tmp_path: Path
) -> None:
    ref = _register(client, project, tmp_path)
    blobs = [p for p in (tmp_path / "artifacts").rglob("*") if p.is_file()]
    weights = next(p for p in blobs if p.stat().st_size == 256 * 64)
    weights.chmod(0o644)
    data = bytearray(weights.read_bytes())
    data[7] ^= 0x80
    weights.write_bytes(bytes(data))

    with pytest.raises(PackageIntegrityError, match=r"weights\.bin"):
        fetch_package(client, ref, tmp_path / "cache")
    assert not any((tmp_path / "cache").iterdir())


def test_a_changed_manifest_is_refused(
    client: Client, project: str, tmp_path: Path, settings: Settings
) -> None:
    ref = _register(client, project, tmp_path)
    engine = create_engine(settings.resolved_metadata_url())
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT model_id, version, manifest FROM version_manifests"))
        model_id, version, manifest = rows.one()
        document = json.loads(manifest) if isinstance(manifest, str) else dict(manifest)
        document["requirements"] = ["numpy==0.0.1"]
        connection.execute(
            text("UPDATE version_manifests SET manifest = :m WHERE model_id = :i AND version = :v"),
            {"m": json.dumps(document), "i": model_id, "v": version},
        )
    engine.dispose()

    with pytest.raises(PackageIntegrityError, match="manifest"):
        fetch_package(client, ref, tmp_path / "cache")


def test_a_package_signed_by_another_key_is_refused(
    client: Client, project: str, tmp_path: Path
) -> None:
    ref = _register(client, project, tmp_path)
    with pytest.raises(PackageIntegrityError, match="not this registry's key"):
        fetch_package(client, ref, tmp_path / "cache", trusted_key_pem=_other_key())


def test_a_trusted_key_that_is_not_a_key_is_refused(
    client: Client, project: str, tmp_path: Path
) -> None:
    ref = _register(client, project, tmp_path)
    with pytest.raises(InvalidInputError) as caught:
        fetch_package(client, ref, tmp_path / "cache", trusted_key_pem="not a key")
    assert caught.value.field == "trusted_key"


def test_a_version_without_a_flavor_does_not_load(
    client: Client, project: str, tmp_path: Path
) -> None:
    package = fetch_package(client, _register(client, project, tmp_path), tmp_path / "cache")
    with pytest.raises(InvalidInputError, match="without a flavor"):
        load_package(package)
