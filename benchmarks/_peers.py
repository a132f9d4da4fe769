"""The servers under test: their virtual environments, databases, processes and REST clients.

Lockgate runs from the repository's `.venv`; MLflow and FastTrackML are installed by pinned
version into `.bench/venvs/<name>` and reused when present. Every server binds 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / ".bench" / "venvs"
# mlflow 3.18.0 is listed on PyPI but its mlflow-skinny 3.18.0 is not, so 3.17.2 is the newest
# installable release. Its SQLAlchemy (2.1) reaches postgresql:// through psycopg 3.
PINS = {
    "mlflow": ["mlflow==3.17.2", "psycopg[binary]==3.3.9"],
    "fasttrackml": ["fasttrackml==0.6.0"],
}
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 5.0


def ensure_venv(name: str) -> Path:
    """Create `.bench/venvs/<name>` with the pinned packages unless it already has them."""
    venv = VENVS / name
    marker = venv / "bench-pins.txt"
    wanted = "\n".join(PINS[name])
    if marker.exists() and marker.read_text() == wanted:
        return venv
    print(f"installing {' '.join(PINS[name])} into {venv}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--disable-pip-version-check", *PINS[name]], check=True, timeout=900)
    marker.write_text(wanted)
    return venv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Database:
    """A fresh metadata database of one system on one backend, dropped by `drop`."""

    backend: str
    name: str
    workdir: Path

    @classmethod
    def create(cls, backend: str, system: str, workdir: Path) -> Database:
        name = f"bench_{system}_{secrets.token_hex(4)}"
        if backend == "postgresql":
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        return cls(backend, name, workdir)

    @property
    def sqlite_path(self) -> Path:
        return self.workdir / f"{self.name}.db"

    def url(self, scheme: str) -> str:
        """The database URL; `scheme` is `sqlite:///` or `postgresql://`, as the system wants."""
        if self.backend == "sqlite":
            return f"{scheme}{self.sqlite_path}"
        return f"{scheme}postgres@127.0.0.1:5432/{self.name}"

    def connect(self) -> Any:
        if self.backend == "sqlite":
            return sqlite3.connect(self.sqlite_path, timeout=60)
        return psycopg.connect(self.url("postgresql://"))

    def vacuum_analyze(self) -> None:
        """Do on PostgreSQL what autovacuum does soon after a bulk load: refresh the planner's
        statistics, and set the visibility map, without which an index-only scan still reads
        the table's pages (at 20,000 runs that made Lockgate's keyed search query 85 ms instead
        of 20-37; it serves every system alike)."""
        if self.backend == "postgresql":
            with psycopg.connect(self.url("postgresql://"), autocommit=True) as conn:
                conn.execute("VACUUM (ANALYZE)")

    def backend_pids(self) -> list[int]:
        """The PostgreSQL server processes serving this database (none for SQLite)."""
        if self.backend != "postgresql":
            return []
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.name,)
            ).fetchall()
        return [int(row[0]) for row in rows]

    def drop(self) -> None:
        if self.backend == "postgresql":
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@dataclass
class Server:
    """One server process (in its own process group) and what was measured about it."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    health_path: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    startup_s: float | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.process.pid

    def wait_healthy(self) -> float:
        """Poll the health route until it answers 200; returns seconds since the spawn."""
        pid = self.pid
        started = time.monotonic()
        deadline = started + START_TIMEOUT_S
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} ({pid}) exited:\n{self.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if client.get(self.health_path).status_code == 200:
                        return time.monotonic() - started
                time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not answer {self.health_path}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def start_timed(self) -> float:
        """Spawn and wait for the first 200 on the health route; remember the start-up time."""
        spawned = time.monotonic()
        self.start()
        self.wait_healthy()
        self.startup_s = time.monotonic() - spawned
        return self.startup_s

    def rss_bytes(self) -> tuple[int, int]:
        """VmRSS of the server's main process, and summed over its whole process group."""
        main = _vm_rss(self.pid)
        group = sum(_vm_rss(pid) for pid in _group_members(self.pid))
        return main, max(group, main)

    def pids(self) -> list[int]:
        """The live processes of the server (its process group)."""
        return _group_members(self.pid)

    def cpu_ticks(self) -> int:
        """User plus system clock ticks used so far by the live processes of the server."""
        return sum(process_ticks(pid) for pid in _group_members(self.pid))

    def terminate(self) -> None:
        """Ask the whole process group to exit (SIGTERM); `stop` waits for it."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        """Terminate the process group, and kill it if it is still there after a few seconds."""
        if self.process is None:
            return
        self.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_TIMEOUT_S)
        # Children (MLflow's job runners) may outlive the leader: kill whatever is left.
        if _group_members(self.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_TIMEOUT_S)
        self.process = None


def _group_members(pgid: int) -> list[int]:
    """The live processes of process group `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid and fields[0] != "Z":
                    members.append(int(entry.name))
    return members


def process_ticks(pid: int) -> int:
    """User plus system clock ticks used so far by process `pid` (0 once it is gone)."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    return 0


def _vm_rss(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@dataclass
class System:
    """A system under test on one backend: its database, its server and its API dialect."""

    name: str
    database: Database
    server: Server
    workdir: Path
    container: str = ""  # the MLflow experiment id, or the Lockgate project name
    run_ids: list[str] = field(default_factory=list)

    def stop(self) -> None:
        self.server.stop()

    def cpu_ticks(self) -> int:
        """CPU ticks of the server and of the database processes serving it."""
        return self.server.cpu_ticks() + sum(
            process_ticks(pid) for pid in self.database.backend_pids()
        )

    def cleanup(self) -> None:
        self.server.stop()
        with contextlib.suppress(psycopg.Error):
            self.database.drop()


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
    return {k: v for k, v in os.environ.items() if k in keep}


def make_system(name: str, backend: str, workdir: Path, *, lockgate_workers: int = 1) -> System:
    """Create the database and describe the server of `name`; nothing is started yet.
    Lockgate runs `lockgate_workers` server processes (its `workers` setting)."""
    sysdir = workdir / name
    sysdir.mkdir(parents=True, exist_ok=True)
    database = Database.create(backend, name, sysdir)
    port = free_port()
    env = _base_env()
    log_path = sysdir / "server.log"
    if name == "mlflow":
        bin_dir = ensure_venv("mlflow") / "bin"
        argv = [
            str(bin_dir / "mlflow"),
            "server",
            "--backend-store-uri",
            database.url("sqlite:///" if backend == "sqlite" else "postgresql://"),
            "--default-artifact-root",
            str(sysdir / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ]
        # The job runner (huey consumers for MLflow's GenAI features) serves nothing measured
        # here, and its seven processes would compete for the cores while they start.
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        server = Server(name, argv, env, port, "/health", log_path)
    elif name == "fasttrackml":
        bin_dir = ensure_venv("fasttrackml") / "bin"
        url = database.url("sqlite://" if backend == "sqlite" else "postgres://")
        argv = [
            str(bin_dir / "fml"),
            "server",
            "--database-uri",
            url if backend == "sqlite" else f"{url}?sslmode=disable",
            "--listen-address",
            f"127.0.0.1:{port}",
            "--default-artifact-root",
            str(sysdir / "artifacts"),
        ]
        server = Server(name, argv, env, port, "/health", log_path)
    elif name in ("lockgate", "lockgate_normal"):
        env |= {
            "LOCKGATE_HOME": str(sysdir / "home"),
            "LOCKGATE_METADATA_URL": database.url(
                "sqlite:///" if backend == "sqlite" else "postgresql://"
            ),
            "LOCKGATE_ARTIFACTS_URL": (sysdir / "artifacts").as_uri(),
            "LOCKGATE_WORKERS": str(lockgate_workers),
        }
        if name == "lockgate_normal":
            # The durability FastTrackML's SQLite runs with: fsync at checkpoints only.
            env["LOCKGATE_SQLITE_SYNCHRONOUS"] = "normal"
        lockgate = str(ROOT / ".venv" / "bin" / "lockgate")
        with log_path.open("ab") as log:
            subprocess.run(
                [lockgate, "db", "upgrade"],
                env=env,
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=300,
            )
        argv = [lockgate, "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        server = Server(name, argv, env, port, "/api/v1/health", log_path)
    else:
        raise ValueError(f"unknown system {name!r}")
    return System(name, database, server, sysdir)
