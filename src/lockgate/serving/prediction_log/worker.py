"""The logger's worker thread: drains the in-memory queue to the sink in batches, spills what the
sink cannot take in time, and replays spilled segments, oldest first, once the sink works."""

from __future__ import annotations

import enum
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa  # pyarrow ships no type information

from lockgate.serving.prediction_log.record import (
    ColumnMatrix,
    PredictionBatch,
    PredictionRecord,
    Scored,
)
from lockgate.serving.prediction_log.runner import SinkCall, SinkRunner
from lockgate.serving.prediction_log.schema import batches_to_tables
from lockgate.serving.prediction_log.sink import PredictionSink
from lockgate.serving.prediction_log.spill import SpillStore

__all__ = ["Buffer", "Counters", "DeliveryPolicy", "Entry", "Worker", "entry_size"]

Entry = PredictionBatch | PredictionRecord | Scored
"""What the logger queues: a batch of predictions, one record, or a scored batch as the server
hands it over (both turned into batches on the worker)."""

_CONVERT_CHUNK = 64  # entries made batches between two chances for other threads to run

log = logging.getLogger("lockgate.serving.prediction_log")

_MIN_WAIT = 0.001  # seconds; the worker never spins
_SPILL_GRACE = 5.0  # seconds close() waits past its deadline for the last records to hit disk


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How the worker batches, how long it waits for the sink, and how it backs off."""

    batch_size: int
    stage_size: int
    queue_size: int
    flush_interval: float
    write_timeout: float
    retry_initial: float
    retry_max: float


@dataclass(slots=True)
class Counters:
    """Monotonic counts; only the worker writes them, except `dropped` (under `lock`)."""

    written: int = 0
    spilled: int = 0
    replayed: int = 0
    dropped: int = 0
    sink_errors: int = 0
    sink_stalls: int = 0
    staged: int = 0  # a gauge: predictions made tables, waiting for a sink call
    lock: threading.Lock = field(default_factory=threading.Lock)

    def drop(self, count: int) -> int:
        """Count lost records; the new total."""
        with self.lock:
            self.dropped += count
            return self.dropped


def entry_size(entry: Entry) -> int:
    """How many predictions an entry holds."""
    if isinstance(entry, tuple):
        return len(entry[4])
    return 1 if isinstance(entry, PredictionRecord) else len(entry.prediction_ids)


def entry_id(entry: Entry) -> str:
    """The first prediction id of an entry (for error messages)."""
    if isinstance(entry, tuple):
        return entry[4][0][0] if entry[4] else "?"
    return entry.prediction_id if isinstance(entry, PredictionRecord) else entry.prediction_ids[0]


class Buffer:
    """The entries `log()` accepted and the worker has not taken yet: the bounded queue, and the
    overflow that the worker spills to disk at once when the queue is full. Sizes count
    predictions, not entries."""

    def __init__(self, *, queue_size: int, overflow_limit: int, wake_size: int) -> None:
        self.queue: deque[Entry] = deque()
        self.overflow: deque[Entry] = deque()
        self.wake = threading.Event()
        self.closed = False  # set by close() and when the worker ends: put() refuses then
        self._queue_size = queue_size
        self._overflow_limit = overflow_limit
        self._wake_size = wake_size
        # Predictions in each deque; changed under the lock (log() may run on any thread).
        self._lock = threading.Lock()
        self.queued = 0
        self.overflowing = 0
        # Every prediction put() accepted: counted with the deques, under the lock, so that a
        # reader never sees predictions between the buffer and the worker's own counts.
        self.accepted = 0

    def __len__(self) -> int:
        return self.queued + self.overflowing

    def put(self, entry: Entry, size: int) -> bool:
        """Accept an entry of `size` predictions in O(1) without blocking on I/O; False when
        closed or even the overflow is full."""
        if self.closed:
            return False
        with self._lock:
            if self.queued < self._queue_size:
                before = self.queued
                self.queued = before + size
                self.queue.append(entry)
                # Once per `wake_size` predictions, not per entry: the worker must not spin.
                wake = before // self._wake_size != self.queued // self._wake_size
            elif self.overflowing < self._overflow_limit:
                self.overflowing += size
                self.overflow.append(entry)
                wake = not self.wake.is_set()
            else:
                return False
            self.accepted += size
        if wake:
            self.wake.set()
        return True

    def take(self, overflow: bool, limit: int | None) -> list[Entry]:
        """Entries from the front of the queue (or the overflow) holding about `limit`
        predictions (at least one entry), or all of them."""
        with self._lock:
            source = self.overflow if overflow else self.queue
            taken: list[Entry] = []
            count = 0
            while source and (limit is None or count < limit):
                entry = source.popleft()
                taken.append(entry)
                count += entry_size(entry)
            if overflow:
                self.overflowing -= count
            else:
                self.queued -= count
            return taken

    def clear(self) -> int:
        """Forget everything waiting; how many predictions that was."""
        with self._lock:
            count = self.queued + self.overflowing
            self.queue.clear()
            self.overflow.clear()
            self.queued = self.overflowing = 0
            return count


class _Source(enum.Enum):
    MEMORY = "memory"  # a batch from the queue
    SPILL = "spill"  # a chunk of a spilled segment
    TICK = "tick"  # no records: the sink's periodic tick


@dataclass(slots=True)
class _Delivery:
    """The one sink call in progress."""

    call: SinkCall
    source: _Source
    tables: list[pa.Table]
    deadline: float
    segment: Path | None = None  # where a stalled MEMORY batch was spilled
    stalled: bool = False


@dataclass(slots=True)
class _Replay:
    """The spilled segment being replayed, and how many of its records reached the sink."""

    segment: Path
    tables: list[pa.Table]
    rows: int
    offset: int = 0

    def chunk(self, size: int) -> list[pa.Table]:
        """The next `size` predictions not yet delivered, as slices of the tables."""
        chunk: list[pa.Table] = []
        skip, left = self.offset, size
        for table in self.tables:
            if skip >= table.num_rows:
                skip -= table.num_rows
                continue
            part = table.slice(skip, left)
            skip = 0
            chunk.append(part)
            left -= part.num_rows
            if not left:
                break
        return chunk


def _rows(tables: list[pa.Table]) -> int:
    return sum(table.num_rows for table in tables)


class Worker:
    """Owns every sink call and the spill store; runs on its own daemon thread."""

    def __init__(
        self,
        sink: PredictionSink,
        spill: SpillStore,
        buffer: Buffer,
        policy: DeliveryPolicy,
        counters: Counters,
    ) -> None:
        self._sink = sink
        self._spill = spill
        self._buffer = buffer
        self._policy = policy
        self._counters = counters
        self._runner = SinkRunner(buffer.wake.set, name="lockgate-prediction-sink")
        self._thread = threading.Thread(target=self._run, name="lockgate-prediction-log")
        self._thread.daemon = True
        self._inflight: _Delivery | None = None
        self._staged: list[pa.Table] = []  # taken off the buffer, made tables, not yet sent
        self._staged_rows = 0
        self._replay: _Replay | None = None
        self._retry_at = 0.0
        self._retry_delay = 0.0
        self._next_flush = self._next_tick = 0.0
        self._close_by: float | None = None
        self._backlog_first = False
        self._sink_failing = False
        self._spill_failing = False

    def start(self) -> None:
        self._runner.start()
        self._thread.start()

    def close(self, timeout: float) -> bool:
        """Deliver for up to `timeout` seconds, spill the rest; whether the worker finished."""
        self._close_by = time.monotonic() + timeout
        self._buffer.wake.set()
        self._thread.join(timeout + self._policy.write_timeout + _SPILL_GRACE)
        return not self._thread.is_alive()

    # The loop ----------------------------------------------------------------------------

    def _run(self) -> None:
        now = time.monotonic()
        self._next_flush = self._next_tick = now + self._policy.flush_interval
        try:
            while True:
                self._step(time.monotonic())
                now = time.monotonic()
                if self._is_finished(now):
                    break
                self._buffer.wake.wait(self._wait_time(now))
                self._buffer.wake.clear()
        finally:
            self._buffer.closed = True  # also if a bug ended the loop: log() counts, not hoards
            self._shut_down()

    def _step(self, now: float) -> None:
        if self._buffer.overflow:
            self._spill_tables(self._take(overflow=True, limit=None))
        if self._inflight is not None:
            self._check_inflight(now)
        # Spilled segments and new batches take turns, so neither starves the other.
        if self._backlog_first and self._can_submit(now):
            self._submit_backlog(now, tick=False)
        self._drain_queue(now)
        if self._can_submit(now):
            self._submit_backlog(now, tick=True)

    def _is_finished(self, now: float) -> bool:
        if self._close_by is None:
            return False
        if now >= self._close_by:
            return True
        if self._buffer or self._staged or self._inflight is not None:
            return False
        return self._spill.segment_count == 0 or self._retry_at >= self._close_by

    def _wait_time(self, now: float) -> float:
        until = now + self._policy.flush_interval
        inflight = self._inflight
        if inflight is not None and not inflight.stalled:
            until = min(until, inflight.deadline)  # or sooner: a finished call wakes the worker
        elif self._buffer.queue or self._staged:
            until = min(until, self._next_flush)
        if self._retry_at > now:
            until = min(until, self._retry_at)
        if self._close_by is not None:
            until = min(until, self._close_by)
        return max(until - now, _MIN_WAIT)

    # The queue ---------------------------------------------------------------------------

    def _drain_queue(self, now: float) -> None:
        buffer = self._buffer
        closing = self._close_by is not None
        due = now >= self._next_flush or closing
        # What was logged becomes tables early and in small steps: the Python objects it holds
        # (ids, arrays, tuples) would otherwise keep the allocator's busiest sizes filled with
        # long-lived objects, and every request would pay for fresh memory (ADR 0014).
        stage_size = self._policy.stage_size
        # At most a sink call's worth per step, so a producer faster than the worker cannot
        # keep it from sending what it staged (the loop comes back within a millisecond).
        for _ in range(self._policy.batch_size // stage_size + 1):
            if not (buffer.queued >= stage_size or (buffer.queue and due)):
                break
            self._stage(self._take(overflow=False, limit=stage_size))
            if self._staged_rows > self._policy.queue_size:
                # The sink is behind: what is past the memory bound goes to disk at once.
                excess = self._staged_rows - self._policy.queue_size
                self._spill_tables(self._unstage(excess))
        if not self._staged:
            self._next_flush = now + self._policy.flush_interval
            return
        if self._staged_rows < self._policy.batch_size and not due:
            return
        if self._can_submit(now):
            self._submit(_Source.MEMORY, self._unstage(self._policy.batch_size), now)
        elif self._is_sink_unavailable(now):
            self._spill_tables(self._unstage())
        else:
            return  # the sink is busy but not late: the tables wait for it
        self._next_flush = now + self._policy.flush_interval

    def _stage(self, tables: list[pa.Table]) -> None:
        self._staged.extend(tables)
        self._staged_rows += _rows(tables)
        self._counters.staged = self._staged_rows

    def _unstage(self, limit: int | None = None) -> list[pa.Table]:
        """Staged tables from the oldest, holding about `limit` predictions (all if None)."""
        count = 0
        taken = 0
        for table in self._staged:
            if limit is not None and count >= limit:
                break
            count += table.num_rows
            taken += 1
        tables, self._staged = self._staged[:taken], self._staged[taken:]
        self._staged_rows -= count
        self._counters.staged = self._staged_rows
        return tables

    def _take(self, overflow: bool, limit: int | None) -> list[pa.Table]:
        """Entries off the buffer, as tables: records and batches become rows here, on the
        worker's thread, not on the request path."""
        entries = self._buffer.take(overflow, limit)
        count = sum(entry_size(entry) for entry in entries)
        self._counters.staged = self._staged_rows + count  # still in memory while converted
        try:
            return self._convert(entries, count)
        finally:
            self._counters.staged = self._staged_rows

    def _convert(self, entries: list[Entry], count: int) -> list[pa.Table]:
        batches = []
        for index, run in enumerate(_runs(entries)):
            if index and index % _CONVERT_CHUNK == 0:
                time.sleep(0)  # let the event loop's thread have the GIL between chunks
            try:
                batches.append(_as_batch(run[0]) if len(run) == 1 else PredictionBatch.merged(run))  # type: ignore[arg-type]
            except (TypeError, ValueError) as exc:  # a caller's bad batch: it alone is lost
                lost = sum(entry_size(entry) for entry in run)
                total = self._counters.drop(lost)
                log.error("prediction %s lost: %s (%d lost in all)", entry_id(run[0]), exc, total)
                count -= lost
        try:
            return batches_to_tables(batches)
        except Exception:  # a bug: say so loudly, and count the predictions lost
            total = self._counters.drop(count)
            log.exception("cannot convert %d predictions to a table (%d lost in all)", count, total)
            return []

    # Sink calls --------------------------------------------------------------------------

    def _can_submit(self, now: float) -> bool:
        return self._inflight is None and now >= self._retry_at

    def _is_sink_unavailable(self, now: float) -> bool:
        if self._inflight is not None:
            return self._inflight.stalled
        return now < self._retry_at

    def _submit(self, source: _Source, tables: list[pa.Table], now: float) -> None:
        if source is _Source.MEMORY and not tables:
            return  # nothing left to deliver (a conversion failed)
        action = self._sink.tick if source is _Source.TICK else partial(self._sink.write, tables)
        call = self._runner.submit(action)
        self._inflight = _Delivery(call, source, tables, now + self._policy.write_timeout)
        self._backlog_first = source is _Source.MEMORY

    def _submit_backlog(self, now: float, *, tick: bool) -> None:
        replay = self._replay or self._load_replay()
        if replay is not None:
            self._submit(_Source.SPILL, replay.chunk(self._policy.batch_size), now)
        elif tick and now >= self._next_tick:
            self._submit(_Source.TICK, [], now)
            self._next_tick = now + self._policy.flush_interval

    def _check_inflight(self, now: float) -> None:
        delivery = self._inflight
        if delivery is None:
            return
        if delivery.call.is_done():
            self._inflight = None
            if delivery.call.error is None:
                self._succeeded(delivery)
            else:
                self._failed(delivery, delivery.call.error, now)
        elif not delivery.stalled and now >= delivery.deadline:
            self._stalled(delivery)

    def _succeeded(self, delivery: _Delivery) -> None:
        if self._sink_failing or delivery.stalled:
            log.info("the prediction sink works again; replaying what was spilled")
        self._sink_failing = False
        self._retry_at = self._retry_delay = 0.0
        count = _rows(delivery.tables)
        self._counters.written += count
        if delivery.source is _Source.MEMORY and delivery.segment is not None:
            self._delete(delivery.segment)  # the copy spilled while the call was late
        elif delivery.source is _Source.SPILL and self._replay is not None:
            self._counters.replayed += count
            self._replay.offset += count
            if self._replay.offset >= self._replay.rows:
                self._delete(self._replay.segment)
                self._replay = None

    def _failed(self, delivery: _Delivery, error: Exception, now: float) -> None:
        self._counters.sink_errors += 1
        if not self._sink_failing:
            log.warning("the prediction sink failed; spilling and retrying", exc_info=error)
        self._sink_failing = True
        policy = self._policy
        self._retry_delay = min(max(self._retry_delay * 2, policy.retry_initial), policy.retry_max)
        # Jitter, so replicas that share a sink do not retry in step.
        self._retry_at = now + self._retry_delay * random.uniform(0.8, 1.2)
        if delivery.source is _Source.MEMORY and delivery.segment is None:
            self._spill_tables(delivery.tables)

    def _stalled(self, delivery: _Delivery) -> None:
        delivery.stalled = True
        self._counters.sink_stalls += 1
        log.warning(
            "the prediction sink has not answered in %g s; spilling until it does",
            self._policy.write_timeout,
        )
        if delivery.source is not _Source.MEMORY:
            return  # spilled records are on disk already
        # A segment of its own, deleted if the late call succeeds after all: no duplicates.
        try:
            delivery.segment = self._spill.append_segment(delivery.tables)
        except OSError:
            # Still in memory with the call: spilled again (or counted lost) if it fails.
            log.exception("cannot spill the batch of a late sink call")
            return
        self._counters.spilled += _rows(delivery.tables)

    # The spill directory -----------------------------------------------------------------

    def _spill_tables(self, tables: list[pa.Table]) -> None:
        count = _rows(tables)
        if not count:
            return
        try:
            self._spill.append(tables)
        except OSError:
            self._spill_failed(count)
            return
        self._counters.spilled += count
        if self._spill_failing:
            log.info("the spill directory %s works again", self._spill.directory)
            self._spill_failing = False

    def _spill_failed(self, lost: int) -> None:
        total = self._counters.drop(lost)
        if not self._spill_failing:
            log.exception(
                "cannot write to the spill directory %s: predictions are being lost (%d so far)",
                self._spill.directory,
                total,
            )
        self._spill_failing = True

    def _load_replay(self) -> _Replay | None:
        while (segment := self._spill.oldest()) is not None:
            try:
                tables, corrupt = self._spill.read(segment)
            except OSError:
                log.exception("cannot read the spill segment %s; setting it aside", segment)
                self._spill.set_aside(segment)
                continue
            if corrupt:
                self._counters.drop(corrupt)
                log.error("%d unreadable records in the spill segment %s", corrupt, segment)
            if rows := _rows(tables):
                self._replay = _Replay(segment, tables, rows)
                return self._replay
            self._delete(segment)
        return None

    def _delete(self, segment: Path) -> None:
        try:
            self._spill.delete(segment)
        except OSError:
            # Nothing is lost: the segment is replayed again later, as duplicates.
            log.exception("cannot delete the replayed spill segment %s", segment)

    # Shutting down -----------------------------------------------------------------------

    def _shut_down(self) -> None:
        """Spill what is still in memory, close the sink if it is free, give up the spill
        directory. A late call's records are spilled too: duplicates if it succeeds later."""
        now = time.monotonic()
        self._check_inflight(now)
        for overflow in (True, False):
            self._spill_tables(self._take(overflow, limit=None))
        self._spill_tables(self._unstage())
        delivery = self._inflight
        if delivery is None:
            self._close_sink()
        else:
            if delivery.source is _Source.MEMORY and delivery.segment is None:
                self._spill_tables(delivery.tables)
            log.warning("the prediction sink is still busy at shutdown; not closing it")
        try:
            self._spill.close()
        except OSError:
            log.exception("cannot close the spill directory %s", self._spill.directory)
        self._runner.stop()

    def _close_sink(self) -> None:
        call = self._runner.submit(self._sink.close)
        if not call.wait(self._policy.write_timeout):
            log.warning("the prediction sink did not close in %g s", self._policy.write_timeout)
        elif call.error is not None:
            log.warning("closing the prediction sink failed", exc_info=call.error)


