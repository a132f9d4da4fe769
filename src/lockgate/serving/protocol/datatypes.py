"""The one table between signature types, numpy dtypes and Open Inference Protocol datatypes."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from lockgate.serving.signature import NUMPY_DTYPES

__all__ = [
    "DATETIME_DTYPE",
    "OIP_DATATYPES",
    "OIP_DATATYPE_OF_TYPE",
    "SIGNATURE_DTYPES",
    "datetime_text",
    "oip_datatype_of",
]

DATETIME_DTYPE = NUMPY_DTYPES["datetime"]
"""A `datetime` column: microseconds, naive, meaning UTC."""

SIGNATURE_DTYPES: MappingProxyType[str, np.dtype[Any]] = MappingProxyType(dict(NUMPY_DTYPES))
"""The numpy dtype of a column of each signature type (`lockgate.domain.registry.TENSOR_TYPES`),
the one table of `lockgate.serving.signature`."""

OIP_DATATYPES: MappingProxyType[str, np.dtype[Any]] = MappingProxyType(
    {
        "BOOL": np.dtype(np.bool_),
        "UINT8": np.dtype("<u1"),
        "UINT16": np.dtype("<u2"),
        "UINT32": np.dtype("<u4"),
        "UINT64": np.dtype("<u8"),
        "INT8": np.dtype("<i1"),
        "INT16": np.dtype("<i2"),
        "INT32": np.dtype("<i4"),
        "INT64": np.dtype("<i8"),
        "FP16": np.dtype("<f2"),
        "FP32": np.dtype("<f4"),
        "FP64": np.dtype("<f8"),
        "BYTES": np.dtype(object),
    }
)
"""Each Open Inference Protocol datatype and its little-endian numpy dtype (the byte order of
the binary tensor data extension); BYTES elements are Python `bytes` objects."""

OIP_DATATYPE_OF_TYPE: MappingProxyType[str, str] = MappingProxyType(
    {
        "bool": "BOOL",
        "int8": "INT8",
        "int16": "INT16",
        "int32": "INT32",
        "int64": "INT64",
        "uint8": "UINT8",
        "uint16": "UINT16",
        "uint32": "UINT32",
        "uint64": "UINT64",
        "float16": "FP16",
        "float32": "FP32",
        "float64": "FP64",
        "string": "BYTES",
        "bytes": "BYTES",
        "datetime": "BYTES",  # ISO 8601 text, UTC
    }
)
"""The datatype a column of each signature type has on the Open Inference Protocol wire."""

_OIP_DATATYPE_OF_KIND_SIZE: dict[tuple[str, int], str] = {
    (kind, dtype.itemsize): name
    for name, dtype in OIP_DATATYPES.items()
    if (kind := dtype.kind) != "O"
}


def oip_datatype_of(array: npt.NDArray[Any]) -> str:
    """The wire datatype of an array: its numeric type, or BYTES for text, bytes, datetimes and
    other objects."""
    return _OIP_DATATYPE_OF_KIND_SIZE.get((array.dtype.kind, array.dtype.itemsize), "BYTES")


def datetime_text(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Datetimes as ISO 8601 text in UTC (`2024-05-01T12:00:00.000000Z`), `str` objects."""
    return np.datetime_as_string(array, unit="us", timezone="UTC").astype(object)
