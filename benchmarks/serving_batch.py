"""The batch part of the serving benchmark: score a Parquet file of 30 float columns with the model,
once by calling `predict` directly on the file's Arrow batches and once with `lockgate score`,
each in its own process pinned to core 0, timed from spawn to exit, its peak memory taken from
the kernel's accounting of that process (`getrusage(RUSAGE_CHILDREN)` in a small launcher).

Run as a script, it is that direct scorer (the parent, `benchmarks/serving.py`, starts it):

    .venv/bin/python benchmarks/serving_batch.py --model M.pkl --input X.parquet --output Y.parquet
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _load import CpuWatch, wait_for_quiet
from serving_peers import BENCH_DIR, CACHE, COLUMNS, FEATURES, ROOT, SERVER_CORE, load_model

BATCH_ROWS = 65_536  # rows per Arrow batch read, and per Parquet row group written
PREDICTION = "prediction"
QUIET_WAIT_S = 30.0  # at most this long for the cores to go idle before each measurement

# Linux counts a process's memory from before its exec in its peak RSS (`ru_maxrss`), and a
# child spawned straight from the benchmark starts as a copy of the benchmark (hundreds of MiB).
# So a small launcher process runs the command as its own child, times it, and writes that
# child's peak RSS (getrusage(RUSAGE_CHILDREN), KiB) to the file named by its first argument.
_LAUNCHER = """
import json, resource, subprocess, sys, time
started = time.monotonic()
returncode = subprocess.call(sys.argv[2:])
wall_s = time.monotonic() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
report = {"returncode": returncode, "wall_s": wall_s, "max_rss_kib": usage.ru_maxrss}
with open(sys.argv[1], "w") as file:
    json.dump(report, file)
