"""ROC AUC and average precision from score histograms (exact or binned), vectorized over
resamples, and the bin edges of the binned histograms."""

from __future__ import annotations

import numpy as np

from lockgate.compute.evaluation.arrays import FloatArray

__all__ = ["average_precision", "ratio", "roc_auc", "score_edges"]


def ratio(numerator: FloatArray, denominator: FloatArray, undefined: float = 0.0) -> FloatArray:
    """`numerator / denominator`, and `undefined` where the denominator is 0."""
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, undefined)


def roc_auc(negatives: FloatArray, positives: FloatArray) -> FloatArray:
    """Area under the ROC curve from counts per score bin in ascending score order (last axis),
    ties counting one half (the Mann-Whitney form of scikit-learn's trapezoidal area); NaN
    where a class is absent."""
    total_negatives = negatives.sum(axis=-1)
    total_positives = positives.sum(axis=-1)
    below = np.cumsum(negatives, axis=-1) - negatives
    wins = (positives * (below + 0.5 * negatives)).sum(axis=-1)
    return ratio(wins, total_negatives * total_positives, undefined=np.nan)


def average_precision(negatives: FloatArray, positives: FloatArray) -> FloatArray:
    """Average precision (scikit-learn's `average_precision_score`: the sum over thresholds of
    the recall step times the precision) from counts per score bin in ascending score order;
    NaN where there is no positive."""
    positives_desc = positives[..., ::-1]
    true_positives = np.cumsum(positives_desc, axis=-1)
    selected = true_positives + np.cumsum(negatives[..., ::-1], axis=-1)
    precision = ratio(true_positives, selected)
    total_positives = positives.sum(axis=-1)
    return ratio((positives_desc * precision).sum(axis=-1), total_positives, undefined=np.nan)


def score_edges(sample: FloatArray, levels: int, grid: int, threshold: float | None) -> FloatArray:
    """Sorted bin edges for scores in [0, 1]: `levels` quantiles of `sample`, a uniform grid of
    `grid` steps (so scores the sample missed still spread out) and the decision `threshold`
    (so counts on either side of it are exact). Bin j holds `edges[j-1] <= score < edges[j]`."""
    parts = [np.linspace(0.0, 1.0, grid + 1)[1:-1]]
    if sample.size:
        parts.append(np.quantile(sample, np.linspace(0.0, 1.0, levels + 1)[1:-1]))
    if threshold is not None:
        parts.append(np.array([threshold]))
    return np.unique(np.concatenate(parts))
