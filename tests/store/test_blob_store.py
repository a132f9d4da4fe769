"""The BlobStore contract, run on every implementation (local directory, S3 via moto), plus
the local store's crash and symlink guarantees and the URL factory."""

from __future__ import annotations

import hashlib
import os
import random
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from lockgate.domain.artifacts import BlobRef
from lockgate.domain.errors import (
    InvalidInputError,
    LockgateError,
    NotFoundError,
    PayloadTooLargeError,
)
from lockgate.store.artifacts import LocalBlobStore, S3BlobStore, open_blob_store
from lockgate.store.protocols import BlobStore
from tests.support.s3 import FAKE_CREDENTIALS, S3Endpoint, moto_s3_server, use_fake_credentials

MIB = 1024 * 1024
LIMIT = 64 * MIB
BAD_DIGESTS = [
    "../x",
    "A" * 64,
    "ab" * 10,
    "a" * 65,
    "",
    "ab/cd/" + "a" * 58,
    "../../" + "a" * 58,
    "/" + "a" * 63,
]


@dataclass(frozen=True)
class StoreCase:
    """A store under test and a way to list what it holds, independent of its own API."""

    store: BlobStore
    visible: Callable[[], list[str]]
    leftovers: Callable[[], list[str]]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[S3Endpoint]:
    with moto_s3_server() as endpoint:
        yield endpoint


def _files_under(directory: Path) -> list[str]:
    if not directory.exists():
        return []
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if not p.is_dir())


def _local_case(root: Path) -> StoreCase:
    return StoreCase(
        store=LocalBlobStore(root),
        visible=lambda: _files_under(root / "blobs"),
        leftovers=lambda: _files_under(root / "tmp"),
    )


def _s3_case(endpoint: S3Endpoint) -> StoreCase:
    prefix = f"tests/{uuid.uuid4().hex}"
    # 5 MiB parts, the S3 minimum, so the multi-chunk round trip goes through multipart upload.
    store = S3BlobStore(
        endpoint.bucket, prefix, endpoint_url=endpoint.endpoint_url, multipart_threshold=5 * MIB
    )

    def visible() -> list[str]:
        client = boto3.session.Session().client("s3", endpoint_url=endpoint.endpoint_url)
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=endpoint.bucket, Prefix=f"{prefix}/"
        )
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    return StoreCase(store=store, visible=visible, leftovers=list)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def case(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> StoreCase:
    if request.param == "local":
        return _local_case(tmp_path / "store")
    use_fake_credentials(monkeypatch)
    return _s3_case(request.getfixturevalue("s3_endpoint"))


def _payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def _uneven_chunks(data: bytes) -> Iterator[bytes]:
    """Chunks of varied sizes, including empty ones, unaligned with the store's 1 MiB."""
    sizes = [0, 1, 7, 65_536, 300_001, 1_048_577]
    start = 0
    for index in range(len(data) + 1):
        if start >= len(data):
            return
        end = start + sizes[index % len(sizes)]
        yield data[start:end]
        start = end


def _expected(data: bytes) -> BlobRef:
    return BlobRef(digest=hashlib.sha256(data).hexdigest(), size=len(data))


@pytest.mark.parametrize("size", [0, 1_000, 5 * MIB + 123], ids=["empty", "small", "5MiB"])
def test_round_trip_keeps_bytes_digest_and_size(case: StoreCase, size: int) -> None:
    data = _payload(size)

    ref = case.store.put(_uneven_chunks(data), max_bytes=LIMIT)

    assert ref == _expected(data)
    chunks = list(case.store.open(ref.digest))
    assert b"".join(chunks) == data
    assert all(0 < len(chunk) <= MIB for chunk in chunks)
    assert case.store.exists(ref.digest)
    assert case.store.size(ref.digest) == size
    assert len(case.visible()) == 1
    assert case.leftovers() == []


def test_same_bytes_twice_are_stored_once(case: StoreCase) -> None:
    data = _payload(3_000)

    first = case.store.put([data], max_bytes=LIMIT)
    second = case.store.put(_uneven_chunks(data), max_bytes=LIMIT)

    assert first == second == _expected(data)
    assert len(case.visible()) == 1
    assert case.leftovers() == []


def test_payload_at_the_limit_is_accepted(case: StoreCase) -> None:
    data = _payload(1_000)

    assert case.store.put([data], max_bytes=1_000) == _expected(data)


def test_payload_past_the_limit_is_rejected_and_nothing_kept(case: StoreCase) -> None:
    data = _payload(2 * MIB)

    with pytest.raises(PayloadTooLargeError, match="limit of 1048576 bytes") as raised:
        case.store.put(_uneven_chunks(data), max_bytes=MIB)

    assert raised.value.field == "body"
    assert not case.store.exists(_expected(data).digest)
    assert case.visible() == []
    assert case.leftovers() == []


def test_stream_failing_midway_leaves_nothing_visible(case: StoreCase) -> None:
    data = _payload(2 * MIB)

    def disconnecting() -> Iterator[bytes]:
        yield data[:MIB]
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError, match="client went away"):
        case.store.put(disconnecting(), max_bytes=LIMIT)

    assert not case.store.exists(_expected(data[:MIB]).digest)
    assert case.visible() == []
    assert case.leftovers() == []


