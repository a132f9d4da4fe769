"""From accumulators to estimates: run the resamples block by block, and turn exact values,
binned estimates and per-resample values into shifted percentile intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lockgate.compute.evaluation.arrays import FloatArray, WeightArray
from lockgate.compute.evaluation.bootstrap import UNITS, WEIGHT_BLOCK
from lockgate.compute.evaluation.chunk import Accumulator
from lockgate.domain.evaluation import Estimate, MetricChange

__all__ = ["Evaluated", "Intervals", "evaluate"]

_UNIT_INTERVAL = frozenset({"roc_auc", "pr_auc"})  # binned metrics whose shift may leave [0, 1]


@dataclass(frozen=True, slots=True)
class Evaluated:
    """One model on one set of rows: exact values, the binned statistics' values on the data,
    and one value per resample (None without resampling)."""

    exact: dict[str, float]
    binned: dict[str, float]
    resampled: dict[str, FloatArray] | None


def evaluate(accumulator: Accumulator, weights: WeightArray | None) -> Evaluated:
    """Exact values, and with `weights` (`resamples x UNITS`) the resampled ones."""
    exact = accumulator.exact()
    if weights is None or not weights.shape[0]:
        return Evaluated(exact, {}, None)
    ones = accumulator.resample(np.ones((1, UNITS)))
    binned = {name: float(value[0]) for name, value in ones.items()}
    blocks = [
        accumulator.resample(weights[start : start + WEIGHT_BLOCK].astype(np.float64))
        for start in range(0, weights.shape[0], WEIGHT_BLOCK)
    ]
    resampled = {name: np.concatenate([block[name] for block in blocks]) for name in blocks[0]}
    return Evaluated(exact, binned, resampled)


@dataclass(frozen=True, slots=True)
class Intervals:
    """Percentile intervals at `confidence`, shifted so that binning bias cancels: the
    interval is `exact + (percentile of resampled - binned)`. Resamples where a metric is
    undefined are left out; with fewer than half defined there is no interval."""

    confidence: float

    def bounds(
        self, point: float, binned: float | None, resampled: FloatArray | None
    ) -> tuple[float, float] | None:
        """The interval of a value, or None."""
        if resampled is None or binned is None or not np.isfinite(binned):
            return None
        finite = resampled[np.isfinite(resampled)]
        if not finite.size or 2 * finite.size < resampled.size:
            return None
        tail = 50.0 * (1.0 - self.confidence)
        low, high = np.percentile(finite, [tail, 100.0 - tail])
        return point + float(low) - binned, point + float(high) - binned

    def estimate(self, evaluated: Evaluated, name: str) -> Estimate:
        """The estimate of metric `name` (which `evaluated.exact` holds)."""
        point = evaluated.exact[name]
        resampled = None if evaluated.resampled is None else evaluated.resampled.get(name)
        interval = self.bounds(point, evaluated.binned.get(name), resampled)
        if interval is None:
            return Estimate(point)
        low, high = interval
        if name in _UNIT_INTERVAL:
            low, high = max(0.0, low), min(1.0, high)
        return Estimate(point, low, high)

    def change(self, candidate: Evaluated, baseline: Evaluated, name: str) -> MetricChange:
        """Candidate minus baseline for metric `name`, with the paired interval (both models
        were resampled with the same weights)."""
        delta = candidate.exact[name] - baseline.exact[name]
        interval = None
        if candidate.resampled is not None and baseline.resampled is not None:
            binned = candidate.binned.get(name, np.nan) - baseline.binned.get(name, np.nan)
            resampled = candidate.resampled[name] - baseline.resampled[name]
            interval = self.bounds(delta, binned, resampled)
        estimate = Estimate(delta) if interval is None else Estimate(delta, *interval)
        return MetricChange(name, candidate.exact[name], baseline.exact[name], estimate)
