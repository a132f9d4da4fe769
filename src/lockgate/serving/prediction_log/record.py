"""A prediction record: what the inference server logs for every request, and the JSON text
its inputs and outputs are stored as."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TypeAlias

import orjson

__all__ = ["UNENCODABLE_KEY", "JsonValue", "PredictionRecord", "PredictionStatus", "encode_json"]

JsonValue: TypeAlias = (
    str | int | float | bool | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
)
"""A value JSON can hold: scalars, lists and objects with string keys."""

UNENCODABLE_KEY = "lockgate_unencodable"
"""The key of the object stored instead of inputs or outputs that cannot be JSON at all."""


class PredictionStatus(StrEnum):
    """How a prediction ended."""

    OK = "ok"
    ERROR = "error"


_STATUSES = frozenset(PredictionStatus)


@dataclass(frozen=True, slots=True)
class PredictionRecord:
    """One prediction as the inference server saw it.

    `inputs` and `outputs` are JSON-compatible mappings (for example a column name to a list of
    values); the logger keeps a reference, so do not mutate them after logging. `outputs` is
    None when the prediction failed, and then `status` is `error` and `error` says why.
    """

    prediction_id: str
    model: str
    version: int
    timestamp: datetime
    latency_ms: float
    inputs: Mapping[str, JsonValue]
    outputs: Mapping[str, JsonValue] | None
    request_id: str | None = None
    status: PredictionStatus = PredictionStatus.OK
    error: str | None = None

    def __post_init__(self) -> None:
        # Checked here, cheaply, so that every record that exists can be stored: one that
        # could not would fail its batch at the sink again and again.
        if not (
            isinstance(self.prediction_id, str)
            and isinstance(self.model, str)
            and type(self.version) is int
            and 0 <= self.version < 2**63
            and isinstance(self.latency_ms, int | float)
            and isinstance(self.timestamp, datetime)
            and isinstance(self.request_id, str | None)
            and isinstance(self.error, str | None)
            and self.status in _STATUSES
        ):
            raise TypeError(
                "a prediction record with a field of the wrong type: prediction_id and model "
                "are strings, version an int from 0 to 2**63 - 1, latency_ms a number, "
                "timestamp a datetime, status a PredictionStatus, request_id and error "
                "strings or None"
            )
        if self.timestamp.tzinfo is None:
            raise ValueError("a prediction's timestamp must be timezone-aware UTC")
        if (self.status == PredictionStatus.ERROR) != (self.error is not None):
            raise ValueError("a prediction has error text exactly when its status is 'error'")


_ORJSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def encode_json(value: object) -> str:
    """Compact JSON text for a record's inputs or outputs; never raises.

    Array-likes with `tolist()` (numpy, pandas, pyarrow), other mappings and sequences, sets,
    dates and bytes (base64) are converted; any other leaf is written as its `str()`. NaN and
    infinities are written as `NaN`, `Infinity` and `-Infinity`, which Python's json reads back.
    A value that still cannot be encoded (a cycle, a non-string key of an unknown type) is
    replaced by `{"lockgate_unencodable": "<reason>"}` so the record itself is never lost.
    """
    try:
        fast = orjson.dumps(value, option=_ORJSON_OPTIONS)
    except (TypeError, ValueError):  # orjson.JSONEncodeError is a TypeError
        fast = None
    # orjson writes NaN and infinities as null: any null sends the value the exact way.
    if fast is not None and b"null" not in fast:
        return fast.decode()
    try:
        return json.dumps(value, default=_to_jsonable, separators=(",", ":"), allow_nan=True)
    except (TypeError, ValueError, RecursionError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return json.dumps({UNENCODABLE_KEY: reason}, separators=(",", ":"))


def _to_jsonable(value: object) -> object:
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Sequence | set | frozenset):
        return list(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
