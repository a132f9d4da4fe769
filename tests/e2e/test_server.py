"""A real server process on 127.0.0.1: start-up, the SDK over TCP, raw requests the HTTP
client would have normalized, and the refusal to start on an outdated schema."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import lockgate

LOCKGATE = [str(Path(sys.executable).with_name("lockgate"))]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(tmp_path: Path, db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "LOCKGATE_HOME": str(tmp_path / "home"),
        "LOCKGATE_METADATA_URL": db_url,
        "LOCKGATE_ARTIFACTS_URL": (tmp_path / "artifacts").as_uri(),
    }


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[str]:
    port = _free_port()
    env = _env(tmp_path, db_url)
    process = subprocess.Popen(
        [*LOCKGATE, "server", "start", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError("the server did not answer /api/v1/health within 30 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_sdk_over_tcp_records_a_run(server: str, tmp_path: Path) -> None:
    client = lockgate.Client(server)
    client.projects.create("e2e")
    client.models.create("e2e-model", project="e2e", owner="qa", description="smoke model")
    model_file = tmp_path / "model.json"
    model_file.write_bytes(b'{"weights": [1, 2, 3]}')
    with client.start_run("e2e", name="smoke", seed=1) as run:
        run.log_params({"lr": "0.1"})
        run.log_metric("loss", 0.5, step=1)
        run.log_artifact(model_file, artifact_path="model")
        version = run.register_model("e2e-model", "model")
    assert version.version == 1
    assert [f.path for f in version.files] == ["model.json"]
    fetched = client.runs.get(run.id)
    assert fetched.status == "finished"
    assert fetched.params == {"lr": "0.1"}
    target = tmp_path / "back.json"
    client.artifacts.download(run.id, "model/model.json", target)
    assert (
        hashlib.sha256(target.read_bytes()).hexdigest()
        == hashlib.sha256(model_file.read_bytes()).hexdigest()
    )
    assert client.audit.verify().ok


def _raw(url: str, request_line: str, body: bytes = b"") -> int:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        head = (
            f"{request_line}\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
        )
        conn.sendall(head.encode() + body)
        status_line = conn.makefile("rb").readline().decode()
    return int(status_line.split()[1])


@pytest.mark.parametrize(
    "path",
    [
        "../../../escape.txt",
        "./a",
        "a/./b",
        "%2e%2e/escape.txt",
        "..%2fescape.txt",
        "a/%2e%2e/%2e%2e/escape.txt",
        "%252e%252e/x",
    ],
)
def test_raw_traversal_requests_never_escape(server: str, tmp_path: Path, path: str) -> None:
    canary = tmp_path / "escape.txt"
    canary.write_text("canary")
    client = lockgate.Client(server)
    client.projects.create("raw")
    run_id = client.runs.create("raw").id
    status = _raw(server, f"PUT /api/v1/runs/{run_id}/artifacts/{path} HTTP/1.1", b"evil")
    assert status in {400, 404, 415, 422}
    assert _raw(server, f"GET /api/v1/runs/{run_id}/artifacts/{path} HTTP/1.1") in {
        400,
        404,
        422,
    }
    assert canary.read_text() == "canary"
    assert client.artifacts.list(run_id) == []


def test_server_refuses_an_outdated_schema_and_names_the_command(tmp_path: Path) -> None:
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}")
    result = subprocess.run(
        [*LOCKGATE, "server", "start", "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "lockgate db upgrade" in result.stdout + result.stderr
