"""The prediction logger: `log()` and `log_batch()` hand predictions over in O(1) and never
wait; a worker thread turns them into tables and delivers those to the sink, through the spill
directory when the sink is slow, failing or behind."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import pyarrow as pa  # pyarrow ships no type information

from lockgate.serving.prediction_log.record import PredictionBatch, PredictionRecord, Scored
from lockgate.serving.prediction_log.sink import PredictionSink
from lockgate.serving.prediction_log.spill import SpillStore
from lockgate.serving.prediction_log.worker import (
    Buffer,
    Counters,
    DeliveryPolicy,
    Entry,
    Worker,
    entry_id,
    entry_size,
)

__all__ = ["PredictionLogStats", "PredictionLogger"]

log = logging.getLogger("lockgate.serving.prediction_log")

_DROP_LOG_INTERVAL = 10.0  # seconds between two error messages about dropped records
_STAGE_SIZE = 512  # predictions the worker turns into tables at a time, between sink calls


@dataclass(frozen=True, slots=True)
class PredictionLogStats:
    """A snapshot of a logger's counters (since it was made) and gauges (now)."""

    queued: int
    """Predictions `log()` and `log_batch()` accepted."""
    written: int
    """Predictions the sink took, straight from memory or replayed from the spill directory."""
    spilled: int
    """Predictions written to the spill directory."""
    replayed: int
    """Predictions the sink took from the spill directory (left by this process or an earlier
    one)."""
    dropped: int
    """Predictions lost: the spill disk failed, memory was full, or logged after `close()`."""
    in_memory: int
    """Predictions waiting in memory now."""
    spill_segments: int
    """Segment files in the spill directory now."""
    spill_bytes: int
    """Their size in bytes."""
    sink_errors: int
    """Sink calls that raised."""
    sink_stalls: int
    """Sink calls that outlasted `write_timeout`."""


class PredictionLogger:
    """Delivers predictions to a sink off the request path, losing none.

    `log()` and `log_batch()` never block and never raise: callable from the event loop or any
    thread. A worker thread turns what was logged into Arrow tables and sends about
    `batch_size` predictions to the sink at least every `flush_interval` seconds. They go to
    append-only segment files in `spill_directory` (fsynced) instead when the queue holds
    `queue_size` predictions, when the sink raises (then
    calls are retried with exponential backoff from `retry_initial` to `retry_max` seconds),
    or when a call takes longer than `write_timeout` seconds. Spilled records are replayed
    oldest first once the sink works, including those a crashed process left. Delivery is at
    least once; copies are rare (docs/reference/prediction-log.md says when) and
    `prediction_id` tells them apart.

    Records in memory are lost if the process is killed before `close()`; `overflow_limit`
    bounds them while the disk catches up. Records logged before `start()` wait in memory.
    The logger owns the sink and closes it. One logger per spill directory: a second one is
    refused (`ConflictError` from `start()`).
    """

    def __init__(
        self,
        sink: PredictionSink,
        *,
        spill_directory: Path | str,
        queue_size: int = 10_000,
        batch_size: int = 5_000,
        flush_interval: float = 1.0,
        write_timeout: float = 5.0,
        overflow_limit: int = 100_000,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
        spill_segment_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        sizes = (queue_size, batch_size, overflow_limit, spill_segment_bytes)
        times = (flush_interval, write_timeout, retry_initial, retry_max)
        if min(sizes) < 1 or min(times) <= 0:
            raise ValueError("the prediction logger's sizes and intervals must be positive")
        self._counters = Counters()
        stage_size = min(batch_size, _STAGE_SIZE)
        self._buffer = Buffer(
            queue_size=queue_size, overflow_limit=overflow_limit, wake_size=stage_size
        )
        self._spill = SpillStore(Path(spill_directory), segment_bytes=spill_segment_bytes)
        policy = DeliveryPolicy(
            batch_size=batch_size,
            stage_size=stage_size,
            queue_size=queue_size,
            flush_interval=flush_interval,
            write_timeout=write_timeout,
            retry_initial=retry_initial,
            retry_max=max(retry_initial, retry_max),
        )
        self._worker = Worker(sink, self._spill, self._buffer, policy, self._counters)
        self._state_lock = threading.Lock()
        self._started = False
        self._closed = False
        self._next_drop_log = 0.0

    def start(self) -> None:
        """Take the spill directory and start the worker; leftover segments get replayed.

        Raises:
            ConflictError: another logger uses the spill directory.
            OSError: the spill directory cannot be created or read.
        """
        with self._state_lock:
            if self._started or self._closed:
                raise RuntimeError("a prediction logger starts once")
            self._spill.open()
            # pyarrow imports pandas (when installed) on its first conversion, which takes a
            # second or more: here, rather than on the worker under the first requests.
            pa.array([0])
            self._worker.start()
            self._started = True

    def log(self, record: PredictionRecord) -> None:
        """Hand one prediction over for delivery; O(1), never waits, never raises."""
        if not self._buffer.put(record, 1):
            self._drop(record)

    def log_batch(self, batch: PredictionBatch) -> None:
        """Hand a batch of predictions over for delivery; O(1), never waits, never raises."""
        if not self._buffer.put(batch, len(batch.prediction_ids)):
            self._drop(batch)

    def log_scored(self, scored: Scored) -> None:
        """Hand a batch over as the inference server has it (a `Scored` tuple); it is checked
        and made a `PredictionBatch` on the worker (one that is not valid is counted as
        dropped there). O(1), never waits, never raises."""
        if not self._buffer.put(scored, len(scored[4])):
            self._drop(scored)

    def stats(self) -> PredictionLogStats:
        """The counters and gauges now."""
        counters = self._counters
        in_memory = len(self._buffer) + counters.staged
        return PredictionLogStats(
            queued=self._buffer.accepted,
            written=counters.written,
            spilled=counters.spilled,
            replayed=counters.replayed,
            dropped=counters.dropped,
            in_memory=in_memory,
            spill_segments=self._spill.segment_count,
            spill_bytes=self._spill.byte_count,
            sink_errors=counters.sink_errors,
            sink_stalls=counters.sink_stalls,
        )

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what can be delivered within `timeout` seconds, spill the rest, close the sink.

        Blocks: from async code call it as `await asyncio.to_thread(logger.close)`. Closing the
        sink may take up to `write_timeout` more, and writing the rest to disk a moment more.
        """
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
            self._buffer.closed = True
            started = self._started
        if started and not self._worker.close(timeout):
            log.error("the prediction log worker did not finish; unsent records stay on disk")
        if left := self._buffer.clear():
            # Logged after the worker's last sweep, or the logger never started.
            total = self._counters.drop(left)
            log.error("%d predictions logged after close were lost (%d in all)", left, total)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _drop(self, entry: Entry) -> None:
        total = self._counters.drop(entry_size(entry))
        now = time.monotonic()
        if now >= self._next_drop_log:
            self._next_drop_log = now + _DROP_LOG_INTERVAL
            reason = (
                "the logger is closed"
                if self._buffer.closed
                else "the queue and its overflow are full (the spill disk is not keeping up)"
            )
            log.error("prediction %s lost: %s (%d lost in all)", entry_id(entry), reason, total)
