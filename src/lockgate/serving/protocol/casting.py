"""The casting rules: decoded values (JSON lists, wire arrays) to the numpy dtype of a signature
type, refusing what would change a value's meaning; see docs/reference/serving-protocols.md."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError
from lockgate.serving.protocol.datatypes import DATETIME_DTYPE, SIGNATURE_DTYPES

__all__ = [
    "TextCodec",
    "accepts_kind",
    "array_of",
    "base64_bytes",
    "cast_array",
    "utf8_bytes",
    "values_to_array",
]

Array = npt.NDArray[Any]

TextCodec = Callable[[str], bytes]
"""How a protocol carries a `bytes` cell as JSON text (UTF-8 on OIP, base64 on /invocations)."""

# The source kinds a numeric target takes: bool widens to numbers, any integer to any integer
# (range-checked) and to floats, any float to any float (overflow-checked).
_ACCEPTED_KINDS = {"b": "b", "i": "biu", "u": "biu", "f": "biuf"}
_KIND_NAMES = {
    "b": "booleans",
    "i": "integers",
    "u": "integers",
    "f": "decimal numbers",
    "U": "text",
    "S": "bytes",
    "O": "mixed, null or nested values",
    "M": "datetimes",
    "m": "durations",
    "c": "complex numbers",
}


def accepts_kind(type_name: str, kind: str) -> bool:
    """Whether a column of signature type `type_name` takes values of numpy kind `kind` (text,
    bytes and objects are judged cell by cell later)."""
    target = SIGNATURE_DTYPES[type_name].kind
    if target in _ACCEPTED_KINDS:
        return kind in _ACCEPTED_KINDS[target]
    return kind in "OSUM"


_CELL_KINDS: dict[type, str] = {
    bool: "booleans",
    int: "integers",
    float: "decimal numbers",
    str: "text",
    type(None): "null",
}


def utf8_bytes(text: str) -> bytes:
    """A JSON string as the UTF-8 bytes it spells (OIP's BYTES in JSON)."""
    return text.encode("utf-8", "surrogatepass")


def base64_bytes(text: str) -> bytes:
    """A JSON string as the base64 encoding of bytes (MLflow's convention for binary columns)."""
    return base64.b64decode(text.encode("ascii"), validate=True)


def array_of(values: object, field: str) -> Array:
    """JSON values as an array of numpy's inferred dtype; a ragged nesting is refused."""
    try:
        return np.asarray(values)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise InvalidInputError(
            f"not a rectangular array: {_first_line(exc)}", field=field
        ) from None


def values_to_array(
    values: object, type_name: str | None, field: str, text_codec: TextCodec = utf8_bytes
) -> Array:
    """JSON values (a scalar or nested lists) as an array of the signature type `type_name`, or,
    when it is None, of the dtype the values imply (text as `str` objects, null as NaN)."""
    if type_name is not None and SIGNATURE_DTYPES[type_name].kind in "OM":
        # Object targets never go through numpy's inference, which would turn 1 into "1".
        try:
            objects = np.array(values, dtype=object)
        except (ValueError, TypeError, RecursionError) as exc:
            raise InvalidInputError(
                f"not a rectangular array: {_first_line(exc)}", field=field
            ) from None
        return cast_array(objects, type_name, field, text_codec)
    array = array_of(values, field)
    if (
        type_name is not None
        and array.dtype.kind == "f"
        and SIGNATURE_DTYPES[type_name].kind in "iu"
    ):
        # numpy infers float64 for a mix of int64 and uint64-sized ints: look at the values.
        array = np.array(values, dtype=object)
    return cast_array(array, type_name, field, text_codec)


def cast_array(
    array: Array, type_name: str | None, field: str, text_codec: TextCodec = utf8_bytes
) -> Array:
    """An array cast to the dtype of the signature type `type_name` by the casting rules; with
    None, only normalised (text to `str` objects, a column with nulls to float64 with NaN)."""
    if type_name is None:
        return _normalised(array, field)
    target = SIGNATURE_DTYPES[type_name]
    if array.dtype == target and target.kind != "O":
        return array
    if target.kind in _ACCEPTED_KINDS:
        return _to_number(array, target, field)
    if type_name == "string":
        return _to_text(array, field)
    if type_name == "bytes":
        return _to_bytes(array, field, text_codec)
    return _to_datetime(array, field)


def _normalised(array: Array, field: str) -> Array:
    kind = array.dtype.kind
    if kind in "biufM":
        return array
    if kind == "U":
        return array.astype(object)
    if kind == "O":
        cells = array.ravel().tolist()
        if all(type(cell) is str for cell in cells):
            return array
        if all(cell is None or type(cell) in (int, float) for cell in cells):
            return _objects_to_number(array, np.dtype(np.float64), field)
    raise InvalidInputError(f"the values are {_KIND_NAMES.get(kind, kind)}", field=field)


def _to_number(array: Array, target: np.dtype[Any], field: str) -> Array:
    kind = array.dtype.kind
    if kind not in _ACCEPTED_KINDS[target.kind]:
        if kind == "O":
            return _objects_to_number(array, target, field)
        raise _refused(array, target, field)
    if target.kind == "f":
        return _to_float(array, target, field)
    if kind != "b" and not np.can_cast(array.dtype, target):
        _check_integer_range(array, target, field)
    return array.astype(target)


def _objects_to_number(array: Array, target: np.dtype[Any], field: str) -> Array:
    """Object arrays come from JSON with nulls (NaN in a float column) or integers past int64."""
    cells = array.ravel().tolist()
    if target.kind == "f":
        allowed: tuple[type, ...] = (int, float, bool, type(None))
    elif target.kind in "iu":
        allowed = (int, bool)
    else:
        allowed = (bool,)
    for index, cell in enumerate(cells):
        if type(cell) not in allowed:
            raise InvalidInputError(
                f"{_CELL_KINDS.get(type(cell), 'nested values')} where {target.name} is "
                f"declared (cell {index})",
                field=field,
            )
    try:
        values = np.array(cells, dtype=np.float64 if target.kind == "f" else target)
    except OverflowError:
        raise InvalidInputError(
            f"a value is out of the range of {target.name}", field=field
        ) from None
    values = values.reshape(array.shape)
    return _to_float(values, target, field) if target.kind == "f" else values


def _to_float(array: Array, target: np.dtype[Any], field: str) -> Array:
    if array.dtype == target:
        return array
    with np.errstate(over="ignore", invalid="ignore"):
        result = array.astype(target)
    if target.itemsize < 8:
        overflowed = np.isinf(result)
        if array.dtype.kind == "f":
            overflowed &= ~np.isinf(array)
        if overflowed.any():
            raise InvalidInputError(f"a value is out of the range of {target.name}", field=field)
    return result


def _check_integer_range(array: Array, target: np.dtype[Any], field: str) -> None:
    if array.size == 0:
        return
    limits = np.iinfo(target)
    if int(array.min()) < limits.min or int(array.max()) > limits.max:
        raise InvalidInputError(
            f"a value is out of the range of {target.name} [{limits.min}, {limits.max}]",
            field=field,
        )


def _to_text(array: Array, field: str) -> Array:
    kind = array.dtype.kind
    if kind == "U":
        return array.astype(object)
    if kind not in "OS":
        raise InvalidInputError(
            f"{_KIND_NAMES.get(kind, kind)} where string is declared", field=field
        )
    return _map_cells(array, _text_of, "text", field)


def _text_of(cell: object) -> str:
    if type(cell) is str:
        return cell
    if isinstance(cell, bytes | np.bytes_):
        return bytes(cell).decode("utf-8")
    raise TypeError(type(cell).__name__)


def _to_bytes(array: Array, field: str, text_codec: TextCodec) -> Array:
    kind = array.dtype.kind
    if kind not in "OSU":
        raise InvalidInputError(
            f"{_KIND_NAMES.get(kind, kind)} where bytes is declared", field=field
        )

    def bytes_of(cell: object) -> bytes:
        if isinstance(cell, bytes | np.bytes_):
            return bytes(cell)
        if isinstance(cell, str):
            return text_codec(cell)
        raise TypeError(type(cell).__name__)

    return _map_cells(array, bytes_of, "bytes", field)


def _to_datetime(array: Array, field: str) -> Array:
    kind = array.dtype.kind
    if kind == "M":
        return array.astype(DATETIME_DTYPE)
    if kind not in "OSU":
        raise InvalidInputError(
            f"{_KIND_NAMES.get(kind, kind)} where datetime is declared", field=field
        )
    moments = _map_cells(array, _moment_of, "ISO 8601 datetimes", field)
    return moments.astype(DATETIME_DTYPE)


def _moment_of(cell: object) -> datetime:
    moment = datetime.fromisoformat(_text_of(cell))
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _map_cells(array: Array, convert: Callable[[object], object], what: str, field: str) -> Array:
    """Each cell converted; a cell `convert` refuses (TypeError, ValueError) fails the column."""
    result = np.empty(array.shape, dtype=object)
    flat = result.reshape(-1)
    index = 0
    try:
        for cell in array.ravel().tolist():
            flat[index] = convert(cell)
            index += 1
    except (TypeError, ValueError, OverflowError, binascii.Error) as exc:
        raise InvalidInputError(
            f"expected {what}; cell {index} is not ({_first_line(exc)})", field=field
        ) from None
    return result


def _refused(array: Array, target: np.dtype[Any], field: str) -> InvalidInputError:
    kind = array.dtype.kind
    return InvalidInputError(
        f"{_KIND_NAMES.get(kind, kind)} where {target.name} is declared", field=field
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
