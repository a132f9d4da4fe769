"""The `inputs` of an Open Inference Protocol request: each tensor read and checked, then
matched to the signature's columns (one tensor per column, or one tensor for them all)."""

from __future__ import annotations

import math
import operator
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError
from lockgate.serving.flavors.base import Columns
from lockgate.serving.protocol.binary_tensors import BinarySection, decode_tensor
from lockgate.serving.protocol.casting import accepts_kind, cast_array, values_to_array
from lockgate.serving.protocol.datatypes import OIP_DATATYPES
from lockgate.serving.protocol.tabular import flat_lists, matrix_columns, signature_ordered
from lockgate.serving.protocol.validation import (
    ColumnPlan,
    SignaturePlan,
    check_names,
    check_rows,
    names_text,
)

__all__ = ["WIRE_TYPES", "WireTensor", "named_matrix", "read_tensors", "tensors_to_columns"]

Array = npt.NDArray[Any]

WIRE_TYPES = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "bytes",
}
"""The signature type each datatype decodes to when no signature says otherwise."""

_MAX_DIMENSIONS = 32
_JSON_FIELDS = operator.itemgetter("name", "datatype", "shape", "data")
_BINARY_FIELDS = operator.itemgetter("name", "datatype", "shape", "parameters")
_NUMERIC_DATATYPES = frozenset(WIRE_TYPES) - {"BYTES"}


class WireTensor(NamedTuple):
    """An input tensor as sent: JSON `data`, or `array` decoded from binary tensor data."""

    position: int
    name: str
    datatype: str
    shape: tuple[int, ...]
    data: object = None
    array: Array | None = None

    @property
    def where(self) -> str:
        return f"inputs[{self.position}]"


def read_tensors(value: object, binary: BinarySection, *, has_binary: bool) -> list[WireTensor]:
    """The request's `inputs`, each checked on its own (name, datatype, shape, data size)."""
    if type(value) is not list or not value:
        raise InvalidInputError("inputs must be a non-empty list of tensors", field="inputs")
    tensors: list[WireTensor] = []
    names: set[str] = set()
    for index, entry in enumerate(value):
        tensor = _read_tensor(index, entry, binary, has_binary)
        if tensor.name in names:
            raise InvalidInputError(
                f"input {tensor.name!r} appears twice", field=f"{tensor.where}.name"
            )
        names.add(tensor.name)
        tensors.append(tensor)
    return tensors


def _read_tensor(index: int, entry: object, binary: BinarySection, has_binary: bool) -> WireTensor:
    where = f"inputs[{index}]"
    if type(entry) is not dict:
        raise InvalidInputError(
            "a tensor is an object with name, shape, datatype, data", field=where
        )
    name = entry.get("name")
    if type(name) is not str or not name:
        raise InvalidInputError("a tensor needs a name", field=f"{where}.name")
    datatype = entry.get("datatype")
    if type(datatype) is not str or datatype not in OIP_DATATYPES:
        raise InvalidInputError(
            f"datatype must be one of {', '.join(OIP_DATATYPES)}", field=f"{where}.datatype"
        )
    shape = _shape_of(entry.get("shape"), f"{where}.shape")
    size = _binary_size_of(entry.get("parameters"), where)
    if size is None:
        if "data" not in entry:
            raise InvalidInputError("the tensor has no data", field=f"{where}.data")
        return WireTensor(index, name, datatype, shape, data=entry["data"])
    if not has_binary:
        raise InvalidInputError(
            "binary_data_size needs the Inference-Header-Content-Length header",
            field=f"{where}.parameters.binary_data_size",
        )
    if "data" in entry:
        raise InvalidInputError(
            "a tensor sent as binary data has no data field", field=f"{where}.data"
        )
    field = f"{where}.parameters.binary_data_size"
    array = decode_tensor(binary.take(size, field), datatype, shape, field)
    return WireTensor(index, name, datatype, shape, array=array)


