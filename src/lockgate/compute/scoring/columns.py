"""Arrow columns to the numpy columns a `Predictor` takes, and its numpy answers back to Arrow:
scalar columns, tensors (fixed-size lists, or lists of one length, nested for more dimensions)
and the casts to a signature's types."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # pyarrow ships no type information
import pyarrow.compute as pc  # as above

from lockgate.domain.errors import InvalidInputError, UserCodeError
from lockgate.domain.registry import ColumnSpec
from lockgate.serving.protocol.datatypes import SIGNATURE_DTYPES

__all__ = [
    "OUTPUT_DATETIME",
    "arrow_type",
    "check_input_type",
    "keep_column",
    "output_type",
    "to_arrow_column",
    "to_numpy_column",
]

OUTPUT_DATETIME = pa.timestamp("us", tz="UTC")
"""The Arrow type of a `datetime` prediction: microseconds, UTC."""
_INPUT_DATETIME = pa.timestamp("us")  # what `datetime64[us]` (naive, meaning UTC) comes from
_TEXT_TYPES = {"string": pa.string(), "bytes": pa.binary()}


def arrow_type(type_name: str) -> pa.DataType:
    """The Arrow type of one value of a signature type (outputs: `datetime` is UTC)."""
    if type_name in _TEXT_TYPES:
        return _TEXT_TYPES[type_name]
    if type_name == "datetime":
        return OUTPUT_DATETIME
    return pa.from_numpy_dtype(SIGNATURE_DTYPES[type_name])


def output_type(spec: ColumnSpec) -> pa.DataType | None:
    """The Arrow type of an output column: a scalar, or fixed-size lists nested once per
    dimension after the rows; None when a dimension is free (-1), known only from data."""
    dims = spec.shape[1:]
    if -1 in dims:
        return None
    result = arrow_type(spec.type)
    for size in reversed(dims):
        result = pa.list_(result, size)
    return result


def _is_list(arrow: pa.DataType) -> bool:
    return bool(
        pa.types.is_list(arrow)
        or pa.types.is_large_list(arrow)
        or pa.types.is_fixed_size_list(arrow)
        or pa.types.is_list_view(arrow)
        or pa.types.is_large_list_view(arrow)
    )


def _list_sizes(arrow: pa.DataType) -> list[int]:
    """The size of each list level of a type (-1 when variable), outermost first."""
    sizes = []
    while _is_list(arrow):
        sizes.append(arrow.list_size if pa.types.is_fixed_size_list(arrow) else -1)
        arrow = arrow.value_type
    return sizes


def check_input_type(arrow: pa.DataType, spec: ColumnSpec) -> None:
    """Whether a column of this Arrow type can feed `spec` (same number of dimensions, fixed
    sizes that agree); values are cast batch by batch later.

    Raises:
        InvalidInputError: The dimensions disagree (`field` is `input.<name>`).
    """
    sizes, dims = _list_sizes(arrow), spec.shape[1:]
    agree = len(sizes) == len(dims) and all(
        -1 in (got, want) for got, want in zip(sizes, dims, strict=True) if got != want
    )
    if not agree:
        raise InvalidInputError(
            f"column {spec.name} is {arrow}, which does not hold the signature's shape "
            f"{spec.shape}",
            field=f"input.{spec.name}",
        )


def _flatten(array: pa.Array, dims: tuple[int, ...], name: str) -> tuple[pa.Array, list[int]]:
    """The values under `len(dims)` list levels and the tensor's shape (rows first)."""
    shape = [len(array)]
    for want in dims:
        if array.null_count:
            raise InvalidInputError(f"column {name} has missing rows", field=f"input.{name}")
        if not _is_list(array.type):
            raise InvalidInputError(
                f"column {name} is not a tensor of {len(dims)} dimensions", field=f"input.{name}"
            )
        if pa.types.is_fixed_size_list(array.type):
            size = array.type.list_size
        elif len(array) == 0:
            size = max(want, 0)
        else:
            bounds = pc.min_max(pc.list_value_length(array))
            size, largest = bounds["min"].as_py(), bounds["max"].as_py()
            if size != largest:
                raise InvalidInputError(
                    f"column {name} holds rows of {size} to {largest} values; a tensor's rows "
                    "are all of one size",
                    field=f"input.{name}",
                )
        if want not in (-1, size):
            raise InvalidInputError(
                f"column {name} has rows of {size} values where the signature has {want}",
                field=f"input.{name}",
            )
        shape.append(size)
        array = pc.list_flatten(array)
    return array, shape


