"""The Parquet sink: the documented schema, complete files only, rotation by size and age, and
recovery of what a killed process had written but not yet completed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lockgate.serving.prediction_log import (
    BASE_SCHEMA,
    SCHEMA_VERSION,
    ParquetSink,
    PredictionBatch,
    batches_to_tables,
)
from tests.serving.memory_sink import StepClock, make_tables

ROOT = Path(__file__).resolve().parents[2]


def _complete(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.parquet"))


def _in_progress(directory: Path) -> list[Path]:
    return [p for p in directory.rglob(".*") if p.name.endswith((".tmp", ".journal"))]


def _batch(model: str, *, failed: bool = False, label_type: type = np.int64) -> PredictionBatch:
    return PredictionBatch(
        model=model,
        version=1,
        timestamp=1_790_000_000_000_000,
        prediction_ids=[os.urandom(16).hex()],
        latencies_ms=[1.0],
        request_ids=[None],
        rows=[1],
        inputs={"x": np.array([1.5])},
        outputs=None if failed else {"label": np.array([1], dtype=label_type)},
        error="boom" if failed else None,
    )


def test_tables_round_trip_with_the_documented_schema(tmp_path: Path) -> None:
    first, second = make_tables(10), make_tables(20)
    sink = ParquetSink(tmp_path)
    sink.write(first)
    sink.write(second)
    sink.close()

    [path] = _complete(tmp_path)
    assert path.parent == tmp_path / "churn" / "v3"  # a directory per model version
    table = pq.read_table(path)
    assert table.schema.metadata[b"lockgate.schema"] == SCHEMA_VERSION.encode()
    assert [field.name for field in table.schema] == [*BASE_SCHEMA.names, "inputs", "outputs"]
    for field in BASE_SCHEMA:
        assert table.schema.field(field.name).equals(field)
    assert str(table.schema.field("inputs").type) == (
        "struct<tenure: list<element: double>, plan: list<element: string>, "
        "n: list<element: int64>>"
    )
    assert pq.ParquetFile(path).metadata.num_row_groups == 1  # small writes gathered
    expected = [row for written in (first, second) for t in written for row in t.to_pylist()]
    assert table.to_pylist() == expected


def test_tables_are_gathered_into_row_groups_of_the_configured_size(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path, row_group_rows=25)
    for _ in range(7):
        sink.write(make_tables(10))
    sink.close()
    [path] = _complete(tmp_path)
    metadata = pq.ParquetFile(path).metadata
    sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    assert sizes == [30, 30, 10]


def test_each_model_version_has_its_own_directory_and_files(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path)
    sink.write([*make_tables(3, model="churn", version=3), *make_tables(2, model="fraud")])
    sink.write(make_tables(4, model="churn", version=4))
    sink.write(batches_to_tables([_batch("../escape"), _batch(".hidden"), _batch("a/b")]))
    sink.close()

    counts = {
        str(path.parent.relative_to(tmp_path)): pq.read_metadata(path).num_rows
        for path in _complete(tmp_path)
    }
    assert counts == {
        "churn/v3": 3,
        "churn/v4": 4,
        "fraud/v3": 2,
        "%2E.%2Fescape/v1": 1,
        "%2Ehidden/v1": 1,
        "a%2Fb/v1": 1,
    }


def test_failed_predictions_join_the_open_file_of_their_model(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path)
    sink.write(batches_to_tables([_batch("m")]))
    sink.write(batches_to_tables([_batch("m", failed=True)]))  # outputs of the null type
    sink.write(batches_to_tables([_batch("m", label_type=np.float32)]))  # another output type
    sink.close()

    first, second = (pq.read_table(path) for path in _complete(tmp_path))
    assert first.column("status").to_pylist() == ["ok", "error"]
    assert first.column("outputs").to_pylist() == [{"label": [1]}, None]
    assert second.schema.field("outputs").type == pa.struct(
        [pa.field("label", pa.list_(pa.float32()))]
    )


def test_a_file_of_failed_predictions_only_is_complete_too(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path)
    sink.write(batches_to_tables([_batch("m", failed=True)]))
    sink.close()
    [path] = _complete(tmp_path)
    assert pq.read_table(path).column("outputs").to_pylist() == [None]
    assert pq.read_table(path).column("error").to_pylist() == ["boom"]


def test_files_rotate_by_size_and_each_is_complete(tmp_path: Path) -> None:
    batches = [make_tables(20) for _ in range(4)]
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
        assert ids == batch[0].column("prediction_id").to_pylist()
        assert path.name.startswith("predictions-")


def test_files_rotate_by_age_on_write_and_on_tick(tmp_path: Path) -> None:
    clock = StepClock()
    sink = ParquetSink(tmp_path, rotate_seconds=60, clock=clock)
    sink.write(make_tables(5))
    clock.advance(30)
    sink.write(make_tables(5))  # same file: 30 s old
    sink.tick()
    assert not _complete(tmp_path)
    clock.advance(31)
    sink.tick()  # 61 s old: completed
    assert [pq.read_metadata(p).num_rows for p in _complete(tmp_path)] == [10]
    sink.write(make_tables(3))
    clock.advance(61)
    sink.write(make_tables(4))  # the open file is old: completed before this write
    sink.close()
    assert [pq.read_metadata(p).num_rows for p in _complete(tmp_path)] == [10, 3, 4]
    assert not _in_progress(tmp_path)


_WRITER = """
import sys, time
from pathlib import Path
from lockgate.serving.prediction_log import ParquetSink
from tests.serving.memory_sink import make_tables