def _shape_of(value: object, field: str) -> tuple[int, ...]:
    if (
        type(value) is not list
        or not 0 < len(value) <= _MAX_DIMENSIONS
        or not all(type(d) is int and d >= 0 for d in value)
    ):
        raise InvalidInputError(
            "shape is a list of 1 to 32 non-negative integers, rows first", field=field
        )
    return tuple(value)


def _binary_size_of(parameters: object, where: str) -> int | None:
    if parameters is None:
        return None
    if type(parameters) is not dict:
        raise InvalidInputError("parameters must be an object", field=f"{where}.parameters")
    if "shared_memory_region" in parameters:
        raise InvalidInputError(
            "shared memory is not supported", field=f"{where}.parameters.shared_memory_region"
        )
    size = parameters.get("binary_data_size")
    if size is not None and (type(size) is not int or size < 0):
        raise InvalidInputError(
            "must be a non-negative integer", field=f"{where}.parameters.binary_data_size"
        )
    return size


def tensors_to_columns(plan: SignaturePlan, tensors: list[WireTensor]) -> Columns:
    """The tensors as the model's input columns, checked and cast against the plan."""
    if plan.signature is not None:
        if len(tensors) == 1 and tensors[0].name not in plan.input_index:
            return _single_tensor(plan, tensors[0])
        position = {tensor.name: tensor.position for tensor in tensors}
        check_names(
            plan,
            position.keys(),
            unknown_field=lambda name: f"inputs[{position[name]}].name",
            missing_field="inputs",
        )
    columns = {}
    for tensor in tensors:
        column = plan.input_or_open(tensor.name, WIRE_TYPES[tensor.datatype])
        if column is None:  # pragma: no cover - check_names refused unknown names
            raise InvalidInputError("not an input of the model", field=f"{tensor.where}.name")
        columns[tensor.name] = _tensor_column(column, tensor)
    return check_rows(plan, columns, lambda name: f"inputs[{_position_of(tensors, name)}].shape")


def _position_of(tensors: list[WireTensor], name: str) -> int:
    return next(tensor.position for tensor in tensors if tensor.name == name)


def _tensor_column(column: ColumnPlan, tensor: WireTensor) -> Array:
    where = tensor.where
    if column.type is not None and not _can_carry(tensor.datatype, column.type):
        raise InvalidInputError(
            f"{tensor.datatype} cannot carry input {column.name!r} of type {column.type}",
            field=f"{where}.datatype",
        )
    if tensor.array is None and tensor.datatype == "BYTES":
        # JSON strings go straight to the column's type (text, bytes as UTF-8, datetimes).
        array = _sized(
            values_to_array(tensor.data, column.type or "bytes", f"{where}.data"), tensor
        )
    else:
        array = cast_array(_wire_array(tensor), column.type, f"{where}.data")
    return column.check_shape(array, f"{where}.shape")


def _can_carry(datatype: str, type_name: str) -> bool:
    if datatype == "BYTES":
        return accepts_kind(type_name, "O")
    return accepts_kind(type_name, OIP_DATATYPES[datatype].kind)


def _wire_array(tensor: WireTensor) -> Array:
    """The tensor as an array of its own datatype and shape."""
    if tensor.array is not None:
        return tensor.array
    values = values_to_array(tensor.data, WIRE_TYPES[tensor.datatype], f"{tensor.where}.data")
    return _sized(values, tensor)


def _sized(array: Array, tensor: WireTensor) -> Array:
    count = math.prod(tensor.shape)
    if array.size != count:
        raise InvalidInputError(
            f"data holds {array.size} values; shape {list(tensor.shape)} needs {count}",
            field=f"{tensor.where}.data",
        )
    return array.reshape(tensor.shape)


