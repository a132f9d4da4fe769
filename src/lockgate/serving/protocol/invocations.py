"""MLflow's scoring protocol, `POST /invocations`: JSON bodies with exactly one of
`dataframe_split`, `dataframe_records`, `instances` or `inputs`, or a `text/csv` table; the
response is `{"predictions": ...}`."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError, UnsupportedMediaTypeError
from lockgate.serving.flavors.base import Columns
from lockgate.serving.protocol.casting import base64_bytes
from lockgate.serving.protocol.csv_table import columns_from_csv
from lockgate.serving.protocol.datatypes import datetime_text
from lockgate.serving.protocol.media import (
    CSV_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    dump_json,
    load_json,
    media_type_of,
)
from lockgate.serving.protocol.tabular import (
    columns_from_lists,
    columns_from_records,
    columns_from_rows,
)
from lockgate.serving.protocol.validation import (
    TENSOR_INPUT,
    ColumnPlan,
    SignaturePlan,
    check_names,
    check_rows,
    column_from_values,
    names_text,
)

__all__ = [
    "INVOCATION_FORMATS",
    "decode_invocations",
    "decode_invocations_document",
    "encode_predictions",
]

Array = npt.NDArray[Any]

INVOCATION_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
"""The keys of a JSON body, of which a request carries exactly one."""

_FORMAT_HINT = f"a JSON object with exactly one of {', '.join(INVOCATION_FORMATS)}"


def decode_invocations(
    plan: SignaturePlan, body: bytes, content_type: str | bytes | None
) -> Columns:
    """Decode `POST /invocations` by its Content-Type: `application/json` or `text/csv`, UTF-8.

    Raises:
        UnsupportedMediaTypeError: another media type or charset (field `Content-Type`).
        InvalidInputError: naming the field at fault (`dataframe_split.columns`,
            `inputs.age`...); PayloadTooLargeError for more rows than the plan allows.
    """
    media_type, parameters = media_type_of(content_type)
    charset = parameters.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8") or set(parameters) - {"charset"}:
        raise UnsupportedMediaTypeError(
            f"only UTF-8 bodies are taken, not {content_type!r}", field="Content-Type"
        )
    if media_type == JSON_MEDIA_TYPE:
        return decode_invocations_document(plan, load_json(body))
    if media_type == CSV_MEDIA_TYPE:
        return columns_from_csv(plan, body)
    raise UnsupportedMediaTypeError(
        f"/invocations takes {JSON_MEDIA_TYPE} or {CSV_MEDIA_TYPE}, not {media_type}",
        field="Content-Type",
    )


def decode_invocations_document(plan: SignaturePlan, document: object) -> Columns:
    """Decode a parsed JSON body of `POST /invocations`."""
    if type(document) is not dict:
        raise InvalidInputError(f"the body must be {_FORMAT_HINT}", field="body")
    keys = [key for key in document if key in INVOCATION_FORMATS]
    if len(keys) != 1:
        raise InvalidInputError(
            f"the body must be {_FORMAT_HINT}; it has {names_text(document) or 'none'}",
            field="body",
        )
    for key, value in document.items():
        if key == "params" and value not in (None, {}):
            raise InvalidInputError(
                "inference parameters are not supported: Lockgate models take none",
                field="params",
            )
        if key != "params" and key not in INVOCATION_FORMATS:
            raise InvalidInputError(f"unknown key; expected {_FORMAT_HINT}", field=key)
    key = keys[0]
    value = document[key]
    if key == "dataframe_split":
        return _from_split(plan, value)
    if key == "dataframe_records":
        return columns_from_records(plan, value, field=key, text_codec=base64_bytes)
    if type(value) is list and value and type(value[0]) is dict:
        return columns_from_records(plan, value, field=key, text_codec=base64_bytes)
    if key == "inputs" and type(value) is dict:
        return _from_columnar(plan, value)
    return _from_tensor(plan, value, key)


def _from_split(plan: SignaturePlan, value: object) -> Columns:
    field = "dataframe_split"
    if type(value) is not dict:
        raise InvalidInputError("expected an object with columns and data", field=field)
    for key in value:
        if key not in ("columns", "data", "index"):
            raise InvalidInputError(
                "unknown key; expected columns, data, index", field=f"{field}.{key}"
            )
    names = value.get("columns")
    if type(names) is not list or not names or not all(type(name) is str for name in names):
        raise InvalidInputError(
            "expected a non-empty list of column names", field=f"{field}.columns"
        )
    if len(set(names)) != len(names):
        raise InvalidInputError("a column name appears twice", field=f"{field}.columns")
    if plan.signature is None:
        order = [ColumnPlan.open(name) for name in names]
    else:
        check_names(
            plan,
            names,
            unknown_field=lambda _: f"{field}.columns",
            missing_field=f"{field}.columns",
        )
        order = [plan.input_index[name] for name in names]
    columns = columns_from_rows(
        plan,
        order,
        value.get("data"),
        rows_field=f"{field}.data",
        field_of=lambda name: f"{field}.data.{name}",
        text_codec=base64_bytes,
    )
    index = value.get("index")
    if index is not None and (type(index) is not list or len(index) != len(value["data"])):
        raise InvalidInputError("the index must list one label per row", field=f"{field}.index")
    return columns


def _from_columnar(plan: SignaturePlan, value: dict[str, object]) -> Columns:
    """`inputs` as an object of column name to the column's values (rows first)."""
    if not value:
        raise InvalidInputError("no input columns", field="inputs")
    if not any(type(values) is list for values in value.values()):
        value = {name: [cell] for name, cell in value.items()}  # one row given as scalars
    check_names(
        plan, value.keys(), unknown_field=lambda name: f"inputs.{name}", missing_field="inputs"
    )
    if plan.matrix_type is not None:
        matrix = columns_from_lists(plan, plan.inputs, [value[name] for name in plan.input_names])
        if matrix is not None:
            plan.check_row_count(matrix.matrix.shape[0], "inputs")
            return matrix
    columns = {}
    for name, values in value.items():
        column = plan.input_or_open(name)
        if column is None:  # pragma: no cover - check_names refused unknown names
            raise InvalidInputError("not an input of the model", field=f"inputs.{name}")
        columns[name] = column_from_values(column, values, f"inputs.{name}", base64_bytes)
    return check_rows(plan, columns, lambda name: f"inputs.{name}")


