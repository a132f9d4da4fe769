"""`text/csv` request bodies: a header row of column names, then one line per row, each cell
parsed as its column's signature type (or inferred when the model has no signature)."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError
from lockgate.serving.flavors.base import Columns
from lockgate.serving.protocol.casting import base64_bytes, cast_array
from lockgate.serving.protocol.datatypes import SIGNATURE_DTYPES
from lockgate.serving.protocol.tabular import matrix_columns
from lockgate.serving.protocol.validation import ColumnPlan, SignaturePlan, check_names

__all__ = ["columns_from_csv"]

Array = npt.NDArray[Any]
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_MISSING = frozenset({"", "nan", "NaN", "NA", "null"})


def columns_from_csv(plan: SignaturePlan, body: bytes) -> Columns:
    """A CSV body (UTF-8, a header row of column names) as checked columns. Empty cells and
    `NaN`, `NA`, `null` are missing values: NaN in float columns, refused elsewhere."""
    header, rows = _read(body)
    if plan.signature is not None:
        check_names(plan, header, unknown_field=lambda name: f"body.{name}", missing_field="body")
        order = [plan.input_index[name] for name in header]
    else:
        order = [ColumnPlan.open(name) for name in header]
    plan.check_row_count(len(rows), "body")
    if plan.matrix_type is not None and SIGNATURE_DTYPES[plan.matrix_type].kind == "f":
        columns = _float_matrix(plan, order, rows)
        if columns is not None:
            return columns
    return {
        column.name: _column(column, cells, f"body.{column.name}")
        for column, cells in zip(order, zip(*rows, strict=True), strict=True)
    }


def _read(body: bytes) -> tuple[list[str], list[list[str]]]:
    try:
        text = body.decode("utf-8-sig")
        if '"' in text or "\r" in text:
            lines = [row for row in csv.reader(io.StringIO(text, newline=""), strict=True) if row]
        else:  # no quoting: plain splitting reads the same cells, several times faster
            lines = [line.split(",") for line in text.split("\n") if line]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInputError(f"not a UTF-8 CSV table: {exc}", field="body") from None
    if not lines:
        raise InvalidInputError("a CSV body starts with a header row of column names", field="body")
    header, rows = lines[0], lines[1:]
    if "" in header:
        raise InvalidInputError(
            "a column has no name (a pandas index? write the CSV with index=False)", field="body"
        )
    if len(set(header)) != len(header):
        raise InvalidInputError("the header repeats a column name", field="body")
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise InvalidInputError(
                f"line {number} has {len(row)} cells; the header names {len(header)} columns",
                field="body",
            )
    return header, rows


def _float_matrix(
    plan: SignaturePlan, order: list[ColumnPlan], rows: list[list[str]]
) -> Columns | None:
    try:
        matrix = np.array(rows, dtype=np.float64)
    except (ValueError, OverflowError):
        return None  # empty cells or words: the per-column path says where
    return matrix_columns(plan, order, matrix)


def _column(column: ColumnPlan, cells: tuple[str, ...], field: str) -> Array:
    if not column.is_scalar and column.tail is not None:
        raise InvalidInputError(f"tensor column {column.name!r} cannot come as CSV", field=field)
    if column.type is None:
        return _inferred(cells)
    dtype = SIGNATURE_DTYPES[column.type]
    kind = dtype.kind
    try:
        if kind == "f":
            return cast_array(_floats(cells), column.type, field)
        if kind in "iu":
            return np.array(cells).astype(dtype)
        if kind == "b":
            return np.array([_boolean(cell) for cell in cells], dtype=np.bool_)
    except (ValueError, OverflowError) as exc:
        raise InvalidInputError(
            f"a cell is not a valid {column.type}: {str(exc).splitlines()[0][:200]}", field=field
        ) from None
    return cast_array(np.array(cells, dtype=object), column.type, field, base64_bytes)


def _floats(cells: tuple[str, ...]) -> Array:
    return np.array(["nan" if cell in _MISSING else cell for cell in cells]).astype(np.float64)


def _boolean(cell: str) -> bool:
    word = cell.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"{cell[:40]!r} is not true or false")


def _inferred(cells: tuple[str, ...]) -> Array:
    """A column of a model without a signature: integers, else numbers, else booleans, else
    text."""
    for parse in (_integers, _floats):
        try:
            return parse(cells)
        except (ValueError, OverflowError):
            pass
    try:
        return np.array([_boolean(cell) for cell in cells], dtype=np.bool_)
    except ValueError:
        return np.array(cells, dtype=object)


def _integers(cells: tuple[str, ...]) -> Array:
    return np.array(cells).astype(np.int64)
