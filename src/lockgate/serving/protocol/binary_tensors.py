"""The binary tensor data extension of the Open Inference Protocol: raw little-endian tensors
after the JSON header, BOOL as one byte, BYTES as 4-byte-length-prefixed elements."""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError
from lockgate.serving.protocol.datatypes import OIP_DATATYPES

__all__ = [
    "BinarySection",
    "decode_tensor",
    "encode_bytes_elements",
    "encode_tensor",
    "header_length_of",
]

Array = npt.NDArray[Any]
HEADER_LENGTH_HEADER = "Inference-Header-Content-Length"
_LENGTH = struct.Struct("<I")


def header_length_of(value: int | str | bytes | None, body_length: int) -> int | None:
    """The value of the `Inference-Header-Content-Length` header as a JSON length that fits
    the body, or None when the header is absent."""
    if value is None:
        return None
    if isinstance(value, int):
        length: int | None = value
    else:
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        text = text.strip()
        # isascii too: isdigit() accepts digits such as '¹' that int() refuses.
        length = int(text) if text.isascii() and text.isdigit() else None
    if length is None or not 0 < length <= body_length:
        raise InvalidInputError(
            f"must be the length of the JSON header, between 1 and {body_length}",
            field=HEADER_LENGTH_HEADER,
        )
    return length


class BinarySection:
    """The bytes after the JSON header, taken tensor by tensor in the order of the inputs."""

    __slots__ = ("_data", "_offset")

    def __init__(self, data: memoryview) -> None:
        self._data = data
        self._offset = 0

    def take(self, size: int, field: str) -> memoryview:
        end = self._offset + size
        if end > len(self._data):
            raise InvalidInputError(
                f"binary_data_size {size} reaches past the end of the body "
                f"({len(self._data) - self._offset} binary bytes are left)",
                field=field,
            )
        chunk = self._data[self._offset : end]
        self._offset = end
        return chunk

    def check_consumed(self) -> None:
        left = len(self._data) - self._offset
        if left:
            raise InvalidInputError(
                f"{left} bytes after the JSON header belong to no input's binary_data_size",
                field="body",
            )


def decode_tensor(raw: memoryview, datatype: str, shape: tuple[int, ...], field: str) -> Array:
    """A tensor's binary data as an array of `shape` (a writable copy)."""
    count = math.prod(shape)
    if datatype == "BYTES":
        return _decode_bytes_elements(raw, count, field).reshape(shape)
    dtype = OIP_DATATYPES[datatype]
    if len(raw) != count * dtype.itemsize:
        raise InvalidInputError(
            f"binary_data_size is {len(raw)} bytes; shape {list(shape)} of {datatype} "
            f"takes {count * dtype.itemsize}",
            field=field,
        )
    if datatype == "BOOL":
        flags: Array = np.frombuffer(raw, dtype=np.uint8) != 0
        return flags.reshape(shape)
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _decode_bytes_elements(raw: memoryview, count: int, field: str) -> Array:
    cells: list[bytes] = []
    offset, end = 0, len(raw)
    while offset < end:
        if offset + 4 > end:
            raise InvalidInputError(
                f"BYTES element {len(cells)} is cut short in its length prefix", field=field
            )
        (length,) = _LENGTH.unpack_from(raw, offset)
        offset += 4
        if offset + length > end:
            raise InvalidInputError(
                f"BYTES element {len(cells)} declares {length} bytes; {end - offset} are left",
                field=field,
            )
        cells.append(bytes(raw[offset : offset + length]))
        offset += length
        if len(cells) > count:
            break
    if len(cells) != count:
        held = f"more than {count}" if len(cells) > count else str(len(cells))
        raise InvalidInputError(
            f"the binary data holds {held} BYTES elements; the shape needs {count}", field=field
        )
    array = np.empty(count, dtype=object)
    array[:] = cells
    return array


def encode_tensor(array: Array, datatype: str) -> bytes:
    """A tensor as binary data of `datatype`: row-major, little-endian, no padding. A BYTES
    tensor's cells are `bytes`, or text written as UTF-8."""
    if datatype == "BYTES":
        return encode_bytes_elements(_cell_bytes(cell) for cell in array.ravel().tolist())
    return np.ascontiguousarray(array, dtype=OIP_DATATYPES[datatype]).tobytes()


def encode_bytes_elements(cells: Iterable[bytes]) -> bytes:
    """BYTES elements, each after its 4-byte little-endian length."""
    parts: list[bytes] = []
    for cell in cells:
        parts.append(_LENGTH.pack(len(cell)))
        parts.append(cell)
    return b"".join(parts)


def _cell_bytes(cell: object) -> bytes:
    if isinstance(cell, bytes):
        return cell
    if isinstance(cell, str):
        return cell.encode("utf-8", "surrogatepass")
    return str(cell).encode("utf-8")
