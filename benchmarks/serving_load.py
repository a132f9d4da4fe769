"""Load for the serving benchmark: wrk, pinned to its own core, POSTs single-row bodies (taken in
turn from a fixed list) over keep-alive connections and reports requests/s and the latency
percentiles through a Lua `done` function."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

RESULT_MARK = "WRK_RESULT "
LOAD_CORE = "1"  # the servers run on core 0

_LUA = """
local bodies = {{
{bodies}
}}
local count = #bodies
local next_body = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
  next_body = next_body % count + 1
  return wrk.format(nil, nil, nil, bodies[next_body])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{mark}{{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: dict[str, int]  # by kind, only the kinds that happened
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "errors": self.errors,
            "requests_per_s": round(self.requests_per_s, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p90_ms": round(self.p90_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "mean_ms": round(self.mean_ms, 3),
        }


def require_wrk() -> str:
    """The wrk binary, or exit with the command that installs it."""
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is missing: install it with `apt-get install -y wrk` and retry")
    return found


def write_script(bodies: list[bytes], path: Path) -> Path:
    """A wrk script that POSTs `bodies` in turn, one per request."""
    quoted = []
    for body in bodies:
        text = body.decode()
        if "]==]" in text:
            raise ValueError("a body may not contain the Lua long-string end `]==]`")
        quoted.append(f"  [==[{text}]==],")
    path.write_text(_LUA.format(bodies="\n".join(quoted), mark=RESULT_MARK))
    return path


def run_wrk(wrk: str, url: str, script: Path, *, connections: int, duration_s: float) -> LoadResult:
    """One wrk thread on the load core, `connections` keep-alive connections, `duration_s`."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("load is only ever sent to 127.0.0.1")
    argv = [
        "taskset", "-c", LOAD_CORE, wrk, "-t1", f"-c{connections}",
        f"-d{max(1, round(duration_s))}s", "--timeout", "10s", "-s", str(script), url,
    ]  # fmt: skip
    completed = subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=duration_s + 60
    )
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            raw = json.loads(line[len(RESULT_MARK) :])
            kinds = ("connect", "read", "write", "status", "timeout")
            return LoadResult(
                requests=raw["requests"],
                seconds=raw["duration_us"] / 1e6,
                errors={kind: raw[kind] for kind in kinds if raw[kind]},
                p50_ms=raw["p50_us"] / 1e3,
                p90_ms=raw["p90_us"] / 1e3,
                p99_ms=raw["p99_us"] / 1e3,
                max_ms=raw["max_us"] / 1e3,
                mean_ms=raw["mean_us"] / 1e3,
            )
    raise RuntimeError(f"wrk gave no result:\n{completed.stdout}\n{completed.stderr}")


def script_path(directory: Path, name: str) -> Path:
    return directory / f"{name}-{time.monotonic_ns()}.lua"
