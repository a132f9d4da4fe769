"""The default prediction sink: Parquet files, a directory per model version, rotated by size
and age.

Each model version's predictions go to `<directory>/<model>/v<version>/`, since their input
and output columns are the model's own. The open file is `.<stem>.parquet.tmp`; a rotation
completes it, fsyncs it and renames it to `<stem>.parquet`, so readers only ever see complete
files. Each table is first appended to a journal `.<stem>.parquet.journal` (Arrow IPC stream,
fsynced once per `write`), so a `write` that returned is durable before its file is complete;
the next sink on the directory turns a journal left by a crashed process into its Parquet file.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import pyarrow as pa  # pyarrow ships no type information
import pyarrow.parquet as pq  # as above

from lockgate.domain.identity import Clock, SystemClock
from lockgate.serving.prediction_log.durability import fsync_directory
from lockgate.serving.prediction_log.schema import table_model

__all__ = ["ParquetSink"]

log = logging.getLogger("lockgate.serving.prediction_log")

_PREFIX = "predictions-"
_JOURNAL = ".parquet.journal"
# The journal's writes go through a buffer: Arrow's IPC writer writes each of a table's buffers
# (three or so per column) with a call of its own, a system call each on an unbuffered file.
_JOURNAL_BUFFER = 1024 * 1024

_Key = tuple[str, int, pa.DataType]
"""An open file's model, version and input type."""


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

    directory: Path
    stem: str
    schema: pa.Schema
    opened_at: datetime
    data: BinaryIO
    """The `.tmp` file, held for its descriptor (fsync); the writer writes through `data_out`."""
    data_out: pa.NativeFile
    writer: pq.ParquetWriter
    journal: BinaryIO
    journal_file: pa.NativeFile
    """The journal as pyarrow writes it: `journal_out` buffers for it."""
    journal_out: pa.NativeFile
    journal_writer: pa.ipc.RecordBatchStreamWriter
    pending: list[pa.Table] = field(default_factory=list)
    """Tables journaled but not yet in the Parquet file: they become one row group."""
    pending_rows: int = 0
    pending_bytes: int = 0

    def sync_journal(self) -> None:
        """Make what was journaled durable."""
        self.journal_out.flush()
        os.fsync(self.journal.fileno())

    def flush(self) -> None:
        """Write the pending tables as one row group."""
        if self.pending:
            self.writer.write_table(pa.concat_tables(self.pending))
            self.pending.clear()
            self.pending_rows = self.pending_bytes = 0


