"""The Parquet sink: the documented schema, complete files only, rotation by size and age, and
recovery of what a killed process had written but not yet completed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lockgate.domain.identity import to_micros
from lockgate.serving.prediction_log import PREDICTION_SCHEMA, SCHEMA_VERSION, ParquetSink
from tests.serving.memory_sink import StepClock, make_records

ROOT = Path(__file__).resolve().parents[2]


def _complete(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.parquet"))


def _in_progress(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.name.endswith((".tmp", ".journal"))]


def test_records_round_trip_with_the_documented_schema(tmp_path: Path) -> None:
    records = make_records(30)
    sink = ParquetSink(tmp_path)
    sink.write(records[:10])
    sink.write(records[10:])
    sink.close()

    [path] = _complete(tmp_path)
    table = pq.read_table(path)
    assert table.schema.equals(PREDICTION_SCHEMA, check_metadata=True)
    assert table.schema.metadata[b"lockgate.schema"] == SCHEMA_VERSION.encode()
    assert table.schema.field("inputs").metadata == {b"lockgate.encoding": b"json"}
    assert pq.ParquetFile(path).metadata.num_row_groups == 2
    rows = table.to_pylist()
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        assert row["prediction_id"] == record.prediction_id
        assert to_micros(row["timestamp"]) == to_micros(record.timestamp)
        assert row["model"] == record.model
        assert row["version"] == record.version
        assert row["latency_ms"] == record.latency_ms
        assert row["status"] == str(record.status)
        assert row["error"] == record.error
        assert row["request_id"] == record.request_id
        assert json.loads(row["inputs"]) == record.inputs
        if record.outputs is None:
            assert row["outputs"] is None
        else:
            assert json.loads(row["outputs"]) == record.outputs


def test_files_rotate_by_size_and_each_is_complete(tmp_path: Path) -> None:
    batches = [make_records(20) for _ in range(4)]
    sink = ParquetSink(tmp_path, rotate_bytes=1)
    for batch in batches:
        sink.write(batch)
        assert len(_in_progress(tmp_path)) == 2  # the open file and its journal, both hidden
        assert all(p.name.startswith(".") for p in _in_progress(tmp_path))
    sink.close()

    files = _complete(tmp_path)
    assert len(files) == 4
    assert not _in_progress(tmp_path)
    # Names sort by time, so in the order written.
    for path, batch in zip(files, batches, strict=True):
        ids = pq.read_table(path, columns=["prediction_id"]).column(0).to_pylist()
        assert ids == [record.prediction_id for record in batch]
        assert path.name.startswith("predictions-")


def test_files_rotate_by_age_on_write_and_on_tick(tmp_path: Path) -> None:
    clock = StepClock()
    sink = ParquetSink(tmp_path, rotate_seconds=60, clock=clock)
    sink.write(make_records(5))
    clock.advance(30)
    sink.write(make_records(5))  # same file: 30 s old
    sink.tick()
    assert not _complete(tmp_path)
    clock.advance(31)
    sink.tick()  # 61 s old: completed
    assert [pq.read_metadata(p).num_rows for p in _complete(tmp_path)] == [10]
    sink.write(make_records(3))
    clock.advance(61)
    sink.write(make_records(4))  # the open file is old: completed before this write
    sink.close()
    assert [pq.read_metadata(p).num_rows for p in _complete(tmp_path)] == [10, 3, 4]
    assert not _in_progress(tmp_path)


_WRITER = """
import sys, time
from pathlib import Path
from lockgate.serving.prediction_log import ParquetSink
from tests.serving.memory_sink import make_records

sink = ParquetSink(Path(sys.argv[1]))
for _ in range(3):
    batch = make_records(40)
    sink.write(batch)
    print(*(record.prediction_id for record in batch), flush=True)
print("written", flush=True)
time.sleep(600)
"""


def test_a_killed_writers_batches_are_recovered_into_a_complete_file(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        lines = [child.stdout.readline().strip() for _ in range(4)]
    finally:
        child.kill()  # SIGKILL: no close, no cleanup
        child.wait()
    assert lines[-1] == "written"
    written = [id_ for line in lines[:-1] for id_ in line.split()]
    assert not _complete(tmp_path)
    [journal] = tmp_path.glob(".*.parquet.journal")
    with journal.open("ab") as torn:
        torn.write(b"\x08\x00\x00\x00half a batch")  # a crash in the middle of a write

    ParquetSink(tmp_path).close()

    [path] = _complete(tmp_path)
    assert pq.read_table(path).column("prediction_id").to_pylist() == written
    assert not _in_progress(tmp_path)


def test_recovery_leaves_the_files_of_a_live_writer_alone(tmp_path: Path) -> None:
    first, second = ParquetSink(tmp_path), ParquetSink(tmp_path)
    first.write(make_records(5))
    second.write(make_records(7))  # recovers nothing: the other journal is locked
    assert len(_in_progress(tmp_path)) == 4
    first.write(make_records(5))
    first.close()
    second.close()
    assert sorted(pq.read_metadata(p).num_rows for p in _complete(tmp_path)) == [7, 10]


def test_after_a_failed_write_the_sink_recovers_its_file_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = ParquetSink(tmp_path)
    sink.write(make_records(5))

    def failing_fsync(fd: int) -> None:
        raise OSError("the disk says no")

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", failing_fsync)
        with pytest.raises(OSError, match="disk says no"):
            sink.write(make_records(7))
    sink.write(make_records(3))  # first completes the abandoned file from its journal
    sink.close()
    # The failed batch reached the journal before the fsync failed, so it is kept: the logger
    # also spilled it, which is the at-least-once case of a sink that raised.
    assert [pq.read_metadata(p).num_rows for p in _complete(tmp_path)] == [12, 3]
    assert not _in_progress(tmp_path)
