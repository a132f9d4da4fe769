"""Batch scoring: a registered model over a Parquet or CSV input, streamed as Arrow record
batches into Parquet, on one machine (DuckDB and pyarrow, `score_local`) or as a Spark job
(`score_spark`). Numeric work only: fetching the model and recording lineage are the CLI's.

`lockgate.compute.scoring.spark` needs pyspark and is not imported here.
"""

from lockgate.compute.scoring.local import score_local
from lockgate.compute.scoring.plan import DEFAULT_BATCH_SIZE, PredictorFactory, ScoringPlan
from lockgate.compute.scoring.result import (
    ProgressCallback,
    ScoredOutput,
    ScoringProgress,
    ScoringResult,
)
from lockgate.compute.scoring.sources import ScoringInput, resolve_input

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "PredictorFactory",
    "ProgressCallback",
    "ScoredOutput",
    "ScoringInput",
    "ScoringPlan",
    "ScoringProgress",
    "ScoringResult",
    "resolve_input",
    "score_local",
]
