"""Regression: MAE, RMSE, R^2 and MAPE as scikit-learn defines them, from per-unit sums (the
target centred on the first row's value, so R^2's total sum of squares keeps its precision)."""

from __future__ import annotations

import numpy as np

from lockgate.compute.evaluation.arrays import FloatArray
from lockgate.compute.evaluation.binary import EPSILON
from lockgate.compute.evaluation.chunk import Chunk
from lockgate.compute.evaluation.curves import ratio
from lockgate.compute.evaluation.unit_stats import UnitStats

__all__ = ["RegressionAccumulator"]

_ROWS, _ABSOLUTE, _SQUARED, _CENTRED, _CENTRED_SQUARED, _PERCENTAGE = range(6)
_RELATIVE_FLOOR = 1e-12  # a resample whose targets (nearly) all agree has no R^2


class RegressionAccumulator:
    """One regressor's statistics on a set of rows.

    Per unit: rows, sums of |error|, error^2, (y - c), (y - c)^2 and |error| / max(|y|, eps)
    (scikit-learn's MAPE), with c the first row's target. On the data, R^2's denominator comes
    from a streaming (Chan et al.) mean and sum of squared deviations instead; R^2 is undefined
    (absent) when every target is equal.
    """

    def __init__(self, capacity: int) -> None:
        self._stats = UnitStats(capacity, 6)
        self._centre: float | None = None
        self._count = 0
        self._mean = 0.0
        self._deviations = 0.0
        self._low = np.inf
        self._high = -np.inf

    @property
    def rows(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        return self._stats.nbytes

    def add(self, chunk: Chunk) -> None:
        target: FloatArray = chunk.target
        if not target.size:
            return
        if self._centre is None:
            self._centre = float(target[0])
        error = np.abs(target - chunk.score)
        centred = target - self._centre
        units = chunk.units
        for cell, values in (
            (_ABSOLUTE, error),
            (_SQUARED, error**2),
            (_CENTRED, centred),
            (_CENTRED_SQUARED, centred**2),
            (_PERCENTAGE, error / np.maximum(np.abs(target), EPSILON)),
        ):
            self._stats.add_column(units, cell, values)
        self._stats.add_column(units, _ROWS, np.ones(target.size))
        self._merge_moments(target)

    def _merge_moments(self, target: FloatArray) -> None:
        count = target.size
        mean = float(target.mean())
        deviations = float(((target - mean) ** 2).sum())
        total = self._count + count
        delta = mean - self._mean
        self._deviations += deviations + delta**2 * self._count * count / total
        self._mean += delta * count / total
        self._count = total
        self._low = min(self._low, float(target.min()))
        self._high = max(self._high, float(target.max()))

    @staticmethod
    def _values(totals: FloatArray) -> dict[str, FloatArray]:
        rows = totals[:, _ROWS]
        spread = totals[:, _CENTRED_SQUARED] - ratio(totals[:, _CENTRED] ** 2, rows)
        defined = spread > _RELATIVE_FLOOR * totals[:, _CENTRED_SQUARED]
        return {
            "mae": ratio(totals[:, _ABSOLUTE], rows, undefined=np.nan),
            "rmse": np.sqrt(ratio(totals[:, _SQUARED], rows, undefined=np.nan)),
            "r2": np.where(
                defined, 1.0 - totals[:, _SQUARED] / np.where(defined, spread, 1.0), np.nan
            ),
            "mape": ratio(totals[:, _PERCENTAGE], rows, undefined=np.nan),
        }

    def resample(self, weights: FloatArray) -> dict[str, FloatArray]:
        return self._values(self._stats.resample(weights))

    def exact(self) -> dict[str, float]:
        totals = self._stats.total()
        values = {name: float(value[0]) for name, value in self._values(totals).items()}
        values.pop("r2")
        if self._high > self._low and self._deviations > 0:
            values["r2"] = 1.0 - float(totals[0, _SQUARED]) / self._deviations
        return {name: value for name, value in values.items() if np.isfinite(value)}
