"""What the prediction log takes: a batch of predictions as columns (what the inference server
logs for each batch it scores), or one prediction as a record; and the JSON text stored for
values that have no Arrow type."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import orjson

from lockgate.domain.identity import to_micros

__all__ = [
    "UNENCODABLE_KEY",
    "Array",
    "ColumnMatrix",
    "JsonValue",
    "PredictionBatch",
    "PredictionRecord",
    "PredictionStatus",
    "Scored",
    "Ticket",
    "column_matrix",
    "encode_json",
]

Array: TypeAlias = npt.NDArray[Any]

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
        if not self.model:
            raise ValueError("a prediction names its model")


Ticket: TypeAlias = tuple[str, float, str | None]
"""One request of a scored batch: its prediction id, when it started (`time.perf_counter()`
seconds), and its HTTP request id."""

Scored: TypeAlias = tuple[
    str, int, int, float, Sequence[Ticket], Sequence[int], "Mapping[str, Array]",
    "Mapping[str, Array] | None", str | None,
]  # fmt: skip
"""A batch as the inference server hands it over, to be made a `PredictionBatch` off the
request path: model, version, timestamp (microseconds), when it was answered
(`time.perf_counter()` seconds), the tickets, each one's rows, inputs, outputs, error."""


class ColumnMatrix(Mapping[str, "Array"]):
    """Columns held as one (columns, rows) array, `by_column`, whose rows are the columns of
    `names` in order: the cheapest form of a batch's inputs to hold and to store. As a
    mapping, each name gives its row of `by_column`; `matrix` is the (rows, columns) view."""

    __slots__ = ("by_column", "names")

    def __init__(self, names: Sequence[str], by_column: Array) -> None:
        if by_column.ndim != 2 or len(by_column) != len(names):
            raise ValueError("a column matrix has one row per name")
        self.names = names
        self.by_column = by_column

    @property
    def matrix(self) -> Array:
        return self.by_column.T

    def __getitem__(self, name: str) -> Array:
        try:
            row: Array = self.by_column[list(self.names).index(name)]
            return row
        except ValueError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


@dataclass(frozen=True, slots=True)
class PredictionBatch:
    """Predictions of one model version answered together, with their inputs and outputs as
    columns: what the inference server logs for each batch it scores.

    `rows[i]` is how many rows the i-th prediction had; every column of `inputs` and `outputs`
    holds all the predictions' rows one after another (its first axis has `sum(rows)` entries).
    A mapping of columns may carry them as one matrix too: an attribute `matrix`, a
    (rows, columns) array whose columns are the mapping's values in order (the server's
    decoded requests do); then they are stored from the matrix, at a cost per batch instead of
    per column.
    A failed batch has no `outputs` and its `error` says why. `timestamp` is when the batch was
    answered, in microseconds since the Unix epoch (UTC), or one such time per prediction. The logger keeps references to the
    arrays: do not change them after logging.
    """

    model: str
    version: int
    timestamp: int | Sequence[int]
    prediction_ids: Sequence[str]
    latencies_ms: Sequence[float]
    request_ids: Sequence[str | None]
    rows: Sequence[int]
    inputs: Mapping[str, Array]
    outputs: Mapping[str, Array] | None
    error: str | None = None

    def __post_init__(self) -> None:
        # As cheap as it can be: the server makes one of these for every batch it scores.
        count = len(self.prediction_ids)
        if not (
            isinstance(self.model, str)
            and self.model
            and type(self.version) is int
            and 0 <= self.version < 2**63
            and (isinstance(self.timestamp, int) or len(self.timestamp) == count)
            and isinstance(self.error, str | None)
        ):
            raise TypeError(
                "a prediction batch with a field of the wrong type: model a non-empty string, "
                "version an int from 0 to 2**63 - 1, timestamp int microseconds (or one per "
                "prediction), error a string or None"
            )
        if not count or count != len(self.latencies_ms) or count != len(self.request_ids):
            raise ValueError("a prediction batch has one id, latency and request id per prediction")
        if count != len(self.rows):
            raise ValueError("a prediction batch has one row count per prediction")
        if (self.outputs is None) != (self.error is not None):
            raise ValueError("a prediction batch has error text exactly when it has no outputs")
        total = sum(self.rows)
        _check_columns("inputs", self.inputs, total)
        if self.outputs is not None:
            _check_columns("outputs", self.outputs, total)

    def __len__(self) -> int:
        return len(self.prediction_ids)

    @property
    def status(self) -> PredictionStatus:
        """`error` when the batch failed, else `ok`."""
        return PredictionStatus.OK if self.error is None else PredictionStatus.ERROR

    @classmethod
    def scored(cls, scored: Scored) -> PredictionBatch:
        """The batch a `Scored` tuple describes. Inputs that carry their matrix and names (the
        server's decoded requests) are held as a `ColumnMatrix`."""
        model, version, timestamp, answered, tickets, rows, inputs, outputs, error = scored
        matrix = column_matrix(inputs)
        names = getattr(inputs, "names", None)
        if matrix is not None and names is not None and type(inputs) is not ColumnMatrix:
            inputs = ColumnMatrix(names, matrix.T)
        return cls(
            model=model,
            version=version,
            timestamp=timestamp,
            prediction_ids=[ticket[0] for ticket in tickets],
            latencies_ms=[(answered - ticket[1]) * 1000.0 for ticket in tickets],
            request_ids=[ticket[2] for ticket in tickets],
            rows=rows,
            inputs=inputs,
            outputs=outputs,
            error=error,
        )

    @classmethod
    def merged(cls, run: Sequence[Scored]) -> PredictionBatch:
        """One batch of `Scored` tuples that share model, version, input matrix layout and
        output layout, all answered: their matrices are joined once, not batch by batch."""
        first = run[0]
        if len(run) == 1:
            return cls.scored(first)
        inputs = first[6]
        if not isinstance(inputs, ColumnMatrix) or first[7] is None:
            raise TypeError("only answered batches with a ColumnMatrix of inputs are merged")
        outputs = {
            name: np.concatenate([scored[7][name] for scored in run])  # type: ignore[index]
            for name in first[7]
        }
        by_column = np.concatenate([scored[6].by_column for scored in run], axis=1)  # type: ignore[attr-defined]
        return cls(
            model=first[0],
            version=first[1],
            timestamp=[scored[2] for scored in run for _ in scored[4]],
            prediction_ids=[ticket[0] for scored in run for ticket in scored[4]],
            latencies_ms=[
                (scored[3] - ticket[1]) * 1000.0 for scored in run for ticket in scored[4]
            ],
            request_ids=[ticket[2] for scored in run for ticket in scored[4]],
            rows=[rows for scored in run for rows in scored[5]],
            inputs=ColumnMatrix(inputs.names, by_column),
            outputs=outputs,
        )

    @classmethod
    def of(cls, record: PredictionRecord) -> PredictionBatch:
        """One record as a batch of one prediction.

        When every input (and every output) is a list or array of the same length, that length
        is the prediction's row count and each becomes a column; otherwise the prediction is
        one row and each value is kept whole, stored as JSON text unless it is a plain string.
        """
        inputs, input_rows = _record_columns(record.inputs)
        outputs: dict[str, Array] | None = None
        if record.outputs is not None:
            outputs, output_rows = _record_columns(record.outputs)
            if output_rows != input_rows:
                inputs, input_rows = _whole_values(record.inputs), 1
                outputs = _whole_values(record.outputs)
        return cls(
            model=record.model,
            version=record.version,
            timestamp=to_micros(record.timestamp),
            prediction_ids=[record.prediction_id],
            latencies_ms=[float(record.latency_ms)],
            request_ids=[record.request_id],
            rows=[input_rows],
            inputs=inputs,
            outputs=outputs,
            error=record.error,
        )


