"""Request bodies: media types, JSON parsing with errors that name the body, and the JSON
encoding (orjson, numpy arrays serialised natively) every encoder uses."""

from __future__ import annotations

from typing import Any

import orjson

from lockgate.domain.errors import InvalidInputError, UnsupportedMediaTypeError

__all__ = [
    "CSV_MEDIA_TYPE",
    "JSON_MEDIA_TYPE",
    "OCTET_STREAM_MEDIA_TYPE",
    "dump_json",
    "load_json",
    "media_type_of",
]

JSON_MEDIA_TYPE = "application/json"
CSV_MEDIA_TYPE = "text/csv"
OCTET_STREAM_MEDIA_TYPE = "application/octet-stream"

_DUMP_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


def load_json(body: bytes | bytearray | memoryview, field: str = "body") -> Any:
    """The parsed JSON document; InvalidInputError naming `field` when it is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"not valid JSON: {exc}", field=field) from None


def dump_json(document: object) -> bytes:
    """The document as compact JSON: numpy arrays (C-contiguous, native byte order) are
    serialised without a detour through Python lists; NaN and infinities become null."""
    return orjson.dumps(document, option=_DUMP_OPTIONS)


def media_type_of(content_type: str | bytes | None) -> tuple[str, dict[str, str]]:
    """A Content-Type header as its lower-cased media type and parameters.

    Raises:
        UnsupportedMediaTypeError: when the header is missing or empty.
    """
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    if not content_type or not content_type.strip():
        raise UnsupportedMediaTypeError("the request has no Content-Type", field="Content-Type")
    media_type, *parts = content_type.split(";")
    parameters: dict[str, str] = {}
    for part in parts:
        name, _, value = part.partition("=")
        if name.strip():
            parameters[name.strip().lower()] = value.strip().strip('"')
    return media_type.strip().lower(), parameters