"""


def ensure_dataset(rows: int) -> Path:
    """`rows` rows of 30 seeded normal floats as Parquet under `.bench/serving/data/`, written
    a few row groups at a time (memory stays bounded), reused once written."""
    path = CACHE / "data" / f"features-{rows}.parquet"
    if path.exists():
        return path
    print(f"writing {rows:,} rows into {path}", file=sys.stderr, flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    schema = pa.schema([(name, pa.float64()) for name in COLUMNS])
    chunk = 4 * BATCH_ROWS
    with pq.ParquetWriter(partial, schema) as writer:
        for start in range(0, rows, chunk):
            count = min(chunk, rows - start)
            columns = np.random.default_rng([2, start]).normal(size=(FEATURES, count))
            table = pa.Table.from_arrays(list(columns), schema=schema)
            writer.write_table(table, row_group_size=BATCH_ROWS)
    partial.rename(path)
    return path


@dataclass(frozen=True)
class ChildRun:
    """One scoring process: wall time from spawn to exit, peak RSS, what it printed."""

    returncode: int
    wall_s: float
    max_rss_bytes: int
    stdout: str
    log_tail: str
    other_cpu_share: float  # of both cores, taken by processes other than this one


def run_child(argv: list[str], env: dict[str, str], log_path: Path) -> ChildRun:
    """Run `argv` pinned to core 0 under the launcher, in its own process group (killed with
    the group on error), once the cores are quiet; note how much of the CPU other processes
    took meanwhile."""
    out_path = log_path.with_suffix(".stdout")
    report_path = log_path.with_suffix(".rusage.json")
    launcher = [sys.executable, "-I", "-c", _LAUNCHER, str(report_path)]
    wait_for_quiet(max_wait_s=QUIET_WAIT_S)
    with log_path.open("wb") as log, out_path.open("wb") as out, CpuWatch(lambda: 0) as cpu:
        process = subprocess.Popen(
            [*launcher, "taskset", "-c", SERVER_CORE, *argv],
            env=env,
            stdout=out,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            process.wait()
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
    report = json.loads(report_path.read_text())
    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
    return ChildRun(
        returncode=report["returncode"],
        wall_s=report["wall_s"],
        max_rss_bytes=report["max_rss_kib"] * 1024,
        stdout=out_path.read_text(errors="replace"),
        log_tail=tail,
        other_cpu_share=cpu.other_share,
    )


def summarize(run: ChildRun, rows: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ok": run.returncode == 0,
        "wall_s": round(run.wall_s, 3),
        "rows_per_s": round(rows / run.wall_s, 1) if run.returncode == 0 else None,
        "peak_rss_mib": round(run.max_rss_bytes / 2**20, 1),
        "other_cpu_share": run.other_cpu_share,
    }
    if run.returncode != 0:
        result["error"] = run.log_tail[-2000:]
    return result


def measure_direct(model_path: Path, data: Path, rows: int, workdir: Path) -> dict[str, Any]:
    """The baseline: read the batches, `predict`, write the predictions."""
    output = workdir / f"direct-{rows}.parquet"
    argv = [
        str(ROOT / ".venv" / "bin" / "python"), str(BENCH_DIR / "serving_batch.py"),
        "--model", str(model_path), "--input", str(data), "--output", str(output),
    ]  # fmt: skip
    run = run_child(argv, _env(), workdir / f"direct-{rows}.log")
    result = summarize(run, rows)
    if run.returncode == 0:
        report = json.loads(run.stdout.strip().splitlines()[-1])
        result["loop_rows_per_s"] = round(report["rows"] / report["loop_s"], 1)
        result["output_rows"] = report["rows"]
    return result


def measure_lockgate(
    model_ref: str, api_url: str, data: Path, rows: int, workdir: Path
) -> dict[str, Any]:
    """`lockgate score MODEL@ALIAS --input X --output Y`, the model fetched from the registry."""
    output = workdir / f"lockgate-{rows}.parquet"
    argv = [
        str(ROOT / ".venv" / "bin" / "lockgate"), "score", model_ref,
        "--input", str(data), "--output", str(output),
    ]  # fmt: skip
    env = _env() | {"LOCKGATE_URL": api_url, "LOCKGATE_HOME": str(workdir / "lockgate-home")}
    run = run_child(argv, env, workdir / f"lockgate-{rows}.log")
    result = summarize(run, rows)
    if run.returncode == 0:
        result["output_rows"] = pq.ParquetFile(output).metadata.num_rows
        direct = workdir / f"direct-{rows}.parquet"
        if direct.exists():
            result["matches_direct"] = _same_predictions(direct, output)
    return result


def _env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
    return {k: v for k, v in os.environ.items() if k in keep}


def _prediction_column(path: Path) -> np.ndarray:
    table = pq.read_table(path)
    name = PREDICTION if PREDICTION in table.column_names else table.column_names[-1]
    return table.column(name).to_numpy()


def _same_predictions(expected: Path, got: Path) -> bool:
    want, have = _prediction_column(expected), _prediction_column(got)
    return bool(len(want) == len(have) and np.array_equal(want, have.astype(want.dtype)))


def score_directly(model_path: Path, source: Path, output: Path) -> dict[str, Any]:
    """Read `source` in Arrow batches, `predict` each, write the predictions to `output`."""
    model = load_model(model_path)
    started = time.perf_counter()
    rows = 0
    writer: pq.ParquetWriter | None = None
    try:
        # Without pre_buffer=False, pyarrow keeps the bytes of every row group read so far
        # until the reader is done: peak memory would grow with the file.
        reader = pq.ParquetFile(source, pre_buffer=False)
        for batch in reader.iter_batches(batch_size=BATCH_ROWS):
            features = np.column_stack([column.to_numpy() for column in batch.columns])
            predictions = pa.table({PREDICTION: model.predict(features)})
            if writer is None:
                writer = pq.ParquetWriter(output, predictions.schema)
            writer.write_table(predictions)
            rows += batch.num_rows
    finally:
        if writer is not None:
            writer.close()
    return {"rows": rows, "loop_s": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description="Score a Parquet file by calling predict.")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    print(json.dumps(score_directly(args.model, args.input, args.output)))


if __name__ == "__main__":
    main()
