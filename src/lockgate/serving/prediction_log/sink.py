"""The port every prediction sink implements: where the logger delivers tables of predictions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import pyarrow as pa  # pyarrow ships no type information

__all__ = ["PredictionSink"]


class PredictionSink(Protocol):
    """Durable storage for predictions (Parquet files, a SQL table, a stream).

    The logger hands a sink Arrow tables, one row per prediction, each of one model version
    and in the prediction log's schema (`batches_to_tables`; docs/reference/prediction-log.md).

    The logger calls a sink from one thread at a time, never from the request path, so a sink
    need not be thread-safe, and it may block or raise: a call that raises or outlasts the
    logger's deadline sends the records to the spill directory to be tried again later.
    """

    def write(self, tables: Sequence[pa.Table]) -> None:
        """Store the tables. When this returns their rows must survive a crash of the process;
        the logger then forgets them. Writing a row twice must be harmless (ids are unique).
        """

    def tick(self) -> None:
        """Called about every flush interval while the logger is idle, for time-based work such
        as rotating a file that has been open too long."""

    def close(self) -> None:
        """Finish: make everything written visible to readers and release resources."""
