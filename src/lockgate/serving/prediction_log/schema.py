"""The Arrow schema of the prediction log, version 1, and the conversion of records to a table."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa  # pyarrow ships no type information

from lockgate.domain.identity import to_micros
from lockgate.serving.prediction_log.record import PredictionRecord, encode_json

__all__ = ["PREDICTION_SCHEMA", "SCHEMA_VERSION", "records_to_table"]

SCHEMA_VERSION = "lockgate.prediction-log/1"
"""Stored under the schema metadata key `lockgate.schema` of every file; bumped on any change."""

_JSON_TEXT = {"lockgate.encoding": "json"}

PREDICTION_SCHEMA = pa.schema(
    [
        pa.field("prediction_id", pa.string(), nullable=False),
        pa.field("timestamp", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        pa.field("version", pa.int64(), nullable=False),
        pa.field("latency_ms", pa.float64(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("error", pa.string(), nullable=True),
        pa.field("request_id", pa.string(), nullable=True),
        pa.field("inputs", pa.string(), nullable=False, metadata=_JSON_TEXT),
        pa.field("outputs", pa.string(), nullable=True, metadata=_JSON_TEXT),
    ],
    metadata={"lockgate.schema": SCHEMA_VERSION},
)
"""One row per prediction; `inputs` and `outputs` hold JSON text so any model's shapes fit."""


def records_to_table(records: Sequence[PredictionRecord]) -> pa.Table:
    """The records as an Arrow table with `PREDICTION_SCHEMA`."""
    columns = [
        [record.prediction_id for record in records],
        [to_micros(record.timestamp) for record in records],
        [record.model for record in records],
        [record.version for record in records],
        [record.latency_ms for record in records],
        [str(record.status) for record in records],
        [record.error for record in records],
        [record.request_id for record in records],
        [encode_json(record.inputs) for record in records],
        [None if record.outputs is None else encode_json(record.outputs) for record in records],
    ]
    arrays = [
        pa.array(values, type=field.type)
        for values, field in zip(columns, PREDICTION_SCHEMA, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=PREDICTION_SCHEMA)
