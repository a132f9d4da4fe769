"""The prediction logger: `log()` never waits for the sink, and no record is lost when the sink
stalls, fails, or the process dies; spilled records are replayed and their files deleted."""

from __future__ import annotations

import collections
import json
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from lockgate.domain.errors import ConflictError
from lockgate.serving.prediction_log import ColumnMatrix, ParquetSink, PredictionLogger, Scored
from tests.serving.memory_sink import MemorySink, make_records, wait_until

ROOT = Path(__file__).resolve().parents[2]


def _segments(spill: Path) -> list[Path]:
    return sorted(spill.glob("segment-*.arrows"))


def _duplicates(ids: list[str]) -> int:
    return sum(count - 1 for count in collections.Counter(ids).values())


def test_records_reach_a_healthy_sink_in_batches_without_touching_disk(tmp_path: Path) -> None:
    sink = MemorySink()
    records = make_records(2_500)
    with PredictionLogger(sink, spill_directory=tmp_path, batch_size=1_000) as logger:
        for record in records:
            logger.log(record)
    assert sink.ids() == [record.prediction_id for record in records]
    assert sink.closes == 1
    stats = logger.stats()
    assert (stats.queued, stats.written, stats.spilled, stats.dropped) == (2_500, 2_500, 0, 0)
    assert not _segments(tmp_path)


def test_a_stalled_sink_never_blocks_log_and_loses_nothing(tmp_path: Path) -> None:
    sink = MemorySink()
    sink.released.clear()
    logger = PredictionLogger(
        sink,
        spill_directory=tmp_path,
        queue_size=1_000,
        batch_size=500,
        flush_interval=0.01,
        write_timeout=0.05,
    )
    logger.start()
    records = make_records(50_000)
    for record in records[:500]:
        logger.log(record)
    assert sink.blocked.wait(20)  # the sink thread is stuck inside write()

    for record in records[500:]:
        logger.log(record)
    # All 50,000 calls returned while the sink was still stuck in its first write.
    assert sink.blocked.is_set()
    assert not sink.released.is_set()
    assert not sink.records
    assert logger.stats().queued == 50_000
    wait_until(lambda: logger.stats().spilled == 50_000)
    assert _segments(tmp_path)

    sink.released.set()
    logger.close(timeout=30)

    ids = sink.ids()
    assert set(ids) == {record.prediction_id for record in records}
    assert _duplicates(ids) == 0  # the stuck batch's spilled copy was deleted when it landed
    stats = logger.stats()
    assert stats.dropped == 0
    assert stats.sink_stalls >= 1
    assert stats.written == 50_000
    assert stats.replayed == 50_000 - sink.batches[0]  # all but the stuck batch came from disk
    assert not _segments(tmp_path)


def test_queued_counts_what_the_worker_has_taken_but_not_yet_counted(tmp_path: Path) -> None:
    # The moment between the worker taking entries off the buffer and counting them: `queued`
    # read then once missed up to a whole overflow's worth (the stalled-sink test saw 6,389
    # of 50,000 under load).
    logger = PredictionLogger(MemorySink(), spill_directory=tmp_path)
    for record in make_records(10):
        logger.log(record)
    taken = logger._buffer.take(overflow=False, limit=None)  # as the worker does, unstarted
    assert len(taken) == 10
    assert logger.stats().queued == 10
    logger.close()
    assert logger.stats().queued == 10  # accepted, then lost at close: still accepted


def test_a_failing_sink_loses_nothing_and_the_spill_files_go_once_replayed(
    tmp_path: Path,
) -> None:
    sink = MemorySink()
    sink.healthy.clear()
    logger = PredictionLogger(
        sink,
        spill_directory=tmp_path,
        queue_size=1_000,
        batch_size=200,
        flush_interval=0.01,
        retry_initial=0.001,
        retry_max=0.01,
    )
    logger.start()
    records = make_records(5_000)
    for record in records:
        logger.log(record)
    wait_until(lambda: logger.stats().spilled == 5_000)
    assert _segments(tmp_path)
    assert sink.failures >= 1
    assert not sink.records

    sink.healthy.set()
    logger.close(timeout=30)

    ids = sink.ids()
    assert set(ids) == {record.prediction_id for record in records}
    assert _duplicates(ids) == 0
    stats = logger.stats()
    assert (stats.written, stats.replayed, stats.dropped) == (5_000, 5_000, 0)
    assert stats.sink_errors == sink.failures
    assert not _segments(tmp_path)
    assert stats.spill_segments == 0
    assert stats.spill_bytes == 0


