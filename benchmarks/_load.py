"""Load generation: wrk in its own process for throughput, a sequential client for latency."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _api import BodyTemplate

RESULT_MARK = "WRK_RESULT "

# Each wrk thread numbers its requests; a request's points get steps no other request uses,
# so every system stores every point (none is dropped as a duplicate).
_LUA = """
thread_index = 0
local threads = 0
local counter = 0
local PATH = [==[{path}]==]
local PREFIX = [==[{prefix}]==]
local ITEM = [==[{item}]==]
local SUFFIX = [==[{suffix}]==]
local POINTS = {points}
local KEYS = {keys}

function setup(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
  counter = counter + 1
  local first = (thread_index * 1000000 + counter) * (POINTS / KEYS)
  local now = os.time() * 1000
  local items = {{}}
  for i = 0, POINTS - 1 do
    local step = first + math.floor(i / KEYS)
    items[i + 1] = string.format(ITEM, i % KEYS, ((step * 7919) % 1000) / 1000, step, now)
  end
  return wrk.format(nil, PATH, nil, PREFIX .. table.concat(items, ",") .. SUFFIX)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{mark}{{"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"latency_p50_us":%d,' ..
    '"latency_p99_us":%d}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int
    error_kinds: dict[str, int]
    latency_p50_ms: float
    latency_p99_ms: float
    points_per_request: int

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def points_per_s(self) -> float:
        return self.requests_per_s * self.points_per_request


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian's packages when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing: run `apt-get install -y wrk` (as root) and retry")
    print("installing wrk (apt-get install -y wrk)", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=False).returncode:
        subprocess.run(["apt-get", "update"], env=env, check=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=True, timeout=600)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed")
    return found


def run_wrk(
    wrk: str,
    base_url: str,
    body: BodyTemplate,
    *,
    connections: int,
    duration_s: float,
    points: int,
    keys: int,
    script_dir: Path,
) -> LoadResult:
    """Send POSTs from wrk for `duration_s` seconds over `connections` keep-alive connections."""
    if not base_url.startswith("http://127.0.0.1:"):
        raise ValueError("load is only ever sent to 127.0.0.1")
    script = script_dir / f"load-{time.monotonic_ns()}.lua"
    script.write_text(
        _LUA.format(
            path=body.path,
            prefix=body.prefix,
            item=body.item,
            suffix=body.suffix,
            points=points,
            keys=keys,
            mark=RESULT_MARK,
        )
    )
    threads = min(connections, 2)
    argv = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        base_url,
    ]
    completed = subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=duration_s + 120
    )
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            raw = json.loads(line[len(RESULT_MARK) :])
            kinds = {k: raw[k] for k in raw if k.endswith("errors") or k == "timeouts"}
            return LoadResult(
                requests=raw["requests"],
                seconds=raw["duration_us"] / 1e6,
                errors=sum(kinds.values()),
                error_kinds={k: v for k, v in kinds.items() if v},
                latency_p50_ms=raw["latency_p50_us"] / 1e3,
                latency_p99_ms=raw["latency_p99_us"] / 1e3,
                points_per_request=points,
            )
    raise RuntimeError(f"wrk gave no result:\n{completed.stdout}\n{completed.stderr}")


@dataclass(frozen=True)
class Latency:
    samples_s: list[float]
    count: int  # items in the last answer (runs found, points read)

    @property
    def p50_s(self) -> float:
        return statistics.median(self.samples_s)

    @property
    def p95_s(self) -> float:
        ordered = sorted(self.samples_s)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure_latency(
    call: Callable[[], tuple[float, int]],
    *,
    repeats: int,
    budget_s: float,
    warmup: int = 1,
    min_samples: int = 2,
) -> Latency:
    """Call `repeats` times after `warmup` unmeasured calls, stopping early once `budget_s` is
    spent (but not before `min_samples`). A warm-up call slower than a tenth of the budget is
    kept as a sample: at that speed warming up does not matter, and the time does."""
    samples: list[float] = []
    count = 0
    started = time.monotonic()
    for _ in range(warmup):
        elapsed, count = call()
        if elapsed > budget_s / 10:
            samples.append(elapsed)
    while len(samples) < repeats:
        if len(samples) >= min_samples and time.monotonic() - started > budget_s:
            break
        elapsed, count = call()
        samples.append(elapsed)
    return Latency(samples, count)


@dataclass
class CpuWatch:
    """How much of the machine's CPU went to processes other than the server under test and
    wrk while a phase ran: a high share means the numbers of that phase are skewed."""

    server_ticks: Callable[[], int]
    _start: tuple[int, int, int, float] = (0, 0, 0, 0.0)

    def __enter__(self) -> CpuWatch:
        idle, total = _cpu_times()
        self._start = (idle, total, self.server_ticks(), _children_ticks())
        return self

    def __exit__(self, *exc: object) -> None:
        idle, total = _cpu_times()
        idle0, total0, server0, children0 = self._start
        busy = (total - total0) - (idle - idle0)
        ours = (self.server_ticks() - server0) + (_children_ticks() - children0)
        self.other_share = round(max(0.0, busy - ours) / max(1, total - total0), 2)


def _children_ticks() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * os.sysconf("SC_CLK_TCK")


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all cores since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)


def wait_for_quiet(*, idle_share: float = 0.8, max_wait_s: float = 30.0) -> float:
    """Wait (at most `max_wait_s`) until the cores are at least `idle_share` idle over half a
    second, so a server still starting up in the background does not weigh on a measurement.
    Returns the idle share last seen."""
    deadline = time.monotonic() + max_wait_s
    share = 0.0
    while time.monotonic() < deadline:
        idle0, total0 = _cpu_times()
        time.sleep(0.5)
        idle1, total1 = _cpu_times()
        share = (idle1 - idle0) / max(1, total1 - total0)
        if share >= idle_share:
            break
    return round(share, 2)


def count_syncs(
    pids: list[int], action: Callable[[], LoadResult], out_dir: Path
) -> tuple[int, LoadResult] | None:
    """Run `action` while strace counts the fsync and fdatasync calls of `pids` (and their
    threads); None when strace is not installed. strace slows the server down, so only the
    ratio of syncs to acknowledged writes means anything, not the throughput."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    report = out_dir / f"strace-{time.monotonic_ns()}.txt"
    argv = [strace, "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", str(report)]
    tracer = subprocess.Popen(
        [*argv, *(f"-p{pid}" for pid in pids)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)  # let strace attach to every thread
        result = action()
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=30)
    syncs = 0
    for line in report.read_text().splitlines():
        parts = line.split()
        if parts and parts[-1] in ("fsync", "fdatasync"):
            syncs += int(parts[3])
    return syncs, result
