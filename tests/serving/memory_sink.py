"""A prediction sink in memory that a test can stall or make fail, and records to log into it.

It passes the same sink contract as `ParquetSink` (test_prediction_log_sinks.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from lockgate.domain.identity import SystemClock, Uuid7Factory
from lockgate.serving.prediction_log import PredictionRecord, PredictionStatus


class MemorySink:
    """Keeps what it is given. While `released` is clear a write blocks (a stalled sink); while
    `healthy` is clear a write raises (a sink that is down)."""

    def __init__(self) -> None:
        self.records: list[PredictionRecord] = []
        self.batches: list[int] = []  # the size of each batch taken
        self.released = threading.Event()
        self.released.set()
        self.healthy = threading.Event()
        self.healthy.set()
        self.blocked = threading.Event()  # set once a write waited for `released`
        self.writes = 0
        self.failures = 0
        self.ticks = 0
        self.closes = 0

    def write(self, records: Sequence[PredictionRecord]) -> None:
        self.writes += 1
        if not self.released.is_set():
            self.blocked.set()
            self.released.wait()
        if not self.healthy.is_set():
            self.failures += 1
            raise ConnectionError("the sink is down")
        self.records.extend(records)
        self.batches.append(len(records))

    def tick(self) -> None:
        self.ticks += 1

    def close(self) -> None:
        self.closes += 1

    def ids(self) -> list[str]:
        return [record.prediction_id for record in self.records]


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
                inputs={"tenure": [float(n), 2.5], "plan": ["basic", "pro"], "n": n},
                outputs=None if failed else {"churn": [0.1, 0.9]},
                request_id=f"req-{n}" if n % 3 == 0 else None,
                status=PredictionStatus.ERROR if failed else PredictionStatus.OK,
                error="model raised ValueError" if failed else None,
            )
        )
    return records


def wait_until(condition: Callable[[], bool], *, timeout: float = 20.0) -> None:
    """Poll a condition the logger's threads make true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s")
        time.sleep(0.005)
