"""Serving benchmark: one scikit-learn model served by Lockgate, MLflow, KServe and a bare HTTP
floor, side by side in one run; then the same model scoring a large Parquet file in batch.

Online: each server in turn is started pinned to core 0, checked for correct answers, loaded by
wrk on core 1 with single-row requests at 1 and then 32 connections (a warm-up, then a fixed
time each), and stopped. Batch: `predict` called directly on the file's Arrow batches against
`lockgate score`, at the full size and at a tenth of it (peak memory must not grow with the
input). One JSON line goes to stdout (and `--output`), a table to stderr. See
docs/benchmarks.md.

    .venv/bin/python benchmarks/serving.py [--quick] [--part online|batch|all]
        [--targets floor,kserve,mlflow,lockgate,lockgate_log] [--duration 10] [--rows 10000000]
        [--output results.json]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from _load import CpuWatch, wait_for_quiet
from _machine import describe_commit, describe_machine
from _peers import ROOT, make_system
from serving_batch import BATCH_ROWS, ensure_dataset, measure_direct, measure_lockgate
from serving_load import require_wrk, run_wrk, script_path, write_script
from serving_peers import (
    ALIAS,
    MODEL_NAME,
    PINS,
    TARGETS,
    Target,
    check_answers,
    ensure_model,
    ensure_venv,
    floor_target,
    kserve_target,
    load_model,
    lockgate_target,
    mlflow_target,
    register_in_lockgate,
    request_rows,
    venv_version,
)
from serving_verdicts import MAX_OTHER_SHARE, render_table, verdicts

CONNECTIONS = (1, 32)
LOCKGATE = str(ROOT / ".venv" / "bin" / "lockgate")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Config:
    quick: bool
    parts: tuple[str, ...]
    targets: tuple[str, ...]
    duration_s: float
    warmup_s: float
    phase_attempts: int
    quiet_wait_s: float
    batch_rows: int
    small_rows: int  # scored too, to show peak memory does not grow with the input


def parse_config(argv: list[str] | None) -> tuple[Config, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s phases, 1M rows: a smoke run")
    parser.add_argument("--part", choices=("online", "batch", "all"), default="all")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated")
    parser.add_argument("--duration", type=float, default=None, help="seconds per load phase")
    parser.add_argument("--rows", type=int, default=None, help="rows scored in batch")
    parser.add_argument("--output", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    unknown = set(args.targets.split(",")) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}; choose from {TARGETS}")
    rows = args.rows or (1_000_000 if args.quick else 10_000_000)
    config = Config(
        quick=args.quick,
        parts=("online", "batch") if args.part == "all" else (args.part,),
        targets=tuple(t for t in TARGETS if t in args.targets.split(",")),
        duration_s=args.duration or (3.0 if args.quick else 10.0),
        warmup_s=1.0 if args.quick else 3.0,
        phase_attempts=1 if args.quick else 3,
        quiet_wait_s=5.0 if args.quick else 30.0,
        batch_rows=rows,
        small_rows=max(1, rows // 5 if args.quick else rows // 10),
    )
    return config, args.output


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    # Servers are stopped in `finally` blocks: make SIGTERM and SIGINT unwind to them.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    config, output = parse_config(argv)
    wrk = require_wrk() if "online" in config.parts else ""
    started = time.monotonic()
    model_path = ensure_model()
    results: dict[str, Any] = {
        "benchmark": "serving",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": describe_machine(),
        "lockgate_commit": describe_commit(),
        "config": dataclasses.asdict(config),
        "model": {
            "kind": "GradientBoostingClassifier(n_estimators=100, max_depth=3)",
            "features": 30,
            "scikit_learn": sklearn.__version__,
            "numpy": np.__version__,
        },
        "versions": peer_versions(config),
        "lockgate": lockgate_features(),
    }
    workdir = Path(tempfile.mkdtemp(prefix="lockgate-bench-serving-"))
    try:
        with lockgate_registry(config, results["lockgate"], model_path, workdir) as api_url:
            if "online" in config.parts:
                serve_url = api_url if results["lockgate"]["serve"] else None
                results["online"] = run_online(config, wrk, model_path, serve_url, workdir)
            if "batch" in config.parts:
                results["batch"] = run_batch(
                    config, results["lockgate"], model_path, api_url, workdir
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["verdicts"] = verdicts(results)
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    line = json.dumps(results, separators=(",", ":"))
    print(line)
    if output:
        output.write_text(line + "\n")
    print(render_table(results), file=sys.stderr)
    return 0


def peer_versions(config: Config) -> dict[str, str]:
    versions = {}
    for name in ("mlflow", "kserve"):
        if name in config.targets and "online" in config.parts:
            versions[name] = venv_version(ensure_venv(name), name)
    return versions | {f"{name}_pin": " ".join(pins) for name, pins in PINS.items()}


def lockgate_features() -> dict[str, Any]:
    """Which of the Lockgate commands and SDK calls this benchmark drives exist in the tree."""
    from lockgate.sdk.active_run import ActiveRun

    def has_command(*words: str) -> bool:
        argv = [LOCKGATE, *words, "--help"]
        return subprocess.run(argv, capture_output=True, check=False).returncode == 0

    return {
        "log_model": hasattr(ActiveRun, "log_model"),
        "serve": has_command("serve"),
        "score": has_command("score"),
    }


@contextlib.contextmanager
def lockgate_registry(
    config: Config, features: dict[str, Any], model_path: Path, workdir: Path
) -> Iterator[str | None]:
    """A Lockgate API server (embedded SQLite store, pinned to core 1, idle while servers are
    measured) holding the model as `MODEL@champion`; None when Lockgate is not measured."""
    wanted = any(t.startswith("lockgate") for t in config.targets) or "batch" in config.parts
    if not (wanted and features["log_model"]):
        yield None
        return
    system = make_system("lockgate", "sqlite", workdir / "registry")
    system.server.argv = ["taskset", "-c", "1", *system.server.argv]
    try:
        system.server.start()
        system.server.wait_healthy()
        version = register_in_lockgate(system.server.base_url, model_path)
        log(f"lockgate: {MODEL_NAME} version {version} is {ALIAS} at {system.server.base_url}")
        yield system.server.base_url
    finally:
        system.cleanup()


def make_target(name: str, model_path: Path, api_url: str | None, workdir: Path) -> Target:
    if name == "floor":
        return floor_target(model_path, workdir)
    if name == "mlflow":
        return mlflow_target(model_path, workdir)
    if name == "kserve":
        return kserve_target(model_path, workdir)
    if api_url is None:
        raise ValueError("Lockgate needs its registry")
    return lockgate_target(name, api_url, workdir)


def run_online(
    config: Config, wrk: str, model_path: Path, api_url: str | None, workdir: Path
) -> dict[str, Any]:
    rows = request_rows()
    expected = load_model(model_path).predict(rows)
    out: dict[str, Any] = {}
    for name in config.targets:
        if name.startswith("lockgate") and api_url is None:
            out[name] = {"skipped": "`lockgate serve` or `ActiveRun.log_model` is not there"}
            continue
        target = make_target(name, model_path, api_url, workdir)
        try:
            out[name] = measure_target(config, wrk, target, rows, expected, workdir)
        except RuntimeError as error:  # did not start, or wrk gave no result
            log(f"{name}: {error}")
            out[name] = {"error": str(error)[-2000:]}
        finally:
            target.server.stop()
    return out


def measure_target(
    config: Config,
    wrk: str,
    target: Target,
    rows: np.ndarray,
    expected: np.ndarray,
    workdir: Path,
) -> dict[str, Any]:
    """Start the server, check its answers, load it at each connection count, note its RSS."""
    target.server.start()
    out: dict[str, Any] = {"startup_s": round(target.server.wait_healthy(), 2)}
    out |= check_answers(target, rows, expected)
    log(f"{target.name}: up in {out['startup_s']} s; answers correct: {out['answers_ok']}")
    script = write_script([target.encode(row) for row in rows], script_path(workdir, target.name))
    for connections in CONNECTIONS:
        out[f"c{connections}"] = load_phase(config, wrk, target, script, connections)
    main_rss, group_rss = target.server.rss_bytes()
    out["rss_mib"] = round(main_rss / 2**20, 1)
    out["rss_group_mib"] = round(group_rss / 2**20, 1)
    return out


def load_phase(
    config: Config, wrk: str, target: Target, script: Path, connections: int
) -> dict[str, Any]:
    """A warm-up, then the measured phase; a phase disturbed by other processes (the machine
    may be shared) is run again, and the least disturbed attempt is kept."""
    run_wrk(wrk, target.url, script, connections=connections, duration_s=config.warmup_s)
    attempts = []
    for _ in range(config.phase_attempts):
        wait_for_quiet(idle_share=0.95, max_wait_s=config.quiet_wait_s)
        server_ticks = target.server.cpu_ticks()
        with CpuWatch(target.server.cpu_ticks) as cpu:
            result = run_wrk(
                wrk, target.url, script, connections=connections, duration_s=config.duration_s
            )
        # How much of its core the server got: near 1 when saturated and undisturbed.
        server_share = (target.server.cpu_ticks() - server_ticks) / CLOCK_TICKS / result.seconds
        attempts.append((cpu.other_share, round(server_share, 2), result))
        log(
            f"{target.name}: c{connections} {result.requests_per_s:,.0f} req/s, "
            f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, errors {result.errors or 0}"
            f" (server used {server_share:.0%} of its core; other processes "
            f"{cpu.other_share:.0%} of the CPU)"
        )
        if cpu.other_share <= MAX_OTHER_SHARE:
            break
    other_share, server_share, result = min(attempts, key=lambda attempt: attempt[0])
    return result.as_dict() | {
        "other_cpu_share": other_share,
        "server_core_share": server_share,
        "attempts": len(attempts),
    }


def run_batch(
    config: Config,
    features: dict[str, Any],
    model_path: Path,
    api_url: str | None,
    workdir: Path,
) -> dict[str, Any]:
    out: dict[str, Any] = {"arrow_batch_rows": BATCH_ROWS, "pinned_core": 0}
    for rows in (config.small_rows, config.batch_rows):
        data = ensure_dataset(rows)
        measured: dict[str, Any] = {"direct": measure_direct(model_path, data, rows, workdir)}
        log(f"batch {rows:,} rows: direct {measured['direct']}")
        if api_url is None or not features["score"]:
            measured["lockgate"] = {"skipped": "`lockgate score` or `log_model` is not there"}
        else:
            ref = f"{MODEL_NAME}@{ALIAS}"
            measured["lockgate"] = measure_lockgate(ref, api_url, data, rows, workdir)
            log(f"batch {rows:,} rows: lockgate {measured['lockgate']}")
        out[str(rows)] = measured
        for leftover in workdir.glob(f"*-{rows}.parquet"):
            leftover.unlink()
    return out


if __name__ == "__main__":
    sys.exit(main())
