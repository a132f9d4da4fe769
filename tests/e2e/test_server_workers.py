"""`lockgate server start` with several worker processes (LOCKGATE_WORKERS): every write
from concurrent clients lands once, in one linear audit chain, on each dialect."""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.e2e.test_server import LOCKGATE, _env, _free_port


def _wait_for_health(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the server did not answer /api/v1/health within 60 s")


def test_workers_share_the_database_and_the_audit_chain(tmp_path: Path, db_url: str) -> None:
    port = _free_port()
    env = {**_env(tmp_path, db_url), "LOCKGATE_WORKERS": "2"}
    process = subprocess.Popen(
        [*LOCKGATE, "server", "start", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url)
        with httpx.Client(base_url=url) as client:
            assert client.post("/api/v1/projects", json={"name": "w"}).status_code == 201
            run_id = client.post("/api/v1/projects/w/runs", json={}).json()["id"]

            def log(step: int) -> int:
                body = {"metrics": [{"key": "loss", "value": step / 100, "step": step}]}
                with httpx.Client(base_url=url) as own:
                    return own.post(f"/api/v1/runs/{run_id}/metrics", json=body).status_code

            with ThreadPoolExecutor(8) as pool:
                assert set(pool.map(log, range(200))) == {204}
            history = client.get(f"/api/v1/runs/{run_id}/metrics/loss/history").json()
            assert history["steps"] == list(range(200))
            verdict = client.post("/api/v1/audit/verify").json()
            assert verdict["ok"] is True
            assert verdict["checked"] == 202  # project, run, 200 metric calls
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert b"2 worker processes" in output
