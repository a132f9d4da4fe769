"""The default prediction sink: Parquet files in one directory, rotated by size and age.

The open file is `.<stem>.parquet.tmp`; a rotation completes it, fsyncs it and renames it to
`<stem>.parquet`, so readers only ever see complete files. Each batch is first appended to a
journal `.<stem>.parquet.journal` (Arrow IPC stream, fsynced), so a `write` that returned is
durable before its file is complete; the next sink on the directory turns a journal left by
a crashed process into its Parquet file.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa  # pyarrow ships no type information
import pyarrow.parquet as pq  # as above

from lockgate.domain.identity import Clock, SystemClock
from lockgate.serving.prediction_log.durability import fsync_directory
from lockgate.serving.prediction_log.record import PredictionRecord
from lockgate.serving.prediction_log.schema import PREDICTION_SCHEMA, records_to_table

__all__ = ["ParquetSink"]

log = logging.getLogger("lockgate.serving.prediction_log")

_PREFIX = "predictions-"
_JOURNAL = ".parquet.journal"


def _paths(directory: Path, stem: str) -> tuple[Path, Path, Path]:
    """The complete file, and the open file and its journal: hidden (a leading dot), so dataset
    readers such as pyarrow's and Spark's skip them when they read the whole directory."""
    return (
        directory / f"{stem}.parquet",
        directory / f".{stem}.parquet.tmp",
        directory / f".{stem}{_JOURNAL}",
    )


@dataclass(slots=True)
class _OpenFile:
    """The file being written: the Parquet writer over `.tmp` and the journal beside it."""

    stem: str
    opened_at: datetime
    data: BinaryIO
    writer: pq.ParquetWriter
    journal: BinaryIO
    journal_writer: pa.ipc.RecordBatchStreamWriter


class ParquetSink:
    """Appends each batch as a row group to the open Parquet file; rotates by size or age.

    Files are named `predictions-<UTC time opened>-<writer>-<seq>.parquet` (time as
    `20261124T120000123456Z`, writer a random token per sink so processes can share the
    directory, seq counting from 000001), so they sort by time. A file is rotated before a
    write once it holds `rotate_bytes` or has been open `rotate_seconds`, and on `tick` once
    it is old enough. The constructor does no I/O; the first call creates the directory and
    recovers what a crashed process left.
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        rotate_bytes: int = 64 * 1024 * 1024,
        rotate_seconds: float = 300.0,
        compression: str = "zstd",
        clock: Clock | None = None,
    ) -> None:
        if rotate_bytes < 1 or rotate_seconds <= 0:
            raise ValueError("rotate_bytes and rotate_seconds must be positive")
        self.directory = Path(directory)
        self._rotate_bytes = rotate_bytes
        self._max_age = timedelta(seconds=rotate_seconds)
        self._compression = compression
        self._clock = clock or SystemClock()
        self._writer_token = secrets.token_hex(4)
        self._seq = 0
        self._current: _OpenFile | None = None
        self._recovered = False

    def write(self, records: Sequence[PredictionRecord]) -> None:
        """Append the batch; durable (journaled and fsynced) when this returns."""
        self._recover_once()
        if not records:
            return
        table = records_to_table(records)
        if self._current is not None and self._is_due(self._current):
            self._commit()
        current = self._current or self._open()
        try:
            current.journal_writer.write_table(table)
            current.journal.flush()
            os.fsync(current.journal.fileno())
            current.writer.write_table(table)
        except BaseException:
            self._abandon()
            raise

    def tick(self) -> None:
        """Rotate the open file when it has been open for `rotate_seconds`."""
        self._recover_once()
        if self._current is not None and self._age(self._current) >= self._max_age:
            self._commit()

    def close(self) -> None:
        """Complete the open file, if any. The sink can be used again afterwards."""
        self._recover_once()
        if self._current is not None:
            self._commit()

    def _age(self, current: _OpenFile) -> timedelta:
        return self._clock.now() - current.opened_at

    def _is_due(self, current: _OpenFile) -> bool:
        return current.data.tell() >= self._rotate_bytes or self._age(current) >= self._max_age

    def _open(self) -> _OpenFile:
        self.directory.mkdir(parents=True, exist_ok=True)
        opened_at = self._clock.now()
        self._seq += 1
        stem = f"{_PREFIX}{opened_at:%Y%m%dT%H%M%S%fZ}-{self._writer_token}-{self._seq:06d}"
        # The journal comes first and stays locked while open: recovery skips locked journals.
        _, tmp, journal_path = _paths(self.directory, stem)
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(self._forget_recovery)
            journal = cleanup.enter_context(journal_path.open("xb"))
            fcntl.flock(journal.fileno(), fcntl.LOCK_EX)
            data = cleanup.enter_context(tmp.open("xb"))
            fsync_directory(self.directory)
            current = _OpenFile(
                stem=stem,
                opened_at=opened_at,
                data=data,
                writer=pq.ParquetWriter(data, PREDICTION_SCHEMA, compression=self._compression),
                journal=journal,
                journal_writer=pa.ipc.new_stream(journal, PREDICTION_SCHEMA),
            )
            cleanup.pop_all()
        self._current = current
        return current

    def _commit(self) -> None:
        current, self._current = self._current, None
        if current is None:
            return
        try:
            current.writer.close()
            current.data.flush()
            os.fsync(current.data.fileno())
            current.data.close()
            done, tmp, journal = _paths(self.directory, current.stem)
            tmp.rename(done)
            fsync_directory(self.directory)
            journal.unlink()
        except BaseException:
            self._forget_recovery()  # the journal stays and the next call recovers it
            raise
        finally:
            _release(current)

    def _abandon(self) -> None:
        """Give up the open file after a failed write; recovery rebuilds it from its journal."""
        current, self._current = self._current, None
        if current is not None:
            _release(current)
            self._forget_recovery()

    def _forget_recovery(self) -> None:
        """Look for journals to recover again on the next call (one may be ours)."""
        self._recovered = False

    def _recover_once(self) -> None:
        if self._recovered:
            return
        self._recovered = True
        if not self.directory.is_dir():
            return
        for journal in sorted(self.directory.glob(f".{_PREFIX}*{_JOURNAL}")):
            try:
                _recover(journal, self._compression)
            except OSError:
                # Left in place for the next sink; new predictions must not wait for it.
                log.exception("cannot recover the prediction journal %s", journal)