@pytest.mark.parametrize("digest", BAD_DIGESTS)
def test_malformed_digests_are_rejected_before_any_lookup(case: StoreCase, digest: str) -> None:
    with pytest.raises(InvalidInputError, match="digest"):
        case.store.open(digest)
    with pytest.raises(InvalidInputError, match="digest"):
        case.store.exists(digest)
    with pytest.raises(InvalidInputError, match="digest"):
        case.store.size(digest)


def test_missing_blob_is_not_found(case: StoreCase) -> None:
    digest = _expected(b"never stored").digest

    assert not case.store.exists(digest)
    with pytest.raises(NotFoundError, match="not found"):
        case.store.open(digest)
    with pytest.raises(NotFoundError, match="not found"):
        case.store.size(digest)


def test_concurrent_puts_of_the_same_bytes_all_succeed_with_one_blob(case: StoreCase) -> None:
    data = _payload(2 * MIB + 5)
    workers = 8
    barrier = threading.Barrier(workers)

    def upload(_: int) -> BlobRef:
        barrier.wait()
        return case.store.put(_uneven_chunks(data), max_bytes=LIMIT)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        refs = list(pool.map(upload, range(workers)))

    assert set(refs) == {_expected(data)}
    assert len(case.visible()) == 1
    assert case.leftovers() == []
    assert b"".join(case.store.open(refs[0].digest)) == data


def test_delete_removes_the_blob_and_only_it(case: StoreCase) -> None:
    kept = case.store.put([b"kept bytes"], max_bytes=LIMIT)
    gone = case.store.put([b"retired bytes"], max_bytes=LIMIT)

    case.store.delete(gone.digest)

    assert not case.store.exists(gone.digest)
    with pytest.raises(NotFoundError, match="not found"):
        case.store.open(gone.digest)
    assert b"".join(case.store.open(kept.digest)) == b"kept bytes"
    assert len(case.visible()) == 1
    assert case.leftovers() == []


def test_delete_is_idempotent_and_a_missing_blob_is_no_error(case: StoreCase) -> None:
    ref = case.store.put([b"twice"], max_bytes=LIMIT)

    case.store.delete(ref.digest)
    case.store.delete(ref.digest)
    case.store.delete(_expected(b"never stored").digest)

    assert case.visible() == []


def test_a_deleted_blob_can_be_stored_again(case: StoreCase) -> None:
    ref = case.store.put([b"comes back"], max_bytes=LIMIT)
    case.store.delete(ref.digest)

    assert case.store.put([b"comes back"], max_bytes=LIMIT) == ref
    assert b"".join(case.store.open(ref.digest)) == b"comes back"


@pytest.mark.parametrize("digest", BAD_DIGESTS)
def test_delete_rejects_malformed_digests(case: StoreCase, digest: str) -> None:
    case.store.put([b"untouched"], max_bytes=LIMIT)

    with pytest.raises(InvalidInputError, match="digest"):
        case.store.delete(digest)

    assert len(case.visible()) == 1


