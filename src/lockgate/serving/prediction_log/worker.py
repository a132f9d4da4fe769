"""The logger's worker thread: drains the in-memory queue to the sink in batches, spills what the
sink cannot take in time, and replays spilled segments, oldest first, once the sink works."""

from __future__ import annotations

import enum
import logging
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from lockgate.serving.prediction_log.record import PredictionRecord
from lockgate.serving.prediction_log.runner import SinkCall, SinkRunner
from lockgate.serving.prediction_log.sink import PredictionSink
from lockgate.serving.prediction_log.spill import SpillStore

__all__ = ["Buffer", "Counters", "DeliveryPolicy", "Worker"]

log = logging.getLogger("lockgate.serving.prediction_log")

_MIN_WAIT = 0.001  # seconds; the worker never spins
_SPILL_GRACE = 5.0  # seconds close() waits past its deadline for the last records to hit disk


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How the worker batches, how long it waits for the sink, and how it backs off."""

    batch_size: int
    flush_interval: float
    write_timeout: float
    retry_initial: float
    retry_max: float


@dataclass(slots=True)
class Counters:
    """Monotonic counts; only the worker writes them, except `dropped` (under `lock`)."""

    taken: int = 0
    written: int = 0
    spilled: int = 0
    replayed: int = 0
    dropped: int = 0
    sink_errors: int = 0
    sink_stalls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def drop(self, count: int) -> int:
        """Count lost records; the new total."""
        with self.lock:
            self.dropped += count
            return self.dropped


class Buffer:
    """The records `log()` accepted and the worker has not taken yet: the bounded queue, and the
    overflow that the worker spills to disk at once when the queue is full."""

    def __init__(self, *, queue_size: int, overflow_limit: int, batch_size: int) -> None:
        self.queue: deque[PredictionRecord] = deque()
        self.overflow: deque[PredictionRecord] = deque()
        self.wake = threading.Event()
        self.closed = False  # set by close() and when the worker ends: put() refuses then
        self._queue_size = queue_size
        self._overflow_limit = overflow_limit
        self._batch_size = batch_size

    def __len__(self) -> int:
        return len(self.queue) + len(self.overflow)

    def put(self, record: PredictionRecord) -> bool:
        """Accept a record in O(1) without blocking; False when closed or even the overflow is
        full."""
        if self.closed:
            return False
        if len(self.queue) < self._queue_size:
            self.queue.append(record)
            # Once per full batch, not per record: a busy sink must not make the worker spin.
            if len(self.queue) % self._batch_size == 0:
                self.wake.set()
            return True
        if len(self.overflow) < self._overflow_limit:
            self.overflow.append(record)
            if not self.wake.is_set():
                self.wake.set()
            return True
        return False


class _Source(enum.Enum):
    MEMORY = "memory"  # a batch from the queue
    SPILL = "spill"  # a chunk of a spilled segment
    TICK = "tick"  # no records: the sink's periodic tick


@dataclass(slots=True)
class _Delivery:
    """The one sink call in progress."""

    call: SinkCall
    source: _Source
    records: list[PredictionRecord]
    deadline: float
    segment: Path | None = None  # where a stalled MEMORY batch was spilled
    stalled: bool = False


@dataclass(slots=True)
class _Replay:
    """The spilled segment being replayed, and how many of its records reached the sink."""

    segment: Path
    records: list[PredictionRecord]
    offset: int = 0


def _pop(records: deque[PredictionRecord], count: int) -> list[PredictionRecord]:
    return [records.popleft() for _ in range(min(count, len(records)))]


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
            overflow = self._buffer.overflow
            self._spill_records(self._take(overflow, len(overflow)))
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
        if self._buffer or self._inflight is not None:
            return False
        return self._spill.segment_count == 0 or self._retry_at >= self._close_by

    def _wait_time(self, now: float) -> float:
        until = now + self._policy.flush_interval
        inflight = self._inflight
        if inflight is not None and not inflight.stalled:
            until = min(until, inflight.deadline)  # or sooner: a finished call wakes the worker
        elif self._buffer.queue:
            until = min(until, self._next_flush)
        if self._retry_at > now:
            until = min(until, self._retry_at)
        if self._close_by is not None:
            until = min(until, self._close_by)
        return max(until - now, _MIN_WAIT)

    # The queue ---------------------------------------------------------------------------

    def _drain_queue(self, now: float) -> None:
        queue = self._buffer.queue
        if not queue:
            self._next_flush = now + self._policy.flush_interval
            return
        closing = self._close_by is not None
        if len(queue) < self._policy.batch_size and now < self._next_flush and not closing:
            return
        if self._can_submit(now):
            self._submit(_Source.MEMORY, self._take(queue, self._policy.batch_size), now)
        elif self._is_sink_unavailable(now):
            self._spill_records(self._take(queue, len(queue)))
        else:
            return  # the sink is busy but not late: the queue waits for it
        self._next_flush = now + self._policy.flush_interval

    def _take(self, records: deque[PredictionRecord], count: int) -> list[PredictionRecord]:
        taken = _pop(records, count)
        self._counters.taken += len(taken)
        return taken

    # Sink calls --------------------------------------------------------------------------

    def _can_submit(self, now: float) -> bool:
        return self._inflight is None and now >= self._retry_at

    def _is_sink_unavailable(self, now: float) -> bool:
        if self._inflight is not None:
            return self._inflight.stalled
        return now < self._retry_at

    def _submit(self, source: _Source, records: list[PredictionRecord], now: float) -> None:
        action = self._sink.tick if source is _Source.TICK else partial(self._sink.write, records)
        call = self._runner.submit(action)
        self._inflight = _Delivery(call, source, records, now + self._policy.write_timeout)
        self._backlog_first = source is _Source.MEMORY

    def _submit_backlog(self, now: float, *, tick: bool) -> None:
        replay = self._replay or self._load_replay()
        if replay is not None:
            chunk = replay.records[replay.offset : replay.offset + self._policy.batch_size]
            self._submit(_Source.SPILL, chunk, now)
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
        count = len(delivery.records)
        self._counters.written += count
        if delivery.source is _Source.MEMORY and delivery.segment is not None:
            self._delete(delivery.segment)  # the copy spilled while the call was late
        elif delivery.source is _Source.SPILL and self._replay is not None:
            self._counters.replayed += count
            self._replay.offset += count
            if self._replay.offset >= len(self._replay.records):
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
            self._spill_records(delivery.records)

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
            delivery.segment = self._spill.append_segment(delivery.records)
        except OSError:
            # Still in memory with the call: spilled again (or counted lost) if it fails.
            log.exception("cannot spill the batch of a late sink call")
            return
        self._counters.spilled += len(delivery.records)

    # The spill directory -----------------------------------------------------------------

    def _spill_records(self, records: list[PredictionRecord]) -> None:
        if not records:
            return
        try:
            self._spill.append(records)
        except OSError:
            self._spill_failed(len(records))
            return
        self._counters.spilled += len(records)
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
                records, corrupt = self._spill.read(segment)
            except OSError:
                log.exception("cannot read the spill segment %s; setting it aside", segment)
                self._spill.set_aside(segment)
                continue
            if corrupt:
                self._counters.drop(corrupt)
                log.error("%d unreadable records in the spill segment %s", corrupt, segment)
            if records:
                self._replay = _Replay(segment, records)
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
        for records in (self._buffer.overflow, self._buffer.queue):
            self._spill_records(self._take(records, len(records)))
        delivery = self._inflight
        if delivery is None:
            self._close_sink()
        else:
            if delivery.source is _Source.MEMORY and delivery.segment is None:
                self._spill_records(delivery.records)
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
