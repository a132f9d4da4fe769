"""The Arrow schema of the prediction log, version 2, and the conversion of batches to tables.

One row per prediction. `inputs` and `outputs` are structs with one field per column of the
model, typed: each holds the list of the prediction's rows (a `list<double>` for a numeric
column, a `list<fixed_size_list<...>>` for a tensor). A column with no Arrow type is stored as
JSON text (a `string` field with the metadata `lockgate.encoding: json`). So a table's schema
depends on the model: `batches_to_tables` returns one table per model version and layout.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa  # pyarrow ships no type information

from lockgate.serving.prediction_log.record import (
    Array,
    ColumnMatrix,
    PredictionBatch,
    column_matrix,
    encode_json,
)

__all__ = [
    "BASE_SCHEMA",
    "JSON_ENCODING",
    "SCHEMA_VERSION",
    "batches_to_tables",
    "table_model",
]

SCHEMA_VERSION = "lockgate.prediction-log/2"
"""Stored under the schema metadata key `lockgate.schema` of every file; bumped on any change."""

JSON_ENCODING = {"lockgate.encoding": "json"}
"""The metadata of an input or output field stored as JSON text."""

BASE_SCHEMA = pa.schema(
    [
        pa.field("prediction_id", pa.string(), nullable=False),
        pa.field("timestamp", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        pa.field("version", pa.int64(), nullable=False),
        pa.field("latency_ms", pa.float64(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("error", pa.string(), nullable=True),
        pa.field("request_id", pa.string(), nullable=True),
    ],
    metadata={"lockgate.schema": SCHEMA_VERSION},
)
"""The columns every table has, before `inputs` and `outputs` (whose types are the model's)."""

_TIMESTAMP = BASE_SCHEMA.field("timestamp").type
# numpy kinds stored as typed Arrow columns: booleans, integers, floats, text, bytes, times.
_TYPED_KINDS = frozenset("biufUSM")

Layout = tuple[tuple[str, ...], tuple[Any, ...], tuple[tuple[int, tuple[int, ...]], ...]]
# In a layout: the columns are stored from one matrix (a ColumnMatrix's, or another's).
_FROM_COLUMN_MATRIX = ((-2, ()),)
_FROM_MATRIX = ((-1, ()),)


def batches_to_tables(batches: Sequence[PredictionBatch]) -> list[pa.Table]:
    """The batches as tables, one per model version and column layout, in order of first
    appearance; predictions keep their order within a table. A failed batch joins a table of
    its model's answered predictions when there is one (its outputs are null)."""
    groups: dict[tuple[str, int, Layout], list[PredictionBatch]] = {}
    for batch in batches:
        groups.setdefault((batch.model, batch.version, _layout(batch.inputs)), []).append(batch)
    return [_table(part) for group in groups.values() for part in _by_outputs(group)]


def table_model(table: pa.Table) -> tuple[str, int]:
    """The model and version of a table `batches_to_tables` made (every row has the same)."""
    return str(table.column("model")[0].as_py()), int(table.column("version")[0].as_py())


def _layout(columns: Mapping[str, Array]) -> Layout:
    """What must agree for columns to be concatenated: names, dtypes, and the shape of each
    row of a tensor column. (Built with as few Python steps as possible: it runs per batch.)"""
    if type(columns) is ColumnMatrix:
        names = columns.names
        key = names if type(names) is tuple else tuple(names)
        return (key, (columns.by_column.dtype,), _FROM_COLUMN_MATRIX)
    matrix = column_matrix(columns)
    if matrix is not None:
        return (tuple(columns), (matrix.dtype,), _FROM_MATRIX)
    arrays = columns.values()
    return (
        tuple(columns),
        tuple([column.dtype for column in arrays]),
        tuple([(i, c.shape[1:]) for i, c in enumerate(arrays) if c.ndim != 1]),
    )


def _by_outputs(group: list[PredictionBatch]) -> list[list[PredictionBatch]]:
    """Split a group by the layout of its outputs; failed batches go with the first part."""
    parts: dict[Layout | None, list[PredictionBatch]] = {}
    failed: list[PredictionBatch] = []
    for batch in group:
        if batch.outputs is None:
            failed.append(batch)
        else:
            parts.setdefault(_layout(batch.outputs), []).append(batch)
    if not failed:
        return list(parts.values())
    if not parts:
        return [failed]
    first, *rest = parts.values()
    order = {id(batch): index for index, batch in enumerate(group)}
    return [sorted(first + failed, key=lambda batch: order[id(batch)]), *rest]


def _table(group: list[PredictionBatch]) -> pa.Table:
    first = group[0]
    sizes = [len(batch.prediction_ids) for batch in group]
    count = sum(sizes)
    rows = np.fromiter(
        itertools.chain.from_iterable(batch.rows for batch in group), dtype=np.int64, count=count
    )
    answered = [batch for batch in group if batch.outputs is not None]
    errors = [batch.error for batch in group]
    status = ["ok" if error is None else "error" for error in errors]
    if all(type(batch.timestamp) is int for batch in group):
        timestamps = np.repeat(np.array([batch.timestamp for batch in group], np.int64), sizes)
    else:
        timestamps = np.fromiter(
            itertools.chain.from_iterable(
                _stamps(batch.timestamp, size) for batch, size in zip(group, sizes, strict=True)
            ),
            dtype=np.int64,
            count=count,
        )
    arrays = [
        pa.array(_flat(batch.prediction_ids for batch in group), pa.string()),
        pa.array(timestamps).view(_TIMESTAMP),
        pa.repeat(first.model, count),
        pa.repeat(pa.scalar(first.version, pa.int64()), count),
        pa.array(_flat(batch.latencies_ms for batch in group), pa.float64()),
        _repeated(sizes, count, status),
        _repeated(sizes, count, errors),
        pa.array(_flat(batch.request_ids for batch in group), pa.string()),
    ]
    inputs = _struct([batch.inputs for batch in group], rows, mask=None)
    if not answered:
        outputs = pa.nulls(count)
    else:
        output_rows = rows
        mask = None
        if len(answered) < len(group):
            failed = np.fromiter(
                itertools.chain.from_iterable(
                    [batch.outputs is None] * len(batch) for batch in group
                ),
                dtype=np.bool_,
                count=count,
            )
            output_rows = np.where(failed, 0, rows)
            mask = pa.array(failed)
        outputs = _struct([batch.outputs for batch in answered if batch.outputs], output_rows, mask)
    fields = [
        *BASE_SCHEMA,
        pa.field("inputs", inputs.type, nullable=pa.types.is_null(inputs.type)),
        pa.field("outputs", outputs.type, nullable=True),
    ]
    schema = pa.schema(fields, metadata=BASE_SCHEMA.metadata)
    return pa.Table.from_arrays([*arrays, inputs, outputs], schema=schema)


def _stamps(timestamp: int | Sequence[int], size: int) -> Sequence[int]:
    return [timestamp] * size if isinstance(timestamp, int) else timestamp


def _flat(parts: Any) -> list[Any]:
    return list(itertools.chain.from_iterable(parts))


def _repeated(sizes: list[int], count: int, values: Sequence[str | None]) -> pa.Array:
    """A string column of one value per batch, each repeated for its predictions."""
    first = values[0]
    if all(value == first for value in values):  # mostly: all answered, no error text
        return pa.nulls(count, pa.string()) if first is None else pa.repeat(first, count)
    return pa.array(_repeat(sizes, count, list(values)), pa.string())


def _repeat(sizes: list[int], count: int, values: list[Any]) -> list[Any]:
    """One value per batch, repeated for each of its `sizes` predictions (`count` in all)."""
    if len(values) == 1:
        return values * count
    if len(values) == count:  # batches of one prediction each
        return values
    return _flat([value] * size for value, size in zip(values, sizes, strict=True))


def _struct(parts: list[Mapping[str, Array]], rows: Array, mask: pa.Array | None) -> pa.Array:
    """Row-aligned columns (one mapping per batch) as a struct with a list per prediction."""
    if not parts[0]:
        return pa.nulls(len(rows))  # no columns: Parquet has no empty structs
    offsets = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum(rows, out=offsets[1:])
    arrow_offsets = pa.array(offsets, pa.int32())
    fields = []
    children = []
    by_column = None
    if type(parts[0]) is ColumnMatrix:  # one layout: all of them are
        by_column = np.concatenate([part.by_column for part in parts], axis=1)  # type: ignore[attr-defined]
    else:
        matrices = [column_matrix(part) for part in parts]
        if all(matrix is not None for matrix in matrices):  # one layout: all or none
            by_column = np.concatenate([m.T for m in matrices if m is not None], axis=1)
    for index, name in enumerate(parts[0]):
        if by_column is not None:
            column = by_column[index]
        elif len(parts) == 1:
            column = parts[0][name]
        else:
            column = np.concatenate([part[name] for part in parts])
        values = _values(column)
        if values is None:
            texts = [encode_json(column[start:end]) for start, end in itertools.pairwise(offsets)]
            children.append(pa.array(texts, pa.string()))
            fields.append(pa.field(name, pa.string(), metadata=JSON_ENCODING))
        else:
            child = pa.ListArray.from_arrays(arrow_offsets, values)
            children.append(child)
            fields.append(pa.field(name, child.type))
    return pa.StructArray.from_arrays(children, fields=fields, mask=mask)


def _values(column: Array) -> pa.Array | None:
    """A column's values flattened to an Arrow array of its rows (tensors as fixed-size lists),
    or None when it has no Arrow type and goes to JSON text."""
    kind = column.dtype.kind
    trailing = column.shape[1:]
    if 0 in trailing:
        return None
    flat = column.reshape(-1)
    try:
        if kind == "O":
            values = pa.array(flat)
            if not (pa.types.is_string(values.type) or pa.types.is_binary(values.type)):
                return None
        elif kind in _TYPED_KINDS:
            if column.dtype == np.float16:
                flat = flat.astype(np.float32)  # Parquet has no half floats everywhere
            values = pa.array(flat)
        else:
            return None
    except (pa.ArrowException, TypeError, ValueError):
        return None
    for size in reversed(trailing):
        values = pa.FixedSizeListArray.from_arrays(values, size)
    return values
