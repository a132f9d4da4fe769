"""Fairness across the groups of a sensitive attribute: each group's selection, true positive
and false positive rates, and the disparity measures over groups, per resample as well."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lockgate.compute.evaluation.arrays import FloatArray
from lockgate.compute.evaluation.binary import CONFUSION
from lockgate.compute.evaluation.curves import ratio
from lockgate.compute.evaluation.estimates import Evaluated

__all__ = ["disparities", "group_rates"]


def group_rates(counts: Sequence[FloatArray]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Selection rate, true positive rate and false positive rate from (tn, fp, fn, tp), NaN
    where a rate has no denominator."""
    tn, fp, fn, tp = counts
    return (
        ratio(tp + fp, tn + fp + fn + tp, undefined=np.nan),
        ratio(tp, tp + fn, undefined=np.nan),
        ratio(fp, fp + tn, undefined=np.nan),
    )


def _extremes(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Max and min over groups (last axis) of the defined values; NaN when none is."""
    defined = np.isfinite(values)
    high = np.where(defined, values, -np.inf).max(axis=-1)
    low = np.where(defined, values, np.inf).min(axis=-1)
    any_defined = defined.any(axis=-1)
    return np.where(any_defined, high, np.nan), np.where(any_defined, low, np.nan)


def _measures(counts: Sequence[FloatArray]) -> dict[str, FloatArray]:
    """The measures from counts shaped `resamples x groups` each.

    As fairlearn defines them (`demographic_parity_difference` and `_ratio`,
    `equal_opportunity_difference`, `equalized_odds_difference` with the worst case), except
    that a group whose rate has no denominator (no positives for the true positive rate, no
    negatives for the false positive rate) is left out of that rate's gap, where fairlearn
    counts it as a rate of 0.
    """
    selection, true_positive, false_positive = group_rates(counts)
    high, low = _extremes(selection)
    opportunity = np.subtract(*_extremes(true_positive))
    false_positive_gap = np.subtract(*_extremes(false_positive))
    return {
        "demographic_parity_difference": high - low,
        "demographic_parity_ratio": ratio(low, high, undefined=np.nan),
        "equal_opportunity_difference": opportunity,
        "equalized_odds_difference": np.fmax(opportunity, false_positive_gap),
    }


def disparities(groups: Sequence[Evaluated]) -> Evaluated:
    """The disparity measures of one model over the groups of one attribute (each group's
    `exact`, `binned` and `resampled` values hold the confusion counts)."""
    exact = _measures(
        [np.array([[group.exact.get(k, 0.0) for group in groups]]) for k in CONFUSION]
    )
    values = {name: float(value[0]) for name, value in exact.items() if np.isfinite(value[0])}
    if any(group.resampled is None for group in groups):
        return Evaluated(values, {}, None)
    binned = _measures(
        [np.array([[group.binned.get(k, 0.0) for group in groups]]) for k in CONFUSION]
    )
    resampled = _measures(
        [
            np.stack([group.resampled[k] for group in groups if group.resampled], axis=-1)
            for k in CONFUSION
        ]
    )
    return Evaluated(values, {name: float(value[0]) for name, value in binned.items()}, resampled)
