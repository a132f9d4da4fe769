"""The SDK's artifact transfers against the real app: streamed, chunked, sha256-checked."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from lockgate.domain.errors import ConflictError, InvalidInputError, NotFoundError
from lockgate.sdk import Client, DigestMismatchError, TransferProgress
from lockgate.sdk.artifacts import CHUNK_BYTES


@pytest.fixture
def run_id(client: Client, project: str) -> str:
    return client.start_run(project, "artifacts", capture_environment=False).id


def test_binary_file_round_trips_in_chunks_with_progress(
    client: Client, run_id: str, tmp_path: Path
) -> None:
    payload = os.urandom(2 * CHUNK_BYTES + 123)
    source = tmp_path / "weights.bin"
    source.write_bytes(payload)
    uploads: list[TransferProgress] = []
    stored = client.artifacts.upload(run_id, source, "model/weights.bin", progress=uploads.append)
    assert stored.digest == hashlib.sha256(payload).hexdigest()
    assert stored.size == len(payload)
    assert [p.done for p in uploads] == [CHUNK_BYTES, 2 * CHUNK_BYTES, len(payload)]
    assert {p.total for p in uploads} == {len(payload)}
    downloads: list[TransferProgress] = []
    (tmp_path / "out").mkdir()
    target = client.artifacts.download(
        run_id, "model/weights.bin", tmp_path / "out", progress=downloads.append
    )
    assert target == tmp_path / "out" / "weights.bin"
    assert target.read_bytes() == payload
    assert downloads[-1] == TransferProgress("model/weights.bin", len(payload), len(payload))
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["weights.bin"]


def test_same_bytes_again_is_fine_other_bytes_conflict(
    client: Client, run_id: str, tmp_path: Path
) -> None:
    first = tmp_path / "a.txt"
    first.write_text("one")
    assert client.artifacts.upload(run_id, first).path == "a.txt"
    assert client.artifacts.upload(run_id, first).path == "a.txt"
    first.write_text("two")
    with pytest.raises(ConflictError):
        client.artifacts.upload(run_id, first)


def test_log_artifacts_keeps_the_tree_and_download_dir_restores_it(
    client: Client, project: str, tmp_path: Path
) -> None:
    tree = tmp_path / "model"
    (tree / "sub").mkdir(parents=True)
    (tree / "model.json").write_text("{}")
    (tree / "sub" / "vocab.txt").write_text("a\nb\n")
    (tmp_path / "notes.md").write_text("# notes")
    with client.start_run(project, capture_environment=False) as run:
        run.log_artifacts(tree, "model")
        run.log_artifact(tmp_path / "notes.md")
        run.log_artifact(tmp_path / "notes.md", "docs")
    paths = [a.path for a in client.artifacts.list(run.id)]
    assert paths == ["docs/notes.md", "model/model.json", "model/sub/vocab.txt", "notes.md"]
    assert [a.path for a in client.artifacts.list(run.id, "model/sub")] == ["model/sub/vocab.txt"]
    written = client.artifacts.download_dir(run.id, "model", tmp_path / "copy")
    assert sorted(p.relative_to(tmp_path / "copy").as_posix() for p in written) == [
        "model.json",
        "sub/vocab.txt",
    ]
    assert (tmp_path / "copy" / "sub" / "vocab.txt").read_text() == "a\nb\n"


def test_download_refuses_bytes_that_do_not_match_their_digest(
    client: Client, run_id: str, tmp_path: Path
) -> None:
    source = tmp_path / "data.bin"
    source.write_bytes(b"x" * 1000)
    digest = client.artifacts.upload(run_id, source).digest
    # Corrupt the stored blob on disk, as a failing disk would.
    (blob,) = (tmp_path / "artifacts").rglob(digest)
    blob.chmod(blob.stat().st_mode | stat.S_IWUSR)
    blob.write_bytes(b"y" * 1000)
    target = tmp_path / "got.bin"
    with pytest.raises(DigestMismatchError, match=digest):
        client.artifacts.download(run_id, "data.bin", target)
    assert not target.exists()
    assert list(tmp_path.glob(".got.bin.*")) == []


def test_missing_files_and_bad_paths_are_clear_errors(
    client: Client, run_id: str, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError):
        client.artifacts.download(run_id, "nope.bin", tmp_path / "nope.bin")
    with pytest.raises(InvalidInputError) as local:
        client.artifacts.upload(run_id, tmp_path / "absent.bin")
    assert local.value.field == "local_path"
    source = tmp_path / "f.txt"
    source.write_text("f")
    with pytest.raises(InvalidInputError) as remote:
        client.artifacts.upload(run_id, source, "a/../../etc/passwd")
    assert remote.value.field == "path"


def test_register_model_from_logged_files(client: Client, project: str, tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text('{"trees": 3}')
    client.models.create("churn-clf", project=project, owner="ana", description="clf")
    with client.start_run(project, capture_environment=False) as run:
        run.log_artifact(tmp_path / "model.json", "model")
        version = run.register_model("churn-clf", "model", description="first")
    assert version.version == 1
    assert version.run_id == run.id
    assert [f.path for f in version.files] == ["model.json"]


def test_an_archive_uploads_and_unpacks_all_or_nothing(client: Client, tmp_path: Path) -> None:
    client.projects.create("arch")
    run_id = client.runs.create("arch").id
    good = tmp_path / "bundle.tar.gz"
    with tarfile.open(good, "w:gz") as archive:
        for name, data in {"model/w.bin": b"w", "conf.json": b"{}"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    stored = client.artifacts.upload_archive(run_id, good, "bundle")
    assert sorted(a.path for a in stored) == ["bundle/conf.json", "bundle/model/w.bin"]
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as archive:
        link = tarfile.TarInfo("escape")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    with pytest.raises(InvalidInputError, match="escape") as refused:
        client.artifacts.upload_archive(run_id, evil, "evil")
    assert refused.value.field == "archive"
    assert [a.path for a in client.artifacts.list(run_id, "evil")] == []
