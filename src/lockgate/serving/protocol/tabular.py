"""Row-oriented JSON tables (lists of rows, lists of records) to columns, with the one-matrix
fast path for models whose inputs are scalar columns of one numeric type."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError
from lockgate.serving.flavors.base import Columns
from lockgate.serving.protocol.casting import TextCodec, cast_array
from lockgate.serving.protocol.validation import (
    ColumnPlan,
    FieldOf,
    MatrixColumns,
    SignaturePlan,
    column_from_values,
    names_text,
    values_getter,
)

__all__ = [
    "columns_from_lists",
    "columns_from_records",
    "columns_from_rows",
    "flat_lists",
    "matrix_columns",
    "signature_ordered",
]

Array = npt.NDArray[Any]
_ROW_TYPES = (list, tuple)


def columns_from_rows(
    plan: SignaturePlan,
    order: Sequence[ColumnPlan],
    rows: object,
    *,
    rows_field: str,
    field_of: FieldOf,
    text_codec: TextCodec,
) -> Columns:
    """A list of rows, each holding one value per column of `order`, as columns."""
    if type(rows) is not list:
        raise InvalidInputError("expected a list of rows", field=rows_field)
    plan.check_row_count(len(rows), rows_field)
    columns = matrix_columns(plan, order, rows)
    if columns is not None:
        return columns
    width = len(order)
    for index, row in enumerate(rows):
        if type(row) not in _ROW_TYPES or len(row) != width:
            raise InvalidInputError(
                f"row {index} must be a list of {width} value{'s' if width != 1 else ''}, "
                f"one per column ({names_text(column.name for column in order)})",
                field=f"{rows_field}[{index}]",
            )
    return {
        column.name: column_from_values(column, list(values), field_of(column.name), text_codec)
        for column, values in zip(order, zip(*rows, strict=True), strict=True)
    }


def matrix_columns(
    plan: SignaturePlan, order: Sequence[ColumnPlan], rows: object
) -> MatrixColumns | None:
    """Rows (one value per column of `order`) as one matrix of the plan's matrix type, cut into
    contiguous columns; None when they are not a clean matrix of acceptable numbers (the
    caller's slow path then names the fault). The caller checks the number of rows."""
    matrix = _clean_matrix(plan, rows, width=len(order), axis=1)
    if matrix is None:
        return None
    return _in_signature_order(plan, order, np.ascontiguousarray(matrix.T))


def columns_from_lists(
    plan: SignaturePlan, order: Sequence[ColumnPlan], lists: object
) -> MatrixColumns | None:
    """One list of values per column of `order` (a columnar request) as the plan's matrix;
    None when they do not form a clean matrix. The caller checks the number of rows."""
    matrix = _clean_matrix(plan, lists, width=len(order), axis=0)
    if matrix is None:
        return None
    return _in_signature_order(plan, order, np.ascontiguousarray(matrix))


def flat_lists(lists: Sequence[object], length: int) -> Array:
    """Lists of `length` values each as one flat array, read in one pass (numpy is much slower
    on many short nested lists than on one flat list); ValueError if a list is another length.
    The caller checks the size: a nested value yields more than `len(lists) * length`."""
    if set(map(len, lists)) != {length}:  # type: ignore[arg-type]  # TypeError for non-lists
        raise ValueError("lists of unequal lengths")
    return np.asarray(list(chain.from_iterable(lists)))  # type: ignore[arg-type]  # as above


def _clean_matrix(plan: SignaturePlan, values: object, *, width: int, axis: int) -> Array | None:
    if plan.matrix_type is None:
        return None
    try:
        if axis == 0 and type(values) is list and values and type(values[0]) is list:
            matrix = flat_lists(values, len(values[0])).reshape(len(values), -1)
        else:
            matrix = np.asarray(values)
        if matrix.ndim != 2 or matrix.shape[axis] != width or matrix.dtype.kind not in "biuf":
            return None
        return cast_array(matrix, plan.matrix_type, "")
    except (ValueError, TypeError, OverflowError, InvalidInputError):
        return None


def _in_signature_order(
    plan: SignaturePlan, order: Sequence[ColumnPlan], by_column: Array
) -> MatrixColumns:
    if order is plan.inputs:
        return MatrixColumns(plan.input_names, by_column)
    return signature_ordered(plan, tuple(column.name for column in order), by_column)


def signature_ordered(
    plan: SignaturePlan, names: tuple[str, ...], by_column: Array
) -> MatrixColumns:
    """Columns `names` (the plan's inputs in some order), one per row of `by_column`, as
    `MatrixColumns` in signature order."""
    if names != plan.input_names:
        reordered = np.empty_like(by_column)
        reordered[[plan.input_names.index(name) for name in names]] = by_column
        by_column = reordered
    return MatrixColumns(plan.input_names, by_column)


def columns_from_records(
    plan: SignaturePlan, records: object, *, field: str, text_codec: TextCodec
) -> Columns:
    """A list of objects, one per row, keyed by column name, as columns."""
    if type(records) is not list or not records:
        raise InvalidInputError("expected a non-empty list of objects", field=field)
    order = _open_order(records, field) if plan.signature is None else list(plan.inputs)
    rows = _record_rows(plan, order, records, field)
    return columns_from_rows(
        plan,
        order,
        rows,
        rows_field=field,
        field_of=lambda name: f"{field}.{name}",
        text_codec=text_codec,
    )


def _open_order(records: list[Any], field: str) -> list[ColumnPlan]:
    first = records[0]
    if type(first) is not dict or not first:
        raise InvalidInputError("each record must be a non-empty object", field=f"{field}[0]")
    return [ColumnPlan.open(str(name)) for name in first]


def _record_rows(
    plan: SignaturePlan, order: list[ColumnPlan], records: list[Any], field: str
) -> list[tuple[object, ...]]:
    names = [column.name for column in order]
    getter = plan.row_getter if plan.signature is not None else None
    if getter is None:
        getter = values_getter(names)
    width = len(names)
    try:
        rows = list(map(getter, records))
        if all(len(record) == width for record in records):
            return rows
    except (KeyError, TypeError):
        pass
    raise _record_fault(names, records, field)


def _record_fault(names: list[str], records: list[Any], field: str) -> InvalidInputError:
    wanted = set(names)
    for index, record in enumerate(records):
        if type(record) is not dict:
            return InvalidInputError("each record must be an object", field=f"{field}[{index}]")
        for key in record:
            if key not in wanted:
                return InvalidInputError(
                    f"{key!r} is not an input of the model; its inputs are {names_text(names)}",
                    field=f"{field}[{index}].{key}",
                )
        missing = [name for name in names if name not in record]
        if missing:
            return InvalidInputError(
                f"record {index} lacks {names_text(missing)}",
                field=f"{field}[{index}]",
            )
    return InvalidInputError("the records do not match the model's inputs", field=field)
