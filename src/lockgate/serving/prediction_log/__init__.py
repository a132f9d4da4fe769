"""The prediction log: every prediction's record goes to a sink off the request path, through a
spill directory on local disk when the sink is slow or down. See docs/reference/prediction-log.md.
"""

from lockgate.serving.prediction_log.logger import PredictionLogger, PredictionLogStats
from lockgate.serving.prediction_log.parquet import ParquetSink
from lockgate.serving.prediction_log.record import (
    UNENCODABLE_KEY,
    Array,
    ColumnMatrix,
    JsonValue,
    PredictionBatch,
    PredictionRecord,
    PredictionStatus,
    Scored,
    Ticket,
    encode_json,
)
from lockgate.serving.prediction_log.schema import (
    BASE_SCHEMA,
    JSON_ENCODING,
    SCHEMA_VERSION,
    batches_to_tables,
)
from lockgate.serving.prediction_log.sink import PredictionSink
from lockgate.serving.prediction_log.spill import SPILL_FORMAT

__all__ = [
    "BASE_SCHEMA",
    "JSON_ENCODING",
    "SCHEMA_VERSION",
    "SPILL_FORMAT",
    "UNENCODABLE_KEY",
    "Array",
    "ColumnMatrix",
    "JsonValue",
    "ParquetSink",
    "PredictionBatch",
    "PredictionLogStats",
    "PredictionLogger",
    "PredictionRecord",
    "PredictionSink",
    "PredictionStatus",
    "Scored",
    "Ticket",
    "batches_to_tables",
    "encode_json",
]
