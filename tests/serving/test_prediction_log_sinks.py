"""The sink contract, run on every sink: what a write accepted is there after close, in order,
with every field intact; empty writes, ticks and a second close are harmless."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lockgate.serving.prediction_log import (
    ParquetSink,
    PredictionRecord,
    PredictionSink,
    PredictionStatus,
)
from tests.serving.memory_sink import MemorySink, make_records

ReadBack = Callable[[], list[PredictionRecord]]


def _read_parquet(directory: Path) -> list[PredictionRecord]:
    rows = [
        row
        for path in sorted(directory.glob("*.parquet"))
        for row in pq.read_table(path).to_pylist()
    ]
    return [
        PredictionRecord(
            prediction_id=row["prediction_id"],
            model=row["model"],
            version=row["version"],
            timestamp=row["timestamp"],
            latency_ms=row["latency_ms"],
            inputs=json.loads(row["inputs"]),
            outputs=None if row["outputs"] is None else json.loads(row["outputs"]),
            request_id=row["request_id"],
            status=PredictionStatus(row["status"]),
            error=row["error"],
        )
        for row in rows
    ]


@pytest.fixture(params=["parquet", "memory"])
def sink_and_reader(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[PredictionSink, ReadBack]]:
    if request.param == "parquet":
        yield ParquetSink(tmp_path, rotate_bytes=4096), lambda: _read_parquet(tmp_path)
    else:
        sink = MemorySink()
        yield sink, lambda: list(sink.records)


def test_what_a_sink_took_is_there_after_close(
    sink_and_reader: tuple[PredictionSink, ReadBack],
) -> None:
    sink, read_back = sink_and_reader
    batches = [make_records(50), [], make_records(1), make_records(200)]
    for batch in batches:
        sink.write(batch)
        sink.tick()
    sink.close()
    sink.close()
    expected = [record for batch in batches for record in batch]
    assert read_back() == expected
