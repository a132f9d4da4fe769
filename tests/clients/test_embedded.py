"""The SDK against the embedded store in-process: no server, data persisted under `home`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import lockgate


def test_embedded_client_records_into_the_sqlite_file_under_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with lockgate.embedded_client(home) as client:
        client.projects.create("local")
        with client.start_run("local", "offline", capture_environment=False) as run:
            run.log_metric("loss", 0.25, step=3)
        assert client.runs.get(run.id).metrics["loss"].value == 0.25
        assert client.audit.verify().ok
    with sqlite3.connect(home / "lockgate.db") as connection:
        statuses = connection.execute("SELECT status FROM runs").fetchall()
    assert statuses == [("finished",)]
    # A second client on the same home sees the same data.
    with lockgate.embedded_client(home) as again:
        assert again.runs.get(run.id).status == "finished"
