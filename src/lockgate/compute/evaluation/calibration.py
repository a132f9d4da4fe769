"""Calibration: equal-width bins of the predicted probability (the top class's for several
classes), each bin's mean prediction and observed rate, and the expected calibration error."""

from __future__ import annotations

import numpy as np

from lockgate.compute.evaluation.arrays import FloatArray
from lockgate.compute.evaluation.chunk import Chunk
from lockgate.compute.evaluation.curves import ratio
from lockgate.compute.evaluation.unit_stats import UnitStats
from lockgate.domain.evaluation import CalibrationBin

__all__ = ["ECE", "CalibrationAccumulator", "confidence_and_outcome"]

ECE = "expected_calibration_error"


def confidence_and_outcome(chunk: Chunk) -> tuple[FloatArray, FloatArray]:
    """Binary: the positive class's probability and the label. Several classes: the top
    class's probability and whether the top class is the label (first column on ties)."""
    if chunk.score.ndim == 1:
        return chunk.score, chunk.target.astype(np.float64)
    top = np.argmax(chunk.score, axis=1)
    confidence = chunk.score[np.arange(top.size), top]
    return confidence, (top == chunk.target).astype(np.float64)


class CalibrationAccumulator:
    """Per unit and bin: rows, summed confidence and summed outcome.

    Bins follow scikit-learn's `calibration_curve(strategy="uniform")`: edges
    `linspace(0, 1, bins + 1)`, and a probability equal to an inner edge falls in the lower
    bin (bin b holds (edge_b, edge_b+1], the first also 0). ECE is the row-weighted mean of
    |mean prediction - observed rate| over bins, i.e. sum_b |sum conf_b - sum outcome_b| / n.
    """

    def __init__(self, bins: int, capacity: int) -> None:
        self._edges = np.linspace(0.0, 1.0, bins + 1)
        self._bins = bins
        self._stats = UnitStats(capacity, 3 * bins)
        self._rows = 0

    @property
    def rows(self) -> int:
        return self._rows

    @property
    def nbytes(self) -> int:
        return self._stats.nbytes

    def add(self, chunk: Chunk) -> None:
        confidence, outcome = confidence_and_outcome(chunk)
        bins = np.searchsorted(self._edges[1:-1], confidence)
        self._stats.add_counts(chunk.units, bins)
        self._stats.add_values(chunk.units, bins + self._bins, confidence)
        self._stats.add_values(chunk.units, bins + 2 * self._bins, outcome)
        self._rows += chunk.rows

    def _error(self, totals: FloatArray) -> FloatArray:
        rows = totals[:, : self._bins].sum(axis=1)
        gaps = np.abs(totals[:, self._bins : 2 * self._bins] - totals[:, 2 * self._bins :])
        return ratio(gaps.sum(axis=1), rows, undefined=np.nan)

    def resample(self, weights: FloatArray) -> dict[str, FloatArray]:
        return {ECE: self._error(self._stats.resample(weights))}

    def exact(self) -> dict[str, float]:
        value = float(self._error(self._stats.total())[0])
        return {ECE: value} if np.isfinite(value) else {}

    def curve(self) -> tuple[CalibrationBin, ...]:
        """The non-empty bins of the data."""
        totals = self._stats.total()[0]
        result = []
        for index in range(self._bins):
            rows = totals[index]
            if rows > 0:
                result.append(
                    CalibrationBin(
                        lower=float(self._edges[index]),
                        upper=float(self._edges[index + 1]),
                        rows=int(rows),
                        mean_predicted=float(totals[self._bins + index] / rows),
                        observed_rate=float(totals[2 * self._bins + index] / rows),
                    )
                )
        return tuple(result)
