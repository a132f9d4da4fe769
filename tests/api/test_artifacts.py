"""Artifacts over REST: streamed upload and download, write-once paths, limits, traversal."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest

from lockgate.settings import Settings


def test_upload_then_download_round_trips_bytes(api: httpx.Client, run_id: str) -> None:
    payload = os.urandom(300_000)
    put = api.put(f"/api/v1/runs/{run_id}/artifacts/model/weights.bin", content=payload)
    assert put.status_code == 201, put.text
    assert put.json()["digest"] == hashlib.sha256(payload).hexdigest()
    got = api.get(f"/api/v1/runs/{run_id}/artifacts/model/weights.bin")
    assert got.content == payload
    assert got.headers["etag"] == f'"{hashlib.sha256(payload).hexdigest()}"'
    listed = api.get(f"/api/v1/runs/{run_id}/artifacts", params={"prefix": "model"}).json()
    assert [a["path"] for a in listed] == ["model/weights.bin"]


def test_paths_are_write_once(api: httpx.Client, run_id: str) -> None:
    url = f"/api/v1/runs/{run_id}/artifacts/a.txt"
    assert api.put(url, content=b"one").status_code == 201
    assert api.put(url, content=b"one").status_code == 200
    assert api.put(url, content=b"two").status_code == 409
    assert api.get(url).content == b"one"


def test_upload_over_the_limit_is_refused_and_leaves_nothing(
    api: httpx.Client, run_id: str, settings: Settings, tmp_path: Path
) -> None:
    too_big = b"x" * (settings.max_upload_bytes + 1)
    response = api.put(f"/api/v1/runs/{run_id}/artifacts/big.bin", content=too_big)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert api.get(f"/api/v1/runs/{run_id}/artifacts").json() == []
    blobs = tmp_path / "artifacts" / "blobs"
    assert not blobs.exists() or not any(p.is_file() for p in blobs.rglob("*"))


@pytest.mark.parametrize(
    "path",
    [
        "../escape.txt",
        "a/../../escape.txt",
        "%2e%2e/escape.txt",
        "%252e%252e/escape.txt",
        "..%5cescape.txt",
        "a\\..\\escape.txt",
        "C:/escape.txt",
        "file:/etc/passwd",
        "a//b",
        "a/%00b",
    ],
)
def test_traversal_payloads_are_refused(
    api: httpx.Client, run_id: str, tmp_path: Path, path: str
) -> None:
    canary = tmp_path / "escape.txt"
    canary.write_text("canary")
    response = api.put(f"/api/v1/runs/{run_id}/artifacts/{path}", content=b"evil")
    # httpx folds dot segments, so some payloads reach no artifact route at all.
    assert response.status_code in {404, 415, 422}, response.text
    assert api.get(f"/api/v1/runs/{run_id}/artifacts/{path}").status_code in {404, 422}
    assert canary.read_text() == "canary"
    assert api.get(f"/api/v1/runs/{run_id}/artifacts").json() == []


def test_upload_to_an_ended_run_is_refused_before_storing(
    api: httpx.Client, run_id: str, tmp_path: Path
) -> None:
    api.post(f"/api/v1/runs/{run_id}/end", json={"status": "finished"})
    response = api.put(f"/api/v1/runs/{run_id}/artifacts/late.txt", content=b"late")
    assert response.status_code == 409
    blobs = tmp_path / "artifacts" / "blobs"
    assert not blobs.exists() or not any(p.is_file() for p in blobs.rglob("*"))