def _cast_input(values: pa.Array, type_name: str, name: str) -> pa.Array:
    target = _INPUT_DATETIME if type_name == "datetime" else arrow_type(type_name)
    if values.type.equals(target):
        return values
    # Time stamps lose their zone (the values are UTC) and any precision below a microsecond.
    lossy = pa.types.is_timestamp(values.type) and type_name == "datetime"
    try:
        return pc.cast(values, target, safe=not lossy)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInputError(
            f"column {name} ({values.type}) does not convert to {type_name}: {exc}",
            field=f"input.{name}",
        ) from exc


def to_numpy_column(array: pa.Array, spec: ColumnSpec | None, name: str) -> npt.NDArray[Any]:
    """One input column as numpy: cast to the spec's type, tensors reshaped to (rows, ...).

    Numeric columns without missing values come without a copy. Missing float values become
    NaN; missing values of any other type are refused. Without a spec the column keeps its
    type and every list level becomes a dimension.

    Raises:
        InvalidInputError: Shape, type or missing values the spec cannot take
            (`field` is `input.<name>`).
    """
    dims = spec.shape[1:] if spec is not None else tuple(-1 for _ in _list_sizes(array.type))
    values, shape = _flatten(array, dims, name)
    if _is_list(values.type):
        raise InvalidInputError(
            f"column {name} is a tensor; the signature has shape {spec.shape if spec else ''}",
            field=f"input.{name}",
        )
    if spec is not None:
        values = _cast_input(values, spec.type, name)
    if values.null_count and not pa.types.is_floating(values.type):
        raise InvalidInputError(
            f"column {name} has {values.null_count} missing values, which {values.type} "
            "cannot hold",
            field=f"input.{name}",
        )
    result = _as_numpy(values)
    return result.reshape(shape) if len(shape) > 1 else result


def _as_numpy(values: pa.Array) -> npt.NDArray[Any]:
    """Numbers without missing values as a read-only view of Arrow's buffer; anything else
    (booleans, text, missing values) converted."""
    numeric = pa.types.is_integer(values.type) or pa.types.is_floating(values.type)
    # The zero-copy path also skips the pandas import pyarrow's general path makes.
    copy = not numeric or values.null_count > 0
    result: npt.NDArray[Any] = values.to_numpy(zero_copy_only=not copy)
    return result


def _arrow_values(flat: npt.NDArray[Any], type_name: str | None) -> pa.Array:
    if type_name in _TEXT_TYPES:
        return pa.array(flat, type=_TEXT_TYPES[type_name])
    if type_name == "datetime":
        return pa.array(flat).cast(OUTPUT_DATETIME)
    return pa.array(flat)


def to_arrow_column(
    values: npt.NDArray[Any], spec: ColumnSpec | None, rows: int, name: str
) -> pa.Array:
    """One output column of the model as Arrow: scalars as they are, tensors as nested
    fixed-size lists, cast to the spec's type.

    Raises:
        UserCodeError: The model's answer has another number of rows, another shape or
            values that do not convert.
    """
    array = np.asarray(values)
    if array.ndim == 0 or array.shape[0] != rows:
        got = "a scalar" if array.ndim == 0 else f"{array.shape[0]} rows"
        raise UserCodeError(f"the model returned {got} of {name} for a batch of {rows} rows")
    type_name = None
    if spec is not None:
        dims = spec.shape[1:]
        if array.ndim - 1 != len(dims) or any(
            want not in (-1, got) for want, got in zip(dims, array.shape[1:], strict=True)
        ):
            raise UserCodeError(
                f"the model returned {name} of shape {array.shape}; the signature has {spec.shape}"
            )
        try:
            array = array.astype(SIGNATURE_DTYPES[spec.type], copy=False)
        except (TypeError, ValueError, OverflowError) as exc:
            raise UserCodeError(f"the model's {name} does not convert to {spec.type}") from exc
        type_name = spec.type
    flat = np.ascontiguousarray(array).reshape(-1)
    try:
        result = _arrow_values(flat, type_name)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise UserCodeError(f"the model's {name} does not convert to Arrow: {exc}") from exc
    for size in reversed(array.shape[1:]):
        result = pa.FixedSizeListArray.from_arrays(result, size)
    return result


def keep_column(array: pa.Array, field: pa.Field) -> pa.Array:
    """A passthrough column in the type the input file declares (DuckDB and Spark hand some
    types back otherwise: fixed-size lists as lists, unsigned integers as signed).

    Raises:
        InvalidInputError: The values do not convert back (`field` is `keep`).
    """
    if array.type.equals(field.type):
        return array
    try:
        return pc.cast(array, field.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInputError(
            f"column {field.name} cannot be kept as {field.type}: {exc}", field="keep"
        ) from exc
