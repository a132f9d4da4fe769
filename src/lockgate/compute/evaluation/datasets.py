"""The dataset an evaluation reads: a Parquet or CSV path, or an Arrow table in memory, with
its identity (name, content fingerprint, schema, rows) and a DuckDB stream of its batches
carrying the columns the evaluation needs and each segment predicate evaluated as a column."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa  # pyarrow ships no type information

from lockgate.compute.scoring.sources import (
    PARQUET,
    ScoringInput,
    clean_dataset_name,
    resolve_input,
)
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.tracking import DatasetInput

__all__ = ["PREDICATE_PREFIX", "EvaluationData"]

PREDICATE_PREFIX = "__lockgate_segment_"
"""Prefix of the column a segment predicate is evaluated into (followed by its index)."""


@dataclass(frozen=True, slots=True)
class EvaluationData:
    """A dataset to evaluate on, resolved but not read.

    Attributes:
        name: The dataset's name in lineage (a file's stem unless given).
        schema: Its Arrow schema.
        rows: Its row count when known without reading it (Parquet footers, a table).
        source: Where it came from: a file URI, or None for an in-memory table.
        fingerprint: The sha256 that identifies this version of its content.
    """

    name: str
    schema: pa.Schema
    rows: int | None
    source: str | None
    fingerprint: str
    files: ScoringInput | None = None
    table: pa.Table | None = None

    @classmethod
    def from_path(
        cls, path: str | Path, *, name: str | None = None, content_hash: bool = False
    ) -> EvaluationData:
        """A Parquet or CSV file, a directory of them, or a glob; `content_hash` fingerprints a
        Parquet input by every byte rather than by its footers (see `ScoringInput`)."""
        files = resolve_input(path)
        return cls(
            name=clean_dataset_name(name) if name is not None else files.dataset_name(),
            schema=files.arrow_schema(),
            rows=files.total_rows,
            source=Path(files.path).resolve().as_uri(),
            fingerprint=files.fingerprint(content=content_hash),
            files=files,
        )

    @classmethod
    def from_table(cls, table: pa.Table, *, name: str) -> EvaluationData:
        """An Arrow table in memory; its fingerprint is the sha256 of its Arrow IPC stream."""
        sink = _HashingSink()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return cls(
            name=clean_dataset_name(name),
            schema=table.schema,
            rows=table.num_rows,
            source=None,
            fingerprint=sink.hexdigest(),
            table=table,
        )

    def dataset(self) -> DatasetInput:
        """The dataset version as lineage records it."""
        schema = tuple((field.name, str(field.type)) for field in self.schema)
        return DatasetInput(self.name, self.fingerprint, self.rows, schema, self.source)

    def require(self, column: str, *, field: str) -> pa.Field:
        """The named column's field; raises InvalidInputError naming `field` when absent."""
        if column not in self.schema.names:
            raise InvalidInputError(f"the dataset has no column {column!r}", field=field)
        return self.schema.field(column)

    @contextmanager
    def batches(
        self,
        columns: Sequence[str],
        predicates: Sequence[str] = (),
        *,
        order_by: str | None = None,
        batch_size: int = 65_536,
    ) -> Iterator[pa.RecordBatchReader]:
        """Stream `columns`, then each predicate as the boolean column `PREDICATE_PREFIX<i>`
        (NULL counts as false), in batches of at most `batch_size` rows. `order_by` sorts by
        that column first (DuckDB sorts beyond memory by spilling to disk), so that every
        query of a ranking dataset arrives in one run of rows."""
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        connection = duckdb.connect(config={"threads": max(1, threads)})
        try:
            relation = self._relation(connection)
            selected = [_quote(column) for column in dict.fromkeys(columns)]
            selected += [
                f"coalesce(({predicate}), false) AS {_quote(f'{PREDICATE_PREFIX}{index}')}"
                for index, predicate in enumerate(predicates)
            ]
            reader = _reader(relation, selected, order_by, batch_size)
            try:
                yield reader
            finally:
                reader.close()
        finally:
            connection.close()

    def _relation(self, connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        if self.table is not None:
            return connection.from_arrow(self.table)
        assert self.files is not None  # noqa: S101  # one of the two is always set
        names = [str(file) for file in self.files.files]
        try:
            if self.files.format == PARQUET:
                return connection.read_parquet(names)
            return connection.read_csv(names)  # type: ignore[arg-type]  # DuckDB reads a list of files; its stub says one
        except duckdb.Error as exc:
            raise InvalidInputError(f"{self.files.path}: {exc}", field="data") from exc


def _reader(
    relation: duckdb.DuckDBPyRelation,
    selected: list[str],
    order_by: str | None,
    batch_size: int,
) -> pa.RecordBatchReader:
    try:
        projected = relation.project(", ".join(selected))
        if order_by is not None:
            projected = projected.order(_quote(order_by))
        return projected.to_arrow_reader(batch_size)
    except duckdb.Error as exc:
        raise InvalidInputError(
            f"the dataset cannot be read as asked: {exc}", field="segments"
        ) from exc


class _HashingSink:
    """A write-only file object that keeps only the sha256 of what it was given."""

    def __init__(self) -> None:
        self._hasher = hashlib.sha256()
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        self._hasher.update(data)
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def hexdigest(self) -> str:
        return self._hasher.hexdigest()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
