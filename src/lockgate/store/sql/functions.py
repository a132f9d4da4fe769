"""SQL functions that Lockgate registers on every SQLite connection.

SQLite's JSON functions print a REAL with 15 significant digits, which does not round-trip
(0.30000000000000004 prints as 0.3), and its own printf and text-to-real conversions are not
exact at the extremes of the range. Where a value must come back as the same float, Python
renders it: `repr` is the shortest text that round-trips.

- `lockgate_json_metrics(key, value, step, timestamp)` aggregates a run's latest metric
  values into the JSON object the REST API writes for them (`{key: {key, value, step,
  timestamp}}`). Aggregating in one function costs one call per point, where rendering each
  value with a scalar function and building the objects with SQLite's JSON functions costs
  two parses more per point.
"""

from __future__ import annotations

import functools
import math
import sqlite3
from datetime import UTC, datetime

import orjson

__all__ = ["JSON_METRICS", "json_float", "json_time", "register_sqlite_functions"]

JSON_METRICS = "lockgate_json_metrics"


def register_sqlite_functions(connection: sqlite3.Connection) -> None:
    """Add Lockgate's functions to a new SQLite connection."""
    connection.create_aggregate(JSON_METRICS, 4, _MetricsObject)  # type: ignore[arg-type]  # typeshed's protocol has a one-argument step


def json_float(value: float | None) -> float | str:
    """A stored metric value as the REST API writes it: NULL (how NaN is stored) and the
    infinities become the strings "NaN", "Infinity" and "-Infinity"."""
    if value is None:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float(value)


@functools.lru_cache(maxsize=16_384)  # points logged together share a timestamp
def json_time(micros: int) -> str:
    """Stored microseconds as the REST API writes a time (ISO 8601, UTC, `Z`)."""
    moment = datetime.fromtimestamp(micros // 1_000_000, UTC)
    return moment.replace(microsecond=micros % 1_000_000).isoformat().replace("+00:00", "Z")


class _MetricsObject:
    """The aggregate behind `lockgate_json_metrics`."""

    __slots__ = ("_points",)

    def __init__(self) -> None:
        self._points: dict[str, dict[str, object]] = {}

    def step(self, key: str, value: float | None, step: int, timestamp: int) -> None:
        self._points[key] = {
            "key": key,
            "value": json_float(value),
            "step": step,
            "timestamp": json_time(timestamp),
        }

    def finalize(self) -> str:
        return orjson.dumps(self._points).decode()