sink = ParquetSink(Path(sys.argv[1]))
for _ in range(3):
    tables = make_tables(40)
    sink.write(tables)
    print(*tables[0].column("prediction_id").to_pylist(), flush=True)
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
    [journal] = tmp_path.rglob(".*.parquet.journal")
    with journal.open("ab") as torn:
        torn.write(b"\x08\x00\x00\x00half a batch")  # a crash in the middle of a write

    ParquetSink(tmp_path).close()

    [path] = _complete(tmp_path)
    assert pq.read_table(path).column("prediction_id").to_pylist() == written
    assert not _in_progress(tmp_path)


def test_a_call_journals_all_its_tables_with_one_fsync_per_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = ParquetSink(tmp_path)
    tables = [*make_tables(4), *make_tables(5), *make_tables(3, model="fraud"), *make_tables(6)]
    synced: list[str] = []  # the files fsynced (directories too, when files are made)
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)

    sink.write(tables)

    journals = sorted(tmp_path.rglob(".*.parquet.journal"))
    assert len(journals) == 2
    # Once each, not once per table.
    assert sorted(path for path in synced if path.endswith(".journal")) == list(map(str, journals))
    # On disk when `write` returns: what a killed process leaves is read back whole.
    rows = {}
    for journal in journals:
        with pa.ipc.open_stream(journal.read_bytes()) as reader:
            rows[journal.parent.parent.name] = reader.read_all().num_rows
    assert rows == {"churn": 15, "fraud": 3}


def test_recovery_leaves_the_files_of_a_live_writer_alone(tmp_path: Path) -> None:
    first, second = ParquetSink(tmp_path), ParquetSink(tmp_path)
    first.write(make_tables(5))
    second.write(make_tables(7))  # recovers nothing: the other journal is locked
    assert len(_in_progress(tmp_path)) == 4
    first.write(make_tables(5))
    first.close()
    second.close()
    assert sorted(pq.read_metadata(p).num_rows for p in _complete(tmp_path)) == [7, 10]


def test_after_a_failed_write_the_sink_recovers_its_file_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = ParquetSink(tmp_path)
    sink.write(make_tables(5))

    def failing_fsync(fd: int) -> None:
        raise OSError("the disk says no")

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", failing_fsync)
        with pytest.raises(OSError, match="disk says no"):
            sink.write(make_tables(7))
    sink.write(make_tables(3))  # first completes the abandoned file from its journal
    sink.close()
    # The failed batch reached the journal before the fsync failed, so it is kept: the logger
    # also spilled it, which is the at-least-once case of a sink that raised.
    assert [pq.read_metadata(p).num_rows for p in _complete(tmp_path)] == [12, 3]
    assert not _in_progress(tmp_path)
