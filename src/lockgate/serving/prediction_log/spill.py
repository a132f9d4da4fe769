"""The spill directory: append-only segment files holding records the sink has not taken yet.

A segment `segment-<seq>.jsonl` is a header line and then one JSON object per record; every
append is fsynced. One process owns the directory at a time (an flock on `.lock`), segments
are replayed oldest first, and one is deleted only after all its records reached the sink.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from lockgate.domain.errors import ConflictError
from lockgate.domain.identity import from_micros, to_micros
from lockgate.serving.prediction_log.durability import fsync_directory
from lockgate.serving.prediction_log.record import (
    PredictionRecord,
    PredictionStatus,
    encode_json,
)

__all__ = ["SPILL_FORMAT", "SpillStore"]

log = logging.getLogger("lockgate.serving.prediction_log")

SPILL_FORMAT = "lockgate.prediction-spill/1"
_HEADER = json.dumps({"format": SPILL_FORMAT}).encode() + b"\n"
_PREFIX = "segment-"
_SUFFIX = ".jsonl"
_SEGMENT = re.compile(r"segment-\d{20}\.jsonl")


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

    def append(self, records: Sequence[PredictionRecord]) -> None:
        """Append records to the open segment and fsync; seal it once it is large enough."""
        path = self._append(records)
        if self._sizes[path] >= self._segment_bytes:
            self.seal()

    def append_segment(self, records: Sequence[PredictionRecord]) -> Path:
        """Write records as a segment of their own (sealed), so it can be discarded alone."""
        self.seal()
        path = self._append(records)
        self.seal()
        return path

    def seal(self) -> None:
        """Close the open segment; it becomes the newest one to replay."""
        current, path = self._current, self._current_path
        self._current = self._current_path = None
        if current is not None and path is not None:
            self._sealed.append(path)
            current.close()

    def _append(self, records: Sequence[PredictionRecord]) -> Path:
        if self._current is None or self._current_path is None:
            self._current_path, self._current = self._create()
        path, handle = self._current_path, self._current
        data = b"".join(_encode(record) for record in records)
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

    def read(self, path: Path) -> tuple[list[PredictionRecord], int]:
        """A segment's records and how many of its lines were unreadable.

        A last line without its newline was torn by a crash before the append returned, so its
        records were never acknowledged: it is ignored, not counted.

        Raises:
            OSError: the file cannot be read, or its header is not this format's.
        """
        lines = path.read_bytes().split(b"\n")
        if len(lines) == 1:
            return [], 0  # created, but the header was torn by a crash
        if lines[0] + b"\n" != _HEADER:
            raise OSError(f"{path.name} is not a {SPILL_FORMAT} segment")
        records: list[PredictionRecord] = []
        corrupt = 0
        for line in lines[1:-1]:
            try:
                records.append(_decode(line))
            except (ValueError, KeyError, TypeError):
                corrupt += 1
        return records, corrupt

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
    return int(path.name.removeprefix(_PREFIX).removesuffix(_SUFFIX))


def _encode(record: PredictionRecord) -> bytes:
    head = json.dumps(
        {
            "prediction_id": record.prediction_id,
            "timestamp": to_micros(record.timestamp),
            "model": record.model,
            "version": record.version,
            "latency_ms": record.latency_ms,
            "status": str(record.status),
            "error": record.error,
            "request_id": record.request_id,
        },
        separators=(",", ":"),
        allow_nan=True,
    )
    # The inputs and outputs are spliced in as JSON text, encoded once.
    inputs = encode_json(record.inputs)
    outputs = "null" if record.outputs is None else encode_json(record.outputs)
    return f'{head[:-1]},"inputs":{inputs},"outputs":{outputs}}}\n'.encode()


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