def _from_tensor(plan: SignaturePlan, value: object, field: str) -> Columns:
    """`instances` or `inputs` as one tensor: the model's only input, or rows of the model's
    scalar columns in signature order."""
    if plan.signature is None or len(plan.inputs) == 1:
        column = plan.inputs[0] if plan.inputs else ColumnPlan.open(TENSOR_INPUT)
        array = column_from_values(column, value, field, base64_bytes)
        return check_rows(plan, {column.name: array}, lambda _: field)
    if not all(column.is_scalar for column in plan.inputs):
        raise InvalidInputError(
            f"the model has several inputs ({names_text(plan.input_names)}): send an object of "
            "input name to tensor",
            field=field,
        )
    return columns_from_rows(
        plan,
        plan.inputs,
        value,
        rows_field=field,
        field_of=lambda name: f"{field}.{name}",
        text_codec=base64_bytes,
    )


def encode_predictions(plan: SignaturePlan, outputs: Mapping[str, Array]) -> bytes:
    """The `application/json` response body: `{"predictions": [...]}` with the values of a
    single output, or one object per row keyed by output name when there are several.
    Bytes become base64 text, datetimes ISO 8601 text in UTC, NaN null."""
    names = [column.name for column in plan.outputs if column.name in outputs]
    names += [name for name in outputs if name not in plan.output_index]
    if len(names) == 1:
        return dump_json({"predictions": _jsonable(np.asarray(outputs[names[0]]))})
    lists = [_as_list(np.asarray(outputs[name])) for name in names]
    rows = [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]
    return dump_json({"predictions": rows})


def _jsonable(array: Array) -> object:
    kind = array.dtype.kind
    if kind in "biuf" and array.dtype.isnative:
        return np.ascontiguousarray(array)
    return _as_list(array)


def _as_list(array: Array) -> list[Any]:
    kind = array.dtype.kind
    if kind == "M":
        array = datetime_text(array)
    elif kind in "OS":
        array = _text_cells(array)
    values: list[Any] = array.tolist()
    return values


def _text_cells(array: Array) -> Array:
    result = np.empty(array.shape, dtype=object)
    flat = result.reshape(-1)
    for index, cell in enumerate(array.ravel().tolist()):
        flat[index] = base64.b64encode(cell).decode("ascii") if isinstance(cell, bytes) else cell
    return result
