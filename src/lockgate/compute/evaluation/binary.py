"""Binary classification: confusion counts at the threshold, ROC AUC, average precision, log
loss and Brier score, exact on the data and per resample from binned per-unit counts."""

from __future__ import annotations

import numpy as np

from lockgate.compute.evaluation.arrays import FloatArray, IndexArray
from lockgate.compute.evaluation.chunk import Chunk
from lockgate.compute.evaluation.curves import average_precision, ratio, roc_auc
from lockgate.compute.evaluation.histogram import ScoreHistogram
from lockgate.compute.evaluation.unit_stats import UnitStats

__all__ = [
    "CONFUSION",
    "EPSILON",
    "BinaryAccumulator",
    "binary_log_loss",
    "threshold_metrics",
]

CONFUSION = ("tn", "fp", "fn", "tp")
"""Auxiliary count keys in a binary accumulator's values (not metrics)."""
EPSILON = float(np.finfo(np.float64).eps)
"""scikit-learn's log-loss clipping: probabilities are clipped to [eps, 1 - eps]."""


def binary_log_loss(target: IndexArray, score: FloatArray) -> FloatArray:
    """Per-row log loss as scikit-learn computes it (the label's probability, clipped)."""
    probability = np.where(target == 1, score, 1.0 - score)
    loss: FloatArray = -np.log(np.clip(probability, EPSILON, 1.0 - EPSILON))
    return loss


def threshold_metrics(
    tn: FloatArray, fp: FloatArray, fn: FloatArray, tp: FloatArray
) -> dict[str, FloatArray]:
    """Accuracy, precision, recall and F1 from confusion counts (scikit-learn's
    `zero_division=0`: a ratio without a denominator is 0); accuracy is NaN without rows."""
    rows = tn + fp + fn + tp
    return {
        "accuracy": ratio(tp + tn, rows, undefined=np.nan),
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
        "f1": ratio(2.0 * tp, 2.0 * tp + fp + fn),
    }


class BinaryAccumulator:
    """One binary classifier's statistics on a set of rows.

    Per unit: counts per (label, score bin) and the sums of per-row log loss and squared
    error. The threshold is a bin edge, so the confusion counts are exact in every resample;
    ROC AUC and average precision are binned there and exact (from a `ScoreHistogram`) on the
    data.
    """

    def __init__(self, *, edges: FloatArray, threshold: float, capacity: int, budget: int) -> None:
        self._edges = edges
        self._bins = edges.size + 1
        self._cut = int(np.searchsorted(edges, threshold, side="right"))
        self._loss = 2 * self._bins
        self._stats = UnitStats(capacity, self._loss + 2)
        self._histogram = ScoreHistogram(2, budget)
        self._rows = 0

    @property
    def rows(self) -> int:
        return self._rows

    @property
    def nbytes(self) -> int:
        return self._stats.nbytes + self._histogram.nbytes + int(self._edges.nbytes)

    def add(self, chunk: Chunk) -> None:
        target: IndexArray = chunk.target
        score = chunk.score
        bins = np.searchsorted(self._edges, score, side="right")
        self._stats.add_counts(chunk.units, target * self._bins + bins)
        self._stats.add_column(chunk.units, self._loss, binary_log_loss(target, score))
        self._stats.add_column(chunk.units, self._loss + 1, (target - score) ** 2)
        self._histogram.add(score, target)
        self._rows += chunk.rows

    def _values(self, totals: FloatArray) -> dict[str, FloatArray]:
        negatives = totals[:, : self._bins]
        positives = totals[:, self._bins : 2 * self._bins]
        counts = (
            negatives[:, : self._cut].sum(axis=1),
            negatives[:, self._cut :].sum(axis=1),
            positives[:, : self._cut].sum(axis=1),
            positives[:, self._cut :].sum(axis=1),
        )
        rows = sum(counts[1:], counts[0])
        values = threshold_metrics(*counts)
        values["roc_auc"] = roc_auc(negatives, positives)
        values["pr_auc"] = average_precision(negatives, positives)
        values["log_loss"] = ratio(totals[:, self._loss], rows, undefined=np.nan)
        values["brier_score"] = ratio(totals[:, self._loss + 1], rows, undefined=np.nan)
        values.update(zip(CONFUSION, counts, strict=True))
        return values

    def resample(self, weights: FloatArray) -> dict[str, FloatArray]:
        return self._values(self._stats.resample(weights))

    def exact(self) -> dict[str, float]:
        values = self._values(self._stats.total())
        counts = self._histogram.dense()
        values["roc_auc"] = roc_auc(counts[0], counts[1])[None]
        values["pr_auc"] = average_precision(counts[0], counts[1])[None]
        return {name: float(value[0]) for name, value in values.items() if np.isfinite(value[0])}
