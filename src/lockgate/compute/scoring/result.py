"""What a scoring job reports: progress while it runs and, at the end, what it read, what it
wrote (path, sha256, rows, schema: the lineage of the output) and how fast it went."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa  # pyarrow ships no type information

from lockgate.compute.scoring.sources import ScoringInput

__all__ = ["ProgressCallback", "ScoredOutput", "ScoringProgress", "ScoringResult", "schema_text"]


@dataclass(frozen=True, slots=True)
class ScoringProgress:
    """Rows scored so far, and the total when the input's metadata tells it."""

    rows: int
    total_rows: int | None


ProgressCallback = Callable[[ScoringProgress], None]
"""Called after each batch (local) or as partitions finish (Spark); it may be called from
another thread than the one that started the job."""


@dataclass(frozen=True, slots=True)
class ScoredOutput:
    """The written output.

    Attributes:
        path: The output: a Parquet file (local engine) or a directory of Parquet part
            files (Spark engine).
        files: The Parquet files, sorted.
        sha256: For a file its bytes' sha256; for a directory the sha256 of its files'
            sorted `name<TAB>sha256` lines (as inputs are fingerprinted).
        rows: Rows written.
        schema: Column name to Arrow type, in order.
    """

    path: Path
    files: tuple[Path, ...]
    sha256: str
    rows: int
    schema: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ScoringResult:
    """A finished job: engine, input, output, and its counts and duration."""

    engine: str
    input: ScoringInput
    output: ScoredOutput
    rows: int
    batches: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        """Rows scored per second of the whole job (reading, scoring and writing)."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def schema_text(schema: pa.Schema) -> dict[str, str]:
    """A schema as column name to the text of its Arrow type."""
    return {field.name: str(field.type) for field in schema}