def _release(current: _OpenFile) -> None:
    """Close the writers and files of an open file, whatever state a failure left them in
    (closing twice is harmless), so that nothing tries again when they are collected."""
    closers = (current.writer.close, current.journal_writer.close)
    for close in (*closers, current.data.close, current.journal.close):
        with contextlib.suppress(OSError, ValueError, pa.ArrowException):
            close()


def _recover(journal: Path, compression: str) -> None:
    """Turn a dead writer's journal into its Parquet file (unless it got that far) and delete
    the journal and the half-written `.tmp`. A journal another writer holds is left alone."""
    done, tmp, _ = _paths(journal.parent, journal.name[1:].removesuffix(_JOURNAL))
    with journal.open("rb") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # a live writer's
        if not done.exists():
            table = _read_journal(handle)
            if table.num_rows:
                with tmp.open("wb") as data:
                    pq.write_table(table, data, compression=compression)
                    data.flush()
                    os.fsync(data.fileno())
                tmp.rename(done)
                fsync_directory(journal.parent)
                log.info("recovered %d predictions from %s", table.num_rows, journal.name)
        tmp.unlink(missing_ok=True)
        journal.unlink()


def _read_journal(handle: BinaryIO) -> pa.Table:
    """Every complete batch of a journal; a batch torn by a crash was never acknowledged."""
    batches = []
    schema = PREDICTION_SCHEMA
    with contextlib.suppress(pa.ArrowInvalid, OSError):
        reader = pa.ipc.open_stream(handle)
        schema = reader.schema
        for batch in reader:
            batches.append(batch)
    return pa.Table.from_batches(batches, schema=schema)