def _runs(entries: list[Entry]) -> list[list[Entry]]:
    """The entries in order, consecutive answered `Scored` tuples of one model version and
    layout (inputs as a `ColumnMatrix`) grouped to become one batch: at one connection every
    request is a batch of its own, and joining them here costs far less than one by one."""
    runs: list[list[Entry]] = []
    key: object = None
    for entry in entries:
        if (
            isinstance(entry, tuple)
            and entry[7] is not None
            and entry[8] is None
            and type(entry[6]) is ColumnMatrix
        ):
            inputs = entry[6]
            entry_key = (
                entry[0],
                entry[1],
                inputs.names,
                inputs.by_column.dtype,
                _outputs_key(entry[7]),
            )
            if entry_key == key:
                runs[-1].append(entry)
                continue
            key = entry_key
        else:
            key = None
        runs.append([entry])
    return runs


def _outputs_key(outputs: Mapping[str, Any]) -> tuple[object, ...]:
    return tuple(
        [
            (name, getattr(a, "dtype", None), getattr(a, "shape", (0,))[1:])
            for name, a in outputs.items()
        ]
    )


def _as_batch(entry: Entry) -> PredictionBatch:
    if isinstance(entry, tuple):
        return PredictionBatch.scored(entry)
    return PredictionBatch.of(entry) if isinstance(entry, PredictionRecord) else entry
