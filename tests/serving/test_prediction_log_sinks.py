"""The sink contract, run on every sink: what a write accepted is there after close, in order,
with every field intact; empty writes, ticks and a second close are harmless."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lockgate.serving.prediction_log import ParquetSink, PredictionSink
from tests.serving.memory_sink import Logged, MemorySink, make_tables, rows_of

ReadBack = Callable[[], list[Logged]]


def _read_parquet(directory: Path) -> list[Logged]:
    return rows_of([pq.read_table(path) for path in sorted(directory.rglob("*.parquet"))])


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
    writes = [make_tables(50), [], make_tables(1), make_tables(200)]
    for tables in writes:
        sink.write(tables)
        sink.tick()
    sink.close()
    sink.close()
    expected = rows_of([table for tables in writes for table in tables])
    assert len(expected) == 251
    assert read_back() == expected