def column_matrix(columns: Mapping[str, Array]) -> Array | None:
    """The (rows, columns) matrix a mapping of columns carries as `matrix`, if it has one."""
    matrix = getattr(columns, "matrix", None)
    if isinstance(matrix, np.ndarray) and matrix.ndim == 2 and matrix.shape[1] == len(columns):
        return matrix
    return None


def _check_columns(side: str, columns: Mapping[str, Array], total: int) -> None:
    matrix = column_matrix(columns)
    if matrix is not None:
        if len(matrix) != total:
            raise ValueError(f"the {side} matrix of a prediction batch must have {total} rows")
        return
    for name, column in columns.items():
        if not isinstance(column, np.ndarray) or column.ndim == 0 or len(column) != total:
            raise ValueError(
                f"the {side} column {name!r} of a prediction batch must be an array with one "
                f"entry per row ({total})"
            )


_TYPED_KINDS = frozenset("biufUSM")  # numbers, booleans, text, bytes and times: Arrow types


def _record_columns(values: Mapping[str, JsonValue]) -> tuple[dict[str, Array], int]:
    """A record's values as row-aligned columns, and the row count; else kept whole, one row."""
    columns: dict[str, Array] = {}
    rows: int | None = None
    for name, value in values.items():
        if not isinstance(value, np.ndarray) and not (
            isinstance(value, list | tuple) or callable(getattr(value, "tolist", None))
        ):
            return _whole_values(values), 1
        try:
            column = np.asarray(value)
        except (ValueError, TypeError):  # ragged lists, for one
            return _whole_values(values), 1
        if (
            column.ndim == 0
            or column.dtype.kind not in _TYPED_KINDS
            or (rows is not None and len(column) != rows)
        ):
            return _whole_values(values), 1
        rows = len(column)
        columns[name] = column
    return columns, 1 if rows is None else rows


def _whole_values(values: Mapping[str, JsonValue]) -> dict[str, Array]:
    columns: dict[str, Array] = {}
    for name, value in values.items():
        column = np.empty(1, dtype=object)
        column[0] = value
        columns[name] = column
    return columns


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
