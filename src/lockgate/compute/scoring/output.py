"""Where scores go: one Parquet file written under a temporary name next to its final name,
hashed as its bytes go out, and moved into place only when complete (a failed job leaves no
output)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa  # pyarrow ships no type information
import pyarrow.parquet as pq  # as above

from lockgate.domain.errors import InvalidInputError, UserCodeError

__all__ = ["ParquetSink", "check_output_free", "staging_path"]


def check_output_free(target: Path) -> None:
    """Refuse an output path that exists: scores never overwrite data.

    Raises:
        InvalidInputError: Something is at `target` (`field` is `output`).
    """
    if target.exists() or target.is_symlink():
        raise InvalidInputError(
            f"{target} exists; scores never overwrite it (remove it or pick another path)",
            field="output",
        )


def staging_path(target: Path) -> Path:
    """A hidden, unique name next to `target`, to write to before the move into place."""
    return target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")


class _DigestingFile:
    """A write-only file for Parquet that hashes every byte on its way to the file beneath."""

    closed = False

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.hasher = hashlib.sha256()
        self._position = 0

    def write(self, data: bytes) -> int:
        self.hasher.update(data)
        self._position += len(data)
        return self.handle.write(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        self.handle.flush()


@dataclass(slots=True)
class _OpenFile:
    file: _DigestingFile
    writer: pq.ParquetWriter


class ParquetSink:
    """Writes record batches (one row group each) to `path`, which is opened on the first
    batch, with `schema` when given (batches are cast to it) or else the first batch's.

    Only `dictionary_columns` are dictionary-encoded: scores are mostly distinct values, for
    which trying a dictionary first costs more than the rest of the writing together.

    Call `close` to finish the file and learn its sha256, then move it into place; call
    `discard` on failure to remove it.
    """

    def __init__(
        self,
        path: Path,
        schema: pa.Schema | None = None,
        *,
        dictionary_columns: Sequence[str] = (),
    ) -> None:
        self.path = path
        self.schema = schema
        self._dictionary_columns = list(dictionary_columns)
        self.rows = 0
        self._open: _OpenFile | None = None

    def _start(self, schema: pa.Schema) -> _OpenFile:
        self.schema = schema
        file = _DigestingFile(self.path.open("xb"))
        try:
            writer = pq.ParquetWriter(file, schema, use_dictionary=self._dictionary_columns)
            self._open = _OpenFile(file, writer)
        except BaseException:
            file.handle.close()
            raise
        return self._open

    def write(self, batch: pa.RecordBatch) -> None:
        """Append a batch."""
        opened = self._open or self._start(self.schema or batch.schema)
        if not batch.schema.equals(self.schema):
            try:
                batch = batch.cast(self.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                raise UserCodeError(
                    f"the model's answers changed shape or type between batches: {exc}"
                ) from exc
        opened.writer.write_batch(batch)
        self.rows += batch.num_rows

    def close(self) -> str:
        """Finish the file (an empty one when no batch came, if the schema is known), flush it
        to disk and return its sha256.

        Raises:
            InvalidInputError: No batch came and the schema is not known.
        """
        opened = self._open
        if opened is None:
            if self.schema is None:
                raise InvalidInputError(
                    "the input has no rows, and the model's signature does not fix the "
                    "output's columns",
                    field="input",
                )
            opened = self._start(self.schema)
        opened.writer.close()
        opened.file.flush()
        os.fsync(opened.file.handle.fileno())
        opened.file.handle.close()
        self._open = None
        return opened.file.hasher.hexdigest()

    def discard(self) -> None:
        """Close whatever is open and remove the file."""
        opened, self._open = self._open, None
        if opened is not None:
            # The file is going away: a half-written footer does not matter.
            with contextlib.suppress(OSError, pa.ArrowException):
                opened.writer.close()
            opened.file.handle.close()
        self.path.unlink(missing_ok=True)