_CRASHING = """
import sys, time
from pathlib import Path
from lockgate.serving.prediction_log import PredictionLogger
from tests.serving.memory_sink import MemorySink, make_records, wait_until

sink = MemorySink()
sink.released.clear()
logger = PredictionLogger(
    sink, spill_directory=Path(sys.argv[1]), batch_size=100, flush_interval=0.01,
    write_timeout=0.01,
)
logger.start()
records = make_records(3_000)
for record in records:
    logger.log(record)
wait_until(lambda: logger.stats().spilled == len(records))
print(*(record.prediction_id for record in records), flush=True)
time.sleep(600)
"""


def test_the_spilled_records_of_a_killed_process_are_replayed_by_the_next_logger(
    tmp_path: Path,
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CRASHING, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        logged = child.stdout.readline().split()
    finally:
        child.kill()  # SIGKILL, no close(): the spill directory stays as it was
        child.wait()
    assert len(logged) == 3_000
    assert _segments(tmp_path)

    sink = MemorySink()
    logger = PredictionLogger(sink, spill_directory=tmp_path)
    logger.start()
    logger.close(timeout=30)

    assert sorted(sink.ids()) == sorted(logged)
    assert logger.stats().replayed == 3_000
    assert not _segments(tmp_path)


def test_end_to_end_into_rotated_parquet_files(tmp_path: Path) -> None:
    records = make_records(3_000)
    sink = ParquetSink(tmp_path / "log", rotate_bytes=16 * 1024)
    with PredictionLogger(sink, spill_directory=tmp_path / "spill", batch_size=250) as logger:
        for record in records:
            logger.log(record)
    version = tmp_path / "log" / "churn" / "v3"  # a directory per model version
    files = sorted(version.glob("*.parquet"))
    assert len(files) > 1
    assert [p for p in version.iterdir() if p.suffix != ".parquet"] == []
    ids = [i for path in files for i in pq.read_table(path).column("prediction_id").to_pylist()]
    assert ids == [record.prediction_id for record in records]


def test_a_spill_directory_has_one_logger(tmp_path: Path) -> None:
    with PredictionLogger(MemorySink(), spill_directory=tmp_path):
        second = PredictionLogger(MemorySink(), spill_directory=tmp_path)
        with pytest.raises(ConflictError, match="in use"):
            second.start()
    PredictionLogger(MemorySink(), spill_directory=tmp_path).start()  # free again


def test_when_the_spill_disk_fails_too_log_still_never_raises(tmp_path: Path) -> None:
    sink = MemorySink()
    sink.healthy.clear()
    spill = tmp_path / "spill"
    logger = PredictionLogger(
        sink, spill_directory=spill, batch_size=10, flush_interval=0.01, retry_initial=0.001
    )
    logger.start()
    shutil.rmtree(spill)
    spill.write_text("not a directory any more")
    for record in make_records(100):
        logger.log(record)
    wait_until(lambda: logger.stats().dropped == 100)
    logger.close(timeout=5)
    logger.log(make_records(1)[0])  # after close: counted, not raised
    assert logger.stats().dropped == 101


def test_torn_corrupt_and_foreign_spill_files_cost_only_their_own_records(
    tmp_path: Path,
) -> None:
    sink = MemorySink()
    sink.healthy.clear()
    first = PredictionLogger(
        sink, spill_directory=tmp_path, batch_size=25, flush_interval=0.01, retry_initial=0.001
    )
    first.start()
    records = make_records(100)
    for record in records:
        first.log(record)
    wait_until(lambda: first.stats().spilled == 100)
    first.close(timeout=0.1)
    *_, last = _segments(tmp_path)
    stream = b"not an Arrow stream"
    with last.open("ab") as segment:
        # A frame of 7 predictions whose bytes were damaged: its rows count as dropped.
        segment.write(struct.pack("<QQI", len(stream), 7, zlib.crc32(stream) ^ 1) + stream)
        # Torn by a crash: its append never returned, so nothing is lost.
        segment.write(struct.pack("<QQI", 1_000, 3, 0) + b"torn")
    foreign = tmp_path / f"segment-{999:020d}.arrows"
    foreign.write_bytes(b"some other format\n")

    sink = MemorySink()
    second = PredictionLogger(sink, spill_directory=tmp_path)
    second.start()
    second.close(timeout=30)

    assert sorted(sink.ids()) == sorted(record.prediction_id for record in records)
    assert second.stats().dropped == 7
    assert not _segments(tmp_path)
    assert foreign.with_suffix(".unreadable").exists()  # set aside for an operator


def test_segments_of_the_first_spill_format_are_still_replayed(tmp_path: Path) -> None:
    header = b'{"format": "lockgate.prediction-spill/1"}\n'
    lines = [
        {
            "prediction_id": f"{n:032x}",
            "timestamp": 1_790_000_000_000_000 + n,
            "model": "churn",
            "version": 3,
            "latency_ms": 1.5,
            "status": "ok",
            "error": None,
            "request_id": None,
            "inputs": {"tenure": [12.0, float(n)]},
            "outputs": {"churn": [0.25, 0.5]},
        }
        for n in range(3)
    ]
    body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    old = tmp_path / f"segment-{1:020d}.jsonl"
    old.write_bytes(header + body + b'{"prediction_id":"unread')  # with a torn tail

    sink = MemorySink()
    with PredictionLogger(sink, spill_directory=tmp_path) as logger:
        pass

    assert sink.ids() == [line["prediction_id"] for line in lines]
    assert [row.inputs for row in sink.records][2] == {"tenure": [12.0, 2.0]}
    assert (logger.stats().replayed, logger.stats().dropped) == (3, 0)
    assert not old.exists()


def test_close_returns_while_the_sink_is_stuck_and_the_next_logger_delivers_the_rest(
    tmp_path: Path,
) -> None:
    stuck = MemorySink()
    stuck.released.clear()
    logger = PredictionLogger(
        stuck, spill_directory=tmp_path, batch_size=100, flush_interval=0.01, write_timeout=0.05
    )
    logger.start()
    records = make_records(1_000)
    for record in records:
        logger.log(record)
    assert stuck.blocked.wait(20)
    logger.close(timeout=0.5)  # returns: the stuck call keeps only its own thread
    stats = logger.stats()
    assert stats.spilled == 1_000
    assert stats.dropped == 0
    assert stuck.closes == 0  # it was busy, so it was not closed under its own feet

    stuck.released.set()  # the late call lands after all: its batch arrives twice
    wait_until(lambda: bool(stuck.records))
    sink = MemorySink()
    with PredictionLogger(sink, spill_directory=tmp_path):
        pass
    assert set(stuck.ids()) | set(sink.ids()) == {record.prediction_id for record in records}
    assert len(sink.ids()) == 1_000


def test_settings_are_checked_and_a_logger_starts_once(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        PredictionLogger(MemorySink(), spill_directory=tmp_path, queue_size=0)
    with pytest.raises(ValueError, match="positive"):
        PredictionLogger(MemorySink(), spill_directory=tmp_path, write_timeout=0)
    logger = PredictionLogger(MemorySink(), spill_directory=tmp_path)
    logger.start()
    with pytest.raises(RuntimeError, match="starts once"):
        logger.start()
    logger.close()
    logger.close()  # a second close does nothing


def test_scored_batches_are_checked_joined_and_delivered_in_order(tmp_path: Path) -> None:
    names = ("a", "b")
    outputs = {"y": np.array([1.0])}

    def scored(n: int, inputs: object, out: object = outputs) -> Scored:
        ticket = (f"{n:032x}", 10.0, f"r-{n}")
        return ("m", 1, 1_790_000_000_000_000 + n, 10.5, [ticket], [1], inputs, out, None)  # type: ignore[return-value]

    sink = MemorySink()
    with PredictionLogger(sink, spill_directory=tmp_path) as logger:
        for n in range(3):  # joined into one batch: equal names, one layout
            logger.log_scored(scored(n, ColumnMatrix(tuple(names), np.array([[n], [10.0 * n]]))))
        logger.log_scored(scored(3, {"a": np.array([1.0, 2.0])}))  # rows do not add up: refused
        logger.log_scored(scored(4, ColumnMatrix(names, np.array([[4.0], [40.0]]))))

    rows = sink.records
    assert [row.prediction_id for row in rows] == [f"{n:032x}" for n in (0, 1, 2, 4)]
    assert [row.inputs for row in rows][:3] == [{"a": [n], "b": [10.0 * n]} for n in range(3)]
    assert rows[1].latency_ms == 500.0
    assert rows[2].request_id == "r-2"
    assert logger.stats().dropped == 1
