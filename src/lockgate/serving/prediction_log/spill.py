"""The spill directory: append-only segment files holding predictions the sink has not taken.

A segment `segment-<seq>.arrows` is a header line and then one frame per table: its length,
row count and CRC-32, then the table as an Arrow IPC stream. Every append is fsynced. One
process owns the directory at a time (an flock on `.lock`), segments are replayed oldest
first, and one is deleted only after all its predictions reached the sink. Segments of the
first format (`segment-<seq>.jsonl`, a JSON object per record) are still read.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import struct
import zlib
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa  # pyarrow ships no type information

from lockgate.domain.errors import ConflictError
from lockgate.domain.identity import from_micros
from lockgate.serving.prediction_log.durability import fsync_directory
from lockgate.serving.prediction_log.record import (
    PredictionBatch,
    PredictionRecord,
    PredictionStatus,
)
from lockgate.serving.prediction_log.schema import batches_to_tables

__all__ = ["SPILL_FORMAT", "SpillStore"]

log = logging.getLogger("lockgate.serving.prediction_log")

SPILL_FORMAT = "lockgate.prediction-spill/2"
_HEADER = json.dumps({"format": SPILL_FORMAT}).encode() + b"\n"
_PREFIX = "segment-"
_SUFFIX = ".arrows"
_SEGMENT = re.compile(r"segment-\d{20}\.(arrows|jsonl)")
_FRAME = struct.Struct("<QQI")  # the IPC stream's length, the table's rows, their CRC-32
_V1_FORMAT = "lockgate.prediction-spill/1"
_V1_HEADER = json.dumps({"format": _V1_FORMAT}).encode() + b"\n"


class SpillStore:
    """Segments in one local directory. Not thread-safe: the logger's worker alone uses it."""

    def __init__(self, directory: Path, *, segment_bytes: int = 16 * 1024 * 1024) -> None:
        self.directory = directory
        self._segment_bytes = segment_bytes
        self._lock: BinaryIO | None = None
        self._sealed: deque[Path] = deque()
        self._sizes: dict[Path, int] = {}
        self._bytes = 0  # the sum of _sizes, kept so another thread can read it safely
        self._current: BinaryIO | None = None
        self._current_path: Path | None = None
        self._next_seq = 1

    @property
    def segment_count(self) -> int:
        """Segments on disk, the open one included."""
        return len(self._sizes)

    @property
    def byte_count(self) -> int:
        """Bytes of all segments on disk."""
        return self._bytes

    def open(self) -> None:
        """Take the directory and find the segments a previous process left.

        Raises:
            ConflictError: another logger (in this or another process) uses the directory.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = (self.directory / ".lock").open("ab")
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise ConflictError(
                f"the spill directory {self.directory} is in use by another prediction logger"
            ) from None
        try:
            found = sorted(
                (path for path in self.directory.iterdir() if _SEGMENT.fullmatch(path.name)),
                key=_seq,
            )
            sizes = {path: path.stat().st_size for path in found}
        except BaseException:
            lock.close()
            raise
        self._lock = lock
        self._sealed.extend(found)
        self._sizes.update(sizes)
        self._bytes = sum(sizes.values())
        self._next_seq = _seq(found[-1]) + 1 if found else 1
        if found:
            log.info("found %d spilled prediction segments to replay", len(found))

    def append(self, tables: Sequence[pa.Table]) -> None:
        """Append tables to the open segment and fsync; seal it once it is large enough."""
        path = self._append(tables)
        if self._sizes[path] >= self._segment_bytes:
            self.seal()

    def append_segment(self, tables: Sequence[pa.Table]) -> Path:
        """Write tables as a segment of their own (sealed), so it can be discarded alone."""
        self.seal()
        path = self._append(tables)
        self.seal()
        return path

    def seal(self) -> None:
        """Close the open segment; it becomes the newest one to replay."""
        current, path = self._current, self._current_path
        self._current = self._current_path = None
        if current is not None and path is not None:
            self._sealed.append(path)
            current.close()

    def _append(self, tables: Sequence[pa.Table]) -> Path:
        if self._current is None or self._current_path is None:
            self._current_path, self._current = self._create()
        path, handle = self._current_path, self._current
        data = b"".join(_frame(table) for table in tables)
        try:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        except BaseException:
            self.seal()  # a torn tail stays the last line of its segment
            raise
        self._sizes[path] += len(data)
        self._bytes += len(data)
        return path

    def oldest(self) -> Path | None:
        """The oldest segment to replay, sealing the open one when it is all that is left."""
        if not self._sealed:
            self.seal()
        return self._sealed[0] if self._sealed else None

    def read(self, path: Path) -> tuple[list[pa.Table], int]:
        """A segment's tables and how many of its predictions were unreadable.

        A last frame cut short (or a last line without its newline, in the first format) was
        torn by a crash before the append returned, so it was never acknowledged: it is
        ignored, not counted.

        Raises:
            OSError: the file cannot be read, or its header is not a known format's.
        """
        data = path.read_bytes()
        end = data.find(b"\n")
        if end < 0:
            return [], 0  # created, but the header was torn by a crash
        header, body = data[: end + 1], memoryview(data)[end + 1 :]
        if header == _V1_HEADER:
            return _read_lines(bytes(body))
        if header != _HEADER:
            raise OSError(f"{path.name} is not a {SPILL_FORMAT} segment")
        return _read_frames(body)

    def delete(self, path: Path) -> None:
        """Forget a sealed segment whose records all reached the sink."""
        self._forget(path)
        path.unlink(missing_ok=True)

    def set_aside(self, path: Path) -> None:
        """Stop replaying an unreadable segment; it is renamed `*.unreadable` for an operator."""
        self._forget(path)
        try:
            path.rename(path.with_suffix(".unreadable"))
        except OSError:
            log.exception("cannot rename the unreadable spill segment %s", path)

    def close(self) -> None:
        """Seal the open segment and give the directory up."""
        self.seal()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _forget(self, path: Path) -> None:
        if path in self._sealed:
            self._sealed.remove(path)
        self._bytes -= self._sizes.pop(path, 0)

    def _create(self) -> tuple[Path, BinaryIO]:
        path = self.directory / f"{_PREFIX}{self._next_seq:020d}{_SUFFIX}"
        self._next_seq += 1
        handle = path.open("xb")
        try:
            handle.write(_HEADER)
            handle.flush()
            os.fsync(handle.fileno())
            fsync_directory(self.directory)
        except BaseException:
            handle.close()
            path.unlink(missing_ok=True)
            raise
        self._sizes[path] = len(_HEADER)
        self._bytes += len(_HEADER)
        return path, handle


def _seq(path: Path) -> int:
    return int(path.name[len(_PREFIX) : len(_PREFIX) + 20])


def _frame(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    stream: bytes = sink.getvalue().to_pybytes()
    return _FRAME.pack(len(stream), table.num_rows, zlib.crc32(stream)) + stream


def _read_frames(body: memoryview) -> tuple[list[pa.Table], int]:
    tables: list[pa.Table] = []
    corrupt = 0
    offset = 0
    while offset + _FRAME.size <= len(body):
        length, rows, checksum = _FRAME.unpack_from(body, offset)
        start = offset + _FRAME.size
        if start + length > len(body):
            break  # torn by a crash mid-append
        stream = body[start : start + length]
        offset = start + length
        try:
            if zlib.crc32(stream) != checksum:
                raise ValueError("checksum mismatch")
            table = pa.ipc.open_stream(pa.py_buffer(stream)).read_all()
            if table.num_rows != rows:
                raise ValueError("row count mismatch")
        except (ValueError, pa.ArrowException):
            corrupt += rows
            continue
        tables.append(table)
    return tables, corrupt


def _read_lines(body: bytes) -> tuple[list[pa.Table], int]:
    """A first-format segment: one JSON record per line."""
    batches: list[PredictionBatch] = []
    corrupt = 0
    for line in body.split(b"\n")[:-1]:
        try:
            batches.append(PredictionBatch.of(_decode(line)))
        except (ValueError, KeyError, TypeError):
            corrupt += 1
    return batches_to_tables(batches), corrupt


def _decode(line: bytes) -> PredictionRecord:
    fields = json.loads(line)
    return PredictionRecord(
        prediction_id=fields["prediction_id"],
        timestamp=from_micros(int(fields["timestamp"])),
        model=fields["model"],
        version=fields["version"],
        latency_ms=fields["latency_ms"],
        status=PredictionStatus(fields["status"]),
        error=fields["error"],
        request_id=fields["request_id"],
        inputs=fields["inputs"],
        outputs=fields["outputs"],
    )
