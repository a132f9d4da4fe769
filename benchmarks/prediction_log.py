"""Prediction-log benchmark: what logging adds to each prediction, with a healthy and a stalled sink.

A trivial `predict` (a 32-feature dot product, a few microseconds) runs in a tight loop: bare;
then building what the inference server logs for it (the `Scored` tuple of a batch of one
request: its UUIDv7 id, clock, start time, its 32 inputs as one `ColumnMatrix`, the output)
without logging it; then building and logging it with `PredictionLogger.log_scored()` into a
healthy `ParquetSink`; then into a sink that stays stalled for the whole run, so every
prediction is spilled to local disk. Each mode keeps the best of `--repeat` runs.

Two costs are reported per prediction: the wall time of the predicting loop, and the CPU time
of the whole process (every thread) from the start of the loop until the logger's worker has
taken every record off the queue: under the GIL the worker's encoding and writing is CPU the
predicting threads do not get. A real model takes far longer than this `predict`, so the added
CPU per prediction, and its share of a 1 ms prediction, are the numbers to read; the ratios to
the bare loop are the worst case. `log_call_ns` times the `log()` call alone.

One JSON line goes to stdout. Not part of `make bench`; run it directly:

    .venv/bin/python benchmarks/prediction_log.py [--predictions 200000] [--repeat 3]
        [--log-calls 50000]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from lockgate.domain.identity import Uuid7Factory
from lockgate.serving.prediction_log import (
    ColumnMatrix,
    ParquetSink,
    PredictionLogger,
    PredictionSink,
    Scored,
)

WEIGHTS = [0.01 * i for i in range(32)]
NAMES = [f"f{i}" for i in range(32)]
MODES = ("bare", "record_only", "healthy_sink", "stalled_sink")


def predict(features: list[float]) -> float:
    """The stand-in model."""
    return sum(w * x for w, x in zip(WEIGHTS, features, strict=True))


class StalledSink:
    """A sink whose writes wait until `release` is set; then it discards what it is given."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def write(self, tables: Sequence[pa.Table]) -> None:
        self.release.wait()

    def tick(self) -> None:
        self.release.wait()

    def close(self) -> None:
        pass


def _scored(ids: Uuid7Factory, inputs: ColumnMatrix, score: float, started: float) -> Scored:
    """What the server logs for one request of one row, scored alone."""
    ticket = (ids.new_id(), started, None)
    outputs = {"score": np.array([score])}
    answered = time.perf_counter()
    return ("bench", 1, time.time_ns() // 1000, answered, [ticket], [1], inputs, outputs, None)


def _loop(count: int, handle: Callable[[Scored], None] | None, build: bool) -> int:
    """Nanoseconds for `count` predictions; each one's entry is built and handled if asked."""
    ids = Uuid7Factory()
    features = [float(i) for i in range(32)]
    by_column = np.array(features).reshape(32, 1)
    started = time.perf_counter_ns()
    for _ in range(count):
        if not build:
            predict(features)
            continue
        begin = time.perf_counter()
        score = predict(features)
        # A fresh matrix per request, as the server decodes one; its values are the same.
        scored = _scored(ids, ColumnMatrix(NAMES, by_column.copy()), score, begin)
        if handle is not None:
            handle(scored)
    return time.perf_counter_ns() - started


def _logged_run(count: int, stalled: bool) -> dict[str, int]:
    with tempfile.TemporaryDirectory(prefix="lockgate-bench-") as tmp:
        stalled_sink = StalledSink()
        sink: PredictionSink = stalled_sink if stalled else ParquetSink(Path(tmp) / "log")
        # A stalled sink is noticed after write_timeout; a short one spills from the start.
        timeout = 0.1 if stalled else 5.0
        logger = PredictionLogger(sink, spill_directory=Path(tmp) / "spill", write_timeout=timeout)
        logger.start()
        cpu_started = time.process_time_ns()
        loop_ns = _loop(count, logger.log_scored, build=True)
        while logger.stats().in_memory:
            time.sleep(0.001)
        cpu_ns = time.process_time_ns() - cpu_started
        stalled_sink.release.set()
        logger.close(timeout=120)
        stats = logger.stats()
        return {
            "loop_ns": loop_ns,
            "cpu_ns": cpu_ns,
            "spilled": stats.spilled,
            "dropped": stats.dropped,
            "written": stats.written,
        }


def _log_call_ns(count: int, stalled: bool) -> float:
    """Nanoseconds per `log_scored()` call alone, over entries built beforehand (few enough
    that none is dropped: the worker cannot spill millions a second)."""
    ids = Uuid7Factory()
    inputs = ColumnMatrix(NAMES, np.zeros((32, 1)))
    records = [_scored(ids, inputs, 1.0, 0.0) for _ in range(count)]
    with tempfile.TemporaryDirectory(prefix="lockgate-bench-") as tmp:
        stalled_sink = StalledSink()
        sink: PredictionSink = stalled_sink if stalled else ParquetSink(Path(tmp) / "log")
        logger = PredictionLogger(
            sink, spill_directory=Path(tmp) / "spill", write_timeout=0.1 if stalled else 5.0
        )
        logger.start()
        started = time.perf_counter_ns()
        for record in records:
            logger.log_scored(record)
        elapsed = time.perf_counter_ns() - started
        stalled_sink.release.set()
        logger.close(timeout=120)
    return elapsed / count


def _measure(mode: str, count: int, repeat: int) -> dict[str, int]:
    runs: list[dict[str, int]] = []
    for _ in range(repeat):
        if mode in ("bare", "record_only"):
            cpu_started = time.process_time_ns()
            elapsed = _loop(count, None, build=mode == "record_only")
            cpu_ns = time.process_time_ns() - cpu_started
            runs.append({"loop_ns": elapsed, "cpu_ns": cpu_ns, "spilled": 0, "dropped": 0})
        else:
            runs.append(_logged_run(count, stalled=mode == "stalled_sink"))
    return min(runs, key=lambda run: run["loop_ns"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--predictions", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--log-calls", type=int, default=50_000)
    args = parser.parse_args(argv)
    count: int = args.predictions
    best = {mode: _measure(mode, count, args.repeat) for mode in MODES}
    wall = {mode: best[mode]["loop_ns"] / count for mode in MODES}
    cpu = {mode: best[mode]["cpu_ns"] / count for mode in MODES}
    logged = ("healthy_sink", "stalled_sink")
    results: dict[str, Any] = {
        "benchmark": "prediction_log",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "predictions": count,
        "repeat": args.repeat,
        "wall_ns_per_prediction": {mode: round(wall[mode], 1) for mode in MODES},
        "cpu_ns_per_prediction": {mode: round(cpu[mode], 1) for mode in MODES},
        "log_call_ns": {
            mode: round(
                min(_log_call_ns(args.log_calls, mode == "stalled_sink") for _ in range(3)), 1
            )
            for mode in logged
        },
        "wall_ratio_to_bare": {mode: round(wall[mode] / wall["bare"], 2) for mode in MODES[1:]},
        "added_cpu_ns_per_prediction": {
            mode: round(cpu[mode] - cpu["bare"], 1) for mode in MODES[1:]
        },
        "added_share_of_a_1ms_prediction": {
            mode: round((cpu[mode] - cpu["bare"]) / 1e6, 4) for mode in MODES[1:]
        },
        "spilled": {mode: best[mode]["spilled"] for mode in logged},
        "dropped": {mode: best[mode]["dropped"] for mode in logged},
    }
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
