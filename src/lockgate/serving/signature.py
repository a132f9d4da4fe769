"""Model signatures from examples: the names, types and shapes of a sample input (a numpy array,
a pandas DataFrame, a dict of arrays, an Arrow table) and of a model's answer, and an example
turned into the named columns a flavor's `Predictor` takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.registry import ColumnSpec, Signature

__all__ = [
    "DEFAULT_INPUT",
    "DEFAULT_OUTPUT",
    "NUMPY_DTYPES",
    "columns_from_example",
    "infer_signature",
    "numpy_dtype",
]

DEFAULT_INPUT = "input"
"""The name of the one input column an unnamed example (a numpy array) becomes."""
DEFAULT_OUTPUT = "prediction"
"""The name of the one output column an unnamed answer (an array) becomes."""


NUMPY_DTYPES: Mapping[str, np.dtype[Any]] = {
    "bool": np.dtype(np.bool_),
    "int8": np.dtype(np.int8),
    "int16": np.dtype(np.int16),
    "int32": np.dtype(np.int32),
    "int64": np.dtype(np.int64),
    "uint8": np.dtype(np.uint8),
    "uint16": np.dtype(np.uint16),
    "uint32": np.dtype(np.uint32),
    "uint64": np.dtype(np.uint64),
    "float16": np.dtype(np.float16),
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
    # Variable-length cells are Python objects: str for string, bytes for bytes.
    "string": np.dtype(object),
    "bytes": np.dtype(object),
    # Naive microseconds, meaning UTC (what pandas and Arrow use by default).
    "datetime": np.dtype("datetime64[us]"),
}

_Array = npt.NDArray[Any]
_Named = list[tuple[str | None, _Array, str]]
"""An example as (name or None when unnamed, values, signature type) per column."""


def numpy_dtype(type_name: str) -> np.dtype[Any]:
    """The numpy dtype that holds values of a signature type (`string` and `bytes` are object
    arrays of str and bytes; `datetime` is `datetime64[us]`)."""
    try:
        return NUMPY_DTYPES[type_name]
    except KeyError:
        raise InvalidInputError(
            f"{type_name!r} is not a signature type", field="signature"
        ) from None


def _type_of_dtype(dtype: np.dtype[Any], field: str) -> str:
    kind, bits = dtype.kind, dtype.itemsize * 8
    if kind == "b":
        return "bool"
    if kind in "iu" and bits <= 64:
        return f"{'u' if kind == 'u' else ''}int{bits}"
    if kind == "f" and bits <= 64:
        return f"float{bits}"
    if kind in "UOT":
        return "string"
    if kind == "S":
        return "bytes"
    if kind == "M":
        return "datetime"
    raise InvalidInputError(f"values of dtype {dtype} have no signature type", field=field)


def _is_a(obj: object, package: str, *names: str) -> bool:
    """Whether `obj` is an instance of a class called one of `names` from `package`, by name:
    pandas and pyarrow are recognized without being imported."""
    return any(
        cls.__name__ in names and cls.__module__.split(".")[0] == package
        for cls in type(obj).__mro__
    )


def _pandas_column(series: Any, name: str, field: str) -> tuple[str, _Array, str]:
    dtype = series.dtype
    if dtype.kind == "M" and getattr(dtype, "tz", None) is not None:
        # Time zones are not part of a signature: instants are kept, in UTC.
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        dtype = series.dtype
    base = getattr(dtype, "numpy_dtype", None)  # nullable Int64, Float64, boolean, Arrow
    if base is None and hasattr(dtype, "categories"):
        base = dtype.categories.dtype
    if base is None or not isinstance(base, np.dtype):
        base = dtype if isinstance(dtype, np.dtype) else np.dtype(object)
    return name, np.asarray(series.to_numpy()), _type_of_dtype(base, f"{field}.{name}")


def _arrow_column(column: Any, name: str, field: str) -> tuple[str, _Array, str]:
    # The caller passed an Arrow object, so pyarrow is installed.
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow_type = column.type
    width = None
    if pa.types.is_fixed_size_list(arrow_type):
        width = arrow_type.list_size
        arrow_type = arrow_type.value_type
        column = pc.list_flatten(column)
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        type_name = "string"
    elif pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        type_name = "bytes"
    elif pa.types.is_timestamp(arrow_type) or pa.types.is_date(arrow_type):
        type_name = "datetime"
    elif (
        pa.types.is_boolean(arrow_type)
        or pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
    ):
        type_name = _type_of_dtype(np.dtype(arrow_type.to_pandas_dtype()), f"{field}.{name}")
    else:
        raise InvalidInputError(
            f"Arrow type {column.type} has no signature type", field=f"{field}.{name}"
        )
    values = np.asarray(column.to_numpy(zero_copy_only=False))
    if width is not None:
        values = values.reshape(-1, width)
    return name, values, type_name


def _named_columns(example: object, field: str) -> _Named:
    if isinstance(example, np.ndarray):
        return [(None, example, _type_of_dtype(example.dtype, field))]
    if _is_a(example, "pandas", "DataFrame"):
        frame: Any = example
        return [_pandas_column(frame[key], str(key), field) for key in frame.columns]
    if _is_a(example, "pandas", "Series"):
        _, values, type_name = _pandas_column(example, DEFAULT_INPUT, field)
        return [(None, values, type_name)]
    if _is_a(example, "pyarrow", "Table", "RecordBatch"):
        table: Any = example
        return [_arrow_column(table.column(key), key, field) for key in table.column_names]
    if isinstance(example, Mapping):
        named: _Named = []
        for key, value in example.items():
            if _is_a(value, "pandas", "Series"):
                named.append(_pandas_column(value, str(key), field))
            else:
                array = np.asarray(value)
                named.append((str(key), array, _type_of_dtype(array.dtype, f"{field}.{key}")))
        return named
    if isinstance(example, list | tuple | int | float | bool | str | np.generic):
        array = np.asarray(example)
        return [(None, array, _type_of_dtype(array.dtype, field))]
    raise InvalidInputError(
        f"an example must be a numpy array, a pandas DataFrame, a dict of arrays or an Arrow "
        f"table, not {type(example).__name__}",
        field=field,
    )


def _specs(example: object, default_name: str, field: str) -> tuple[ColumnSpec, ...]:
    named = _named_columns(example, field)
    if not named:
        raise InvalidInputError("the example has no columns", field=field)
    specs = []
    for name, values, type_name in named:
        if values.ndim == 0:
            raise InvalidInputError("an example needs a batch dimension (rows)", field=field)
        specs.append(ColumnSpec(name or default_name, type_name, (-1, *values.shape[1:])))
    return tuple(specs)


def infer_signature(input_example: object, output_example: object | None = None) -> Signature:
    """The signature of a model from an example input and, optionally, its answer.

    A 2-D numpy array is one tensor column `input` of shape (-1, n) and a 1-D array one
    scalar column (-1,); a DataFrame or an Arrow table gives one scalar column per column (an
    Arrow fixed-size list a tensor), a dict one column per key. The answer is named the same
    way, with `prediction` for a single array. Types follow the dtype: object and string
    columns are `string`, time stamps `datetime`.

    Raises:
        InvalidInputError: A column's values have no signature type, or the example is
            not one of the forms above (`field` is `input_example` or `output_example`).
    """
    inputs = _specs(input_example, DEFAULT_INPUT, "input_example")
    outputs = (
        () if output_example is None else _specs(output_example, DEFAULT_OUTPUT, "output_example")
    )
    signature = Signature(inputs, outputs)
    signature.check()
    return signature


def _cast(values: _Array, spec: ColumnSpec, field: str) -> _Array:
    if values.ndim != len(spec.shape) or any(
        want not in (-1, got) for want, got in zip(spec.shape[1:], values.shape[1:], strict=True)
    ):
        raise InvalidInputError(
            f"column {spec.name} has shape {tuple(values.shape)}, the signature {spec.shape}",
            field=f"{field}.{spec.name}",
        )
    target = numpy_dtype(spec.type)
    if values.dtype.kind == "f" and target.kind in "iub" and not np.isfinite(values).all():
        raise InvalidInputError(
            f"column {spec.name} has missing or infinite values, which {spec.type} cannot hold",
            field=f"{field}.{spec.name}",
        )
    try:
        return values.astype(target, copy=False)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInputError(
            f"column {spec.name} does not convert to {spec.type}: {exc}",
            field=f"{field}.{spec.name}",
        ) from exc


def _match(named: _Named, signature: Signature, field: str) -> dict[str, _Array]:
    """The example's arrays under the signature's input names."""
    by_name = {name: values for name, values, _ in named if name is not None}
    wanted = [spec.name for spec in signature.inputs]
    if all(name in by_name for name in wanted):
        return {name: by_name[name] for name in wanted}
    if len(named) == 1 and len(wanted) == 1:
        return {wanted[0]: named[0][1]}
    scalar_inputs = all(spec.shape == (-1,) for spec in signature.inputs)
    if len(named) == 1 and scalar_inputs and named[0][1].ndim == 2:
        matrix = named[0][1]
        if matrix.shape[1] == len(wanted):
            return {name: matrix[:, index] for index, name in enumerate(wanted)}
    if len(wanted) == 1 and len(named) > 1 and all(values.ndim == 1 for _, values, _ in named):
        return {wanted[0]: np.column_stack([values for _, values, _ in named])}
    raise InvalidInputError(
        f"the example does not give the signature's inputs {', '.join(wanted)}", field=field
    )


def columns_from_example(
    example: object, signature: Signature, *, field: str = "input_example"
) -> dict[str, _Array]:
    """An example as the input columns of `signature`, each cast to its type.

    Columns are matched by name; an unnamed array is the single input, a 2-D array splits
    into scalar inputs and scalar columns stack into a single tensor input when the widths
    agree.

    Raises:
        InvalidInputError: An input is missing, has the wrong shape or does not convert.
    """
    matched = _match(_named_columns(example, field), signature, field)
    columns = {spec.name: _cast(matched[spec.name], spec, field) for spec in signature.inputs}
    rows = {len(values) for values in columns.values()}
    if len(rows) > 1:
        raise InvalidInputError("the example's columns differ in length", field=field)
    return columns
