"""The prediction log: every prediction's record goes to a sink off the request path, through a
spill directory on local disk when the sink is slow or down. See docs/reference/prediction-log.md.
"""

from lockgate.serving.prediction_log.logger import PredictionLogger, PredictionLogStats
from lockgate.serving.prediction_log.parquet import ParquetSink
from lockgate.serving.prediction_log.record import (
    UNENCODABLE_KEY,
    JsonValue,
    PredictionRecord,
    PredictionStatus,
    encode_json,
)
from lockgate.serving.prediction_log.schema import (
    PREDICTION_SCHEMA,
    SCHEMA_VERSION,
    records_to_table,
)
from lockgate.serving.prediction_log.sink import PredictionSink
from lockgate.serving.prediction_log.spill import SPILL_FORMAT

__all__ = [
    "PREDICTION_SCHEMA",
    "SCHEMA_VERSION",
    "SPILL_FORMAT",
    "UNENCODABLE_KEY",
    "JsonValue",
    "ParquetSink",
    "PredictionLogStats",
    "PredictionLogger",
    "PredictionRecord",
    "PredictionSink",
    "PredictionStatus",
    "encode_json",
    "records_to_table",
]
