"""A prediction sink in memory that a test can stall or make fail, and records to log into it.

It passes the same sink contract as `ParquetSink` (test_prediction_log_sinks.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from lockgate.domain.identity import SystemClock, Uuid7Factory
from lockgate.serving.prediction_log import (
    PredictionBatch,
    PredictionRecord,
    PredictionStatus,
    batches_to_tables,
)


@dataclass(frozen=True)
class Logged:
    """One row of the prediction log, read back."""

    prediction_id: str
    model: str
    version: int
    timestamp: datetime
    latency_ms: float
    status: PredictionStatus
    error: str | None
    request_id: str | None
    inputs: Mapping[str, Any] | None
    outputs: Mapping[str, Any] | None


def rows_of(tables: Sequence[pa.Table]) -> list[Logged]:
    """The rows of prediction-log tables, in order."""
    return [
        Logged(**{**row, "status": PredictionStatus(row["status"])})
        for table in tables
        for row in table.to_pylist()
    ]


class MemorySink:
    """Keeps what it is given. While `released` is clear a write blocks (a stalled sink); while
    `healthy` is clear a write raises (a sink that is down)."""

    def __init__(self) -> None:
        self.tables: list[pa.Table] = []
        self.batches: list[int] = []  # the predictions of each write
        self.released = threading.Event()
        self.released.set()
        self.healthy = threading.Event()
        self.healthy.set()
        self.blocked = threading.Event()  # set once a write waited for `released`
        self.writes = 0
        self.failures = 0
        self.ticks = 0
        self.closes = 0

    def write(self, tables: Sequence[pa.Table]) -> None:
        self.writes += 1
        if not self.released.is_set():
            self.blocked.set()
            self.released.wait()
        if not self.healthy.is_set():
            self.failures += 1
            raise ConnectionError("the sink is down")
        self.tables.extend(tables)
        self.batches.append(sum(table.num_rows for table in tables))

    def tick(self) -> None:
        self.ticks += 1

    def close(self) -> None:
        self.closes += 1

    @property
    def records(self) -> list[Logged]:
        return rows_of(self.tables)

    def ids(self) -> list[str]:
        return [str(i) for table in self.tables for i in table.column("prediction_id").to_pylist()]


class StepClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.moment = SystemClock().now()

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


_IDS = Uuid7Factory()
_CLOCK = SystemClock()


def make_records(count: int, *, model: str = "churn", version: int = 3) -> list[PredictionRecord]:
    """Varied records: every tenth failed, every third carries a request id."""
    records = []
    for n in range(count):
        failed = n % 10 == 9
        records.append(
            PredictionRecord(
                prediction_id=_IDS.new_id(),
                model=model,
                version=version,
                timestamp=_CLOCK.now(),
                latency_ms=0.25 + n % 7,
                inputs={"tenure": [float(n), 2.5], "plan": ["basic", "pro"], "n": [n, n]},
                outputs=None if failed else {"churn": [0.1, 0.9]},
                request_id=f"req-{n}" if n % 3 == 0 else None,
                status=PredictionStatus.ERROR if failed else PredictionStatus.OK,
                error="model raised ValueError" if failed else None,
            )
        )
    return records


def make_tables(count: int, *, model: str = "churn", version: int = 3) -> list[pa.Table]:
    """`make_records` as the logger hands them to a sink."""
    records = make_records(count, model=model, version=version)
    return batches_to_tables([PredictionBatch.of(record) for record in records])


def wait_until(condition: Callable[[], bool], *, timeout: float = 20.0) -> None:
    """Poll a condition the logger's threads make true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s")
        time.sleep(0.005)