# Local store: crashes, symlinks, permissions.

_CRASHING_UPLOAD = """
import os, sys
from pathlib import Path
from lockgate.store.artifacts import LocalBlobStore

def dying():
    yield b"x" * 1_000_000
    os._exit(17)  # the process dies mid-upload: no cleanup, no finally

LocalBlobStore(Path(sys.argv[1])).put(dying(), max_bytes=10_000_000)
"""


def test_local_crash_mid_upload_leaves_only_a_temp_file_that_sweep_removes(
    tmp_path: Path,
) -> None:
    root = tmp_path / "store"
    store = LocalBlobStore(root)

    crashed = subprocess.run(
        [sys.executable, "-c", _CRASHING_UPLOAD, str(root)], check=False, timeout=120
    )

    assert crashed.returncode == 17
    assert _files_under(root / "blobs") == []
    [leftover] = _files_under(root / "tmp")
    assert store.sweep_temp(older_than_seconds=3600) == 0  # too fresh: maybe still uploading
    an_hour_ago = time.time() - 3601
    os.utime(root / "tmp" / leftover, (an_hour_ago, an_hour_ago))
    assert store.sweep_temp(older_than_seconds=3600) == 1
    assert _files_under(root / "tmp") == []


def test_local_sweep_of_a_store_never_written_removes_nothing(tmp_path: Path) -> None:
    assert LocalBlobStore(tmp_path / "nothing-here").sweep_temp(older_than_seconds=0) == 0


def _plant(root: Path, digest: str) -> Path:
    """The blob's directory, created as the store would."""
    directory = root / "blobs" / "sha256" / digest[:2] / digest[2:4]
    directory.mkdir(parents=True)
    return directory


def test_local_symlink_at_a_blob_pointing_outside_is_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "store"
    canary = tmp_path / "canary"
    canary.write_bytes(b"secret outside the store")
    digest = _expected(canary.read_bytes()).digest
    (_plant(root, digest) / digest).symlink_to(canary)
    store = LocalBlobStore(root)

    with pytest.raises(LockgateError, match="symlink"):
        b"".join(store.open(digest))
    with pytest.raises(LockgateError, match="symlink"):
        store.size(digest)
    with pytest.raises(LockgateError, match="symlink"):
        store.put([canary.read_bytes()], max_bytes=LIMIT)
    assert canary.read_bytes() == b"secret outside the store"


def test_local_symlink_inside_the_root_is_not_followed_either(tmp_path: Path) -> None:
    """The resolved path stays under the root, so only O_NOFOLLOW stops this one."""
    root = tmp_path / "store"
    store = LocalBlobStore(root)
    stored = store.put([b"some other blob"], max_bytes=LIMIT)
    digest = _expected(b"forged").digest
    target = root / "blobs" / "sha256" / stored.digest[:2] / stored.digest[2:4] / stored.digest
    (_plant(root, digest) / digest).symlink_to(target)

    with pytest.raises(LockgateError, match="symlink"):
        store.open(digest)


def test_local_symlinked_directory_pointing_outside_is_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "store"
    outside = tmp_path / "outside"
    digest = _expected(b"secret").digest
    (outside / digest[2:4]).mkdir(parents=True)
    (outside / digest[2:4] / digest).write_bytes(b"secret")
    (root / "blobs" / "sha256").mkdir(parents=True)
    (root / "blobs" / "sha256" / digest[:2]).symlink_to(outside, target_is_directory=True)
    store = LocalBlobStore(root)

    with pytest.raises(LockgateError, match="symlink"):
        store.open(digest)
    with pytest.raises(LockgateError, match="symlink"):
        store.exists(digest)


def test_local_delete_refuses_a_symlink_and_leaves_its_target(tmp_path: Path) -> None:
    root = tmp_path / "store"
    canary = tmp_path / "canary"
    canary.write_bytes(b"outside the store")
    digest = _expected(canary.read_bytes()).digest
    link = _plant(root, digest) / digest
    link.symlink_to(canary)

    with pytest.raises(LockgateError, match="symlink"):
        LocalBlobStore(root).delete(digest)

    assert link.is_symlink()
    assert canary.read_bytes() == b"outside the store"