class ParquetSink:
    """Appends tables to their model version's open Parquet file; rotates by size or age.

    Each table is journaled at once (each journal a call touched is fsynced before it
    returns); the file gets them as row groups of about `row_group_rows` rows, and the rest
    when it is completed. A model's directory is its name,
    percent-encoded (and a leading dot too), so any name is one safe path segment. Files are
    named `predictions-<UTC time opened>-<writer>-<seq>.parquet` (time as
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
        row_group_rows: int = 65_536,
        compression: str = "snappy",
        clock: Clock | None = None,
    ) -> None:
        if rotate_bytes < 1 or rotate_seconds <= 0 or row_group_rows < 1:
            raise ValueError("rotate_bytes, rotate_seconds and row_group_rows must be positive")
        self._row_group_rows = row_group_rows
        self.directory = Path(directory)
        self._rotate_bytes = rotate_bytes
        self._max_age = timedelta(seconds=rotate_seconds)
        self._compression = compression
        self._clock = clock or SystemClock()
        self._writer_token = secrets.token_hex(4)
        self._seq = 0
        self._open_files: dict[_Key, _OpenFile] = {}
        self._recovered = False

    def write(self, tables: Sequence[pa.Table]) -> None:
        """Append the tables; durable (journaled and fsynced) when this returns."""
        self._recover_once()
        journaled: dict[_Key, _OpenFile] = {}
        for table in tables:
            if table.num_rows:
                key, current = self._write(table)
                journaled[key] = current
        # Once per journal and call, not per table: a call brings several tables.
        for key, current in journaled.items():
            if self._open_files.get(key) is current:  # not completed since (that synced it)
                try:
                    current.sync_journal()
                except BaseException:
                    self._abandon(key)
                    raise

    def tick(self) -> None:
        """Rotate the open files that have been open for `rotate_seconds`."""
        self._recover_once()
        for key, current in list(self._open_files.items()):
            if self._age(current) >= self._max_age:
                self._commit(key)

    def close(self) -> None:
        """Complete the open files. The sink can be used again afterwards."""
        self._recover_once()
        for key in list(self._open_files):
            self._commit(key)

    def _write(self, table: pa.Table) -> tuple[_Key, _OpenFile]:
        """Journal a table (not yet synced) and hold it for the file's next row group."""
        model, version = table_model(table)
        key = (model, version, table.schema.field("inputs").type)
        current = self._open_files.get(key)
        if current is not None:
            table = _conform(table, current.schema)
            if table.schema != current.schema or self._is_due(current):
                self._commit(key)  # outputs of another type, or time for a new file
                current = None
        if current is None:
            current = self._open(key, table.schema)
        try:
            current.journal_writer.write_table(table)
            # A row group per call would cost a fixed price per column each time: tables wait
            # in memory (they are in the journal) until they make a row group worth writing.
            current.pending.append(table)
            current.pending_rows += table.num_rows
            current.pending_bytes += table.nbytes
            if current.pending_rows >= self._row_group_rows:
                current.flush()
        except BaseException:
            self._abandon(key)
            raise
        return key, current

    def _age(self, current: _OpenFile) -> timedelta:
        return self._clock.now() - current.opened_at

    def _is_due(self, current: _OpenFile) -> bool:
        size = current.data_out.tell() + current.pending_bytes  # in memory: uncompressed, a bound
        return size >= self._rotate_bytes or self._age(current) >= self._max_age

    def _open(self, key: _Key, schema: pa.Schema) -> _OpenFile:
        model, version, _ = key
        directory = self.directory / _model_directory(model) / f"v{version}"
        _make_directories(directory)
        opened_at = self._clock.now()
        self._seq += 1
        stem = f"{_PREFIX}{opened_at:%Y%m%dT%H%M%S%fZ}-{self._writer_token}-{self._seq:06d}"
        # The journal comes first and stays locked while open: recovery skips locked journals.
        _, tmp, journal_path = _paths(directory, stem)
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(self._forget_recovery)
            journal = cleanup.enter_context(journal_path.open("xb"))
            fcntl.flock(journal.fileno(), fcntl.LOCK_EX)
            data = cleanup.enter_context(tmp.open("xb"))
            # pyarrow writes to its own file objects without calling back into Python for
            # each page: through a Python file the Parquet write took twice as long.
            journal_file = cleanup.enter_context(pa.OSFile(str(journal_path), "ab"))
            journal_out = pa.BufferedOutputStream(journal_file, _JOURNAL_BUFFER)
            data_out = cleanup.enter_context(pa.OSFile(str(tmp), "ab"))
            fsync_directory(directory)
            current = _OpenFile(
                directory=directory,
                stem=stem,
                schema=schema,
                opened_at=opened_at,
                data=data,
                data_out=data_out,
                writer=pq.ParquetWriter(data_out, schema, **_options(self._compression)),
                journal=journal,
                journal_file=journal_file,
                journal_out=journal_out,
                journal_writer=pa.ipc.new_stream(journal_out, schema),
            )
            cleanup.pop_all()
        self._open_files[key] = current
        return current

    def _commit(self, key: _Key) -> None:
        current = self._open_files.pop(key, None)
        if current is None:
            return
        try:
            current.flush()
            current.writer.close()
            current.data_out.close()
            os.fsync(current.data.fileno())
            current.data.close()
            done, tmp, journal = _paths(current.directory, current.stem)
            tmp.rename(done)
            fsync_directory(current.directory)
            journal.unlink()
        except BaseException:
            self._forget_recovery()  # the journal stays and the next call recovers it
            raise
        finally:
            _release(current)

    def _abandon(self, key: _Key) -> None:
        """Give up an open file after a failed write; recovery rebuilds it from its journal."""
        current = self._open_files.pop(key, None)
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
        for journal in sorted(self.directory.rglob(f".{_PREFIX}*{_JOURNAL}")):
            try:
                _recover(journal, self._compression)
            except OSError:
                # Left in place for the next sink; new predictions must not wait for it.
                log.exception("cannot recover the prediction journal %s", journal)


# Dictionaries and min/max statistics only where they pay: a dictionary for the few distinct
# texts of these columns, statistics for skipping row groups by time, id or version. For the
# model's inputs and outputs both cost more time than the rest of the write (the values are
# mostly distinct) and buy little.
_DICTIONARY = ["model", "status", "error"]
_STATISTICS = ["prediction_id", "timestamp", "model", "version", "latency_ms", "status"]


def _options(compression: str) -> dict[str, object]:
    return {
        "compression": compression,
        "use_dictionary": _DICTIONARY,
        "write_statistics": _STATISTICS,
    }


def _model_directory(model: str) -> str:
    """A model's name as one path segment: percent-encoded, and never hidden or `.`/`..`."""
    name = quote(model, safe="")
    return "%2E" + name[1:] if name.startswith(".") else name


def _make_directories(directory: Path) -> None:
    """Create a model version's directory; fsync each new level's parent, so it survives."""
    missing = []
    level = directory
    while not level.is_dir():
        missing.append(level)
        level = level.parent
    for new in reversed(missing):
        new.mkdir(exist_ok=True)
        fsync_directory(new.parent)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A table of failed predictions only (its outputs are of the null type) cast to the open
    file's schema, so it joins that file; any other table is returned as it is."""
    if table.schema == schema or not pa.types.is_null(table.schema.field("outputs").type):
        return table
    outputs = schema.field("outputs")
    if not outputs.nullable:
        return table
    index = table.schema.get_field_index("outputs")
    return table.set_column(index, outputs, pa.nulls(table.num_rows, outputs.type))


def _release(current: _OpenFile) -> None:
    """Close the writers and files of an open file, whatever state a failure left them in
    (closing twice is harmless), so that nothing tries again when they are collected."""
    closers = (current.writer.close, current.journal_writer.close)
    natives = (current.data_out.close, current.journal_out.close, current.journal_file.close)
    for close in (*closers, *natives, current.data.close, current.journal.close):
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
                    pq.write_table(table, data, **_options(compression))
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
    schema = pa.schema([])
    with contextlib.suppress(pa.ArrowInvalid, OSError):
        reader = pa.ipc.open_stream(handle)
        schema = reader.schema
        for batch in reader:
            batches.append(batch)
    return pa.Table.from_batches(batches, schema=schema)