def _single_tensor(plan: SignaturePlan, tensor: WireTensor) -> Columns:
    """One tensor for a model with one input, or a [rows, k] matrix for k scalar columns."""
    where = tensor.where
    if len(plan.inputs) == 1:
        column = plan.inputs[0]
        return check_rows(
            plan, {column.name: _tensor_column(column, tensor)}, lambda _: f"{where}.shape"
        )
    if not all(column.is_scalar for column in plan.inputs):
        raise InvalidInputError(
            f"{tensor.name!r} is not an input of the model; its inputs are "
            f"{names_text(plan.input_names)}",
            field=f"{where}.name",
        )
    width = len(plan.inputs)
    if len(tensor.shape) != 2 or tensor.shape[1] != width:
        raise InvalidInputError(
            f"one tensor for the model's {width} columns has shape [rows, {width}]",
            field=f"{where}.shape",
        )
    plan.check_row_count(tensor.shape[0], f"{where}.shape")
    wire = _wire_array(tensor)
    columns = matrix_columns(plan, plan.inputs, wire)
    if columns is not None:
        return columns
    return {
        column.name: _matrix_column(column, tensor, wire[:, position])
        for position, column in enumerate(plan.inputs)
    }


def _matrix_column(column: ColumnPlan, tensor: WireTensor, values: Array) -> Array:
    if not _can_carry(tensor.datatype, column.type or "bytes"):
        raise InvalidInputError(
            f"{tensor.datatype} cannot carry input {column.name!r} of type {column.type}",
            field=f"{tensor.where}.datatype",
        )
    return cast_array(np.ascontiguousarray(values), column.type, f"{tensor.where}.data")


def named_matrix(plan: SignaturePlan, value: object, binary: memoryview | None) -> Columns | None:
    """The fast path, on the raw `inputs`: one tensor per scalar column, all of one numeric
    datatype and shape [rows] (or [rows, 1]), all in JSON without parameters, or all binary
    (`binary` holds the bytes after the JSON) with only `binary_data_size`: read as one
    matrix. None when the request is anything else; the general path then checks it."""
    if plan.matrix_type is None or type(value) is not list or len(value) != len(plan.inputs):
        return None
    try:
        if set(map(len, value)) != {4}:
            return None
        fields = _BINARY_FIELDS if binary is not None else _JSON_FIELDS
        names, datatypes, shapes, payloads = zip(*map(fields, value), strict=True)
        datatype, shape = datatypes[0], shapes[0]
        if (
            datatype not in _NUMERIC_DATATYPES
            or datatypes.count(datatype) != len(datatypes)
            or shapes.count(shape) != len(shapes)
            or type(shape) is not list
            or set(names) != plan.input_name_set
        ):
            return None
        rows = _rows_of_scalar_shape(shape)
        if rows is None:
            return None
        if binary is None:
            matrix = _json_matrix(payloads, rows)
        else:
            matrix = _binary_matrix(payloads, binary, datatype, rows)
        if matrix is None:
            return None
        matrix = cast_array(matrix, WIRE_TYPES[datatype], "")
        matrix = cast_array(matrix, plan.matrix_type, "")
    except (KeyError, ValueError, TypeError, OverflowError, InvalidInputError):
        return None
    plan.check_row_count(rows, "inputs[0].shape")
    return signature_ordered(plan, names, matrix)


def _json_matrix(payloads: tuple[object, ...], rows: int) -> Array | None:
    matrix = flat_lists(payloads, rows)
    if matrix.size != len(payloads) * rows or matrix.dtype.kind not in "biuf":
        return None
    return matrix.reshape(len(payloads), rows)


def _binary_matrix(
    parameters: tuple[object, ...], binary: memoryview, datatype: str, rows: int
) -> Array | None:
    """Equal-sized binary tensors lie back to back: the whole binary part is the matrix."""
    size = rows * OIP_DATATYPES[datatype].itemsize
    first = parameters[0]
    if (
        type(first) is not dict
        or first != {"binary_data_size": size}
        or type(first["binary_data_size"]) is not int
        or parameters.count(parameters[0]) != len(parameters)
        or len(binary) != size * len(parameters)
    ):
        return None
    return decode_tensor(binary, datatype, (len(parameters), rows), "")


def _rows_of_scalar_shape(shape: list[object]) -> int | None:
    rows = shape[0] if shape else None
    if type(rows) is not int or rows < 0 or shape not in ([rows], [rows, 1]):
        return None
    return rows
