"""What every task's accumulator takes (a chunk of validated rows with their resampling units)
and what it gives back (exact metrics, and metrics per resample)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from lockgate.compute.evaluation.arrays import AnyArray, FloatArray, IndexArray

__all__ = ["Accumulator", "Chunk", "Combined", "Values"]

Values = Mapping[str, FloatArray]
"""Metric name to one value per resample (NaN where the metric is undefined)."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """Validated rows of one model: `target` (class index as intp, or float), `score` ((n,) or
    (n, classes) float64), the rows' resampling `units` and, for ranking, `queries`: a
    non-decreasing query number per row, every query complete."""

    target: AnyArray
    score: FloatArray
    units: IndexArray
    queries: IndexArray | None = None

    @property
    def rows(self) -> int:
        return int(self.units.size)

    def take(self, rows: IndexArray) -> Chunk:
        """The chunk's rows at positions `rows` (ascending)."""
        queries = None if self.queries is None else self.queries[rows]
        return Chunk(self.target[rows], self.score[rows], self.units[rows], queries)


class Accumulator(Protocol):
    """Streaming statistics of one model on one set of rows."""

    @property
    def rows(self) -> int: ...

    @property
    def nbytes(self) -> int: ...

    def add(self, chunk: Chunk) -> None: ...

    def exact(self) -> dict[str, float]:
        """The metrics of the data (only those defined on it), plus any auxiliary counts."""
        ...

    def resample(self, weights: FloatArray) -> dict[str, FloatArray]:
        """The same computed from binned statistics, once per row of `weights`
        (`resamples x units`); a row of ones gives the binned estimate of the data."""
        ...


class Combined:
    """Several accumulators over the same rows, read as one (a task's and calibration's)."""

    def __init__(self, *parts: Accumulator) -> None:
        self._parts = parts

    @property
    def parts(self) -> tuple[Accumulator, ...]:
        return self._parts

    @property
    def rows(self) -> int:
        return self._parts[0].rows

    @property
    def nbytes(self) -> int:
        return sum(part.nbytes for part in self._parts)

    def add(self, chunk: Chunk) -> None:
        for part in self._parts:
            part.add(chunk)

    def exact(self) -> dict[str, float]:
        return {name: value for part in self._parts for name, value in part.exact().items()}

    def resample(self, weights: FloatArray) -> dict[str, FloatArray]:
        return {
            name: value for part in self._parts for name, value in part.resample(weights).items()
        }