def test_local_delete_makes_the_removal_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unlink is followed by an fsync of the blob's directory, as a put's rename is."""
    store = LocalBlobStore(tmp_path / "store")
    ref = store.put([b"durably gone"], max_bytes=LIMIT)
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    store.delete(ref.digest)

    blob_dir = tmp_path / "store" / "blobs" / "sha256" / ref.digest[:2] / ref.digest[2:4]
    assert synced == [str(blob_dir)]


def test_local_delete_in_a_store_never_written_does_nothing(tmp_path: Path) -> None:
    LocalBlobStore(tmp_path / "store").delete(_expected(b"x").digest)

    assert not (tmp_path / "store" / "blobs").exists()


def test_local_blobs_are_not_world_accessible(tmp_path: Path) -> None:
    root = tmp_path / "store"
    ref = LocalBlobStore(root).put([b"model weights"], max_bytes=LIMIT)
    blob = root / "blobs" / "sha256" / ref.digest[:2] / ref.digest[2:4] / ref.digest

    assert stat.S_IMODE(blob.stat().st_mode) & 0o137 == 0
    for directory in (root, root / "tmp", blob.parent, blob.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) & 0o027 == 0


# S3 store: error mapping.


@pytest.mark.s3
def test_s3_missing_bucket_is_an_error_naming_the_bucket_without_credentials(
    s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_credentials(monkeypatch)
    store = S3BlobStore("no-such-bucket", endpoint_url=s3_endpoint.endpoint_url)

    with pytest.raises(LockgateError, match=r"no-such-bucket.*NoSuchBucket") as raised:
        store.put([b"bytes"], max_bytes=LIMIT)

    assert not isinstance(raised.value, NotFoundError)
    for secret in FAKE_CREDENTIALS.values():
        assert secret not in str(raised.value)


@pytest.mark.s3
def test_s3_unreachable_endpoint_is_an_error_naming_the_bucket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_fake_credentials(monkeypatch)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = S3BlobStore("lockgate-test", endpoint_url=f"http://127.0.0.1:{port}")

    with pytest.raises(LockgateError, match=r"'lockgate-test'.*EndpointConnectionError"):
        store.exists(_expected(b"x").digest)


@pytest.mark.s3
def test_s3_delete_on_a_missing_bucket_is_an_error_naming_the_bucket(
    s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_credentials(monkeypatch)
    store = S3BlobStore("no-such-bucket", endpoint_url=s3_endpoint.endpoint_url)

    with pytest.raises(LockgateError, match=r"no-such-bucket.*cannot delete") as raised:
        store.delete(_expected(b"x").digest)

    assert not isinstance(raised.value, NotFoundError)


# The factory the composition root uses.


def test_factory_opens_a_local_store_for_file_urls(tmp_path: Path) -> None:
    store = open_blob_store((tmp_path / "my store").as_uri())

    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "my store"


def test_factory_opens_an_s3_store_for_s3_urls() -> None:
    store = open_blob_store("s3://bucket/team/artifacts/", s3_endpoint_url="http://x")

    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix) == ("bucket", "team/artifacts")
    digest = "ab" * 32
    assert store.key(digest) == f"team/artifacts/blobs/sha256/ab/ab/{digest}"


@pytest.mark.s3
def test_factory_s3_store_round_trips(
    s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_credentials(monkeypatch)
    store = open_blob_store(
        f"s3://{s3_endpoint.bucket}/factory", s3_endpoint_url=s3_endpoint.endpoint_url
    )

    ref = store.put([b"hello"], max_bytes=LIMIT)

    assert b"".join(store.open(ref.digest)) == b"hello"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/artifacts",
        "/plain/path",
        "relative/path",
        "file://relative/path",
        "file:relative",
        "s3:///no-bucket",
        "s3://bucket/prefix?x=1",
        "",
    ],
)
def test_factory_rejects_other_urls_naming_the_setting(url: str) -> None:
    with pytest.raises(InvalidInputError, match="artifacts_url") as raised:
        open_blob_store(url)

    assert raised.value.field == "artifacts_url"
