"""The port every prediction sink implements: where the logger delivers batches of records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from lockgate.serving.prediction_log.record import PredictionRecord

__all__ = ["PredictionSink"]


class PredictionSink(Protocol):
    """Durable storage for prediction records (Parquet files, a SQL table, a stream).

    The logger calls a sink from one thread at a time, never from the request path, so a sink
    need not be thread-safe, and it may block or raise: a call that raises or outlasts the
    logger's deadline sends the records to the spill directory to be tried again later.
    """

    def write(self, records: Sequence[PredictionRecord]) -> None:
        """Store a batch. When this returns the records must survive a crash of the process;
        the logger then forgets them. Writing a record twice must be harmless (ids are unique).
        """

    def tick(self) -> None:
        """Called about every flush interval while the logger is idle, for time-based work such
        as rotating a file that has been open too long."""

    def close(self) -> None:
        """Finish: make everything written visible to readers and release resources."""
