"""Multiclass classification: accuracy, macro and weighted precision, recall and F1 of the
argmax class, one-vs-rest macro ROC AUC and average precision, log loss and Brier score."""

from __future__ import annotations

import numpy as np

from lockgate.compute.evaluation.arrays import FloatArray, IndexArray
from lockgate.compute.evaluation.binary import EPSILON
from lockgate.compute.evaluation.chunk import Chunk
from lockgate.compute.evaluation.curves import average_precision, ratio, roc_auc
from lockgate.compute.evaluation.histogram import ScoreHistogram
from lockgate.compute.evaluation.unit_stats import UnitStats

__all__ = ["MulticlassAccumulator", "class_metrics"]


def class_metrics(
    tp: FloatArray, predicted: FloatArray, support: FloatArray
) -> dict[str, FloatArray]:
    """Accuracy and macro/weighted precision, recall and F1 from per-class counts
    (`resamples x classes`). As scikit-learn without `labels`: the macro mean runs over the
    classes that occur as label or prediction, and a ratio without a denominator is 0."""
    present = (predicted + support) > 0
    classes = present.sum(axis=1)
    rows = support.sum(axis=1)
    per_class = {
        "precision": ratio(tp, predicted),
        "recall": ratio(tp, support),
        "f1": ratio(2.0 * tp, predicted + support),
    }
    values = {"accuracy": ratio(tp.sum(axis=1), rows, undefined=np.nan)}
    for name, value in per_class.items():
        values[f"{name}_macro"] = ratio((value * present).sum(axis=1), classes, np.nan)
        values[f"{name}_weighted"] = ratio((value * support).sum(axis=1), rows, np.nan)
    return values


def _mean_over_classes(curves: list[FloatArray]) -> FloatArray:
    """The macro mean of per-class values; NaN when any class's value is undefined."""
    mean: FloatArray = np.stack(curves, axis=-1).mean(axis=-1)
    return mean


class MulticlassAccumulator:
    """One multiclass classifier's statistics on a set of rows.

    Per unit: true positives, predictions and support per class, the sums of per-row log loss
    and Brier terms, and for each class the counts per (is-this-class, score bin) of its
    probability column. Exact on the data: the confusion matrix and one `ScoreHistogram` per
    class for the one-vs-rest curves.
    """

    def __init__(self, *, edges: tuple[FloatArray, ...], capacity: int, budget: int) -> None:
        self._classes = len(edges)
        self._edges = edges
        self._bins = [edge.size + 1 for edge in edges]
        self._loss = 3 * self._classes
        self._offsets = np.cumsum([self._loss + 2] + [2 * bins for bins in self._bins])
        self._stats = UnitStats(capacity, int(self._offsets[-1]))
        self._histograms = [ScoreHistogram(2, budget) for _ in edges]
        self._confusion = np.zeros((self._classes, self._classes), dtype=np.int64)
        self._rows = 0

    @property
    def rows(self) -> int:
        return self._rows

    @property
    def nbytes(self) -> int:
        histograms = sum(histogram.nbytes for histogram in self._histograms)
        return self._stats.nbytes + histograms + int(self._confusion.nbytes)

    @property
    def confusion(self) -> IndexArray:
        """Counts with labels as rows and argmax predictions as columns."""
        return self._confusion.astype(np.intp)

    def add(self, chunk: Chunk) -> None:
        target: IndexArray = chunk.target
        probabilities = chunk.score
        classes = self._classes
        predicted = np.argmax(probabilities, axis=1)
        correct = predicted == target
        units = [chunk.units[correct], chunk.units, chunk.units]
        cells = [target[correct], classes + predicted, 2 * classes + target]
        for column in range(classes):
            bins = np.searchsorted(self._edges[column], probabilities[:, column], side="right")
            is_class = (target == column).astype(np.intp)
            units.append(chunk.units)
            cells.append(self._offsets[column] + is_class * self._bins[column] + bins)
            self._histograms[column].add(probabilities[:, column], is_class)
        self._stats.add_counts(np.concatenate(units), np.concatenate(cells))
        rows = np.arange(target.size)
        label_probability = np.clip(probabilities[rows, target], EPSILON, 1.0 - EPSILON)
        self._stats.add_column(chunk.units, self._loss, -np.log(label_probability))
        errors = probabilities.copy()
        errors[rows, target] -= 1.0
        self._stats.add_column(chunk.units, self._loss + 1, (errors**2).sum(axis=1))
        flat = np.bincount(target * classes + predicted, minlength=classes * classes)
        self._confusion += flat.reshape(classes, classes)
        self._rows += chunk.rows

    def _values(self, totals: FloatArray) -> dict[str, FloatArray]:
        classes = self._classes
        support = totals[:, 2 * classes : 3 * classes]
        values = class_metrics(totals[:, :classes], totals[:, classes : 2 * classes], support)
        rows = support.sum(axis=1)
        values["log_loss"] = ratio(totals[:, self._loss], rows, undefined=np.nan)
        brier = ratio(totals[:, self._loss + 1], rows, undefined=np.nan)
        values["brier_score"] = 0.5 * brier if classes < 3 else brier  # scikit-learn's "auto"
        negatives, positives = [], []
        for column, bins in enumerate(self._bins):
            start = int(self._offsets[column])
            negatives.append(totals[:, start : start + bins])
            positives.append(totals[:, start + bins : start + 2 * bins])
        values.update(self._curves(negatives, positives))
        return values

    @staticmethod
    def _curves(negatives: list[FloatArray], positives: list[FloatArray]) -> dict[str, FloatArray]:
        pairs = list(zip(negatives, positives, strict=True))
        return {
            "roc_auc": _mean_over_classes([roc_auc(n, p) for n, p in pairs]),
            "pr_auc": _mean_over_classes([average_precision(n, p) for n, p in pairs]),
        }

    def resample(self, weights: FloatArray) -> dict[str, FloatArray]:
        return self._values(self._stats.resample(weights))

    def exact(self) -> dict[str, float]:
        values = self._values(self._stats.total())
        dense = [histogram.dense()[:, None, :] for histogram in self._histograms]
        values.update(self._curves([d[0] for d in dense], [d[1] for d in dense]))
        return {name: float(value[0]) for name, value in values.items() if np.isfinite(value[0])}
