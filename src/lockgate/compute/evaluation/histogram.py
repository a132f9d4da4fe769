"""Exact score histograms: per label, the count of every distinct score, kept sparse and merged
in amortized O(n log n); past a budget of distinct scores, low mantissa bits are dropped."""

from __future__ import annotations

import numpy as np

from lockgate.compute.evaluation.arrays import FloatArray, IndexArray, UIntArray

__all__ = ["COARSEN_STEP", "ScoreHistogram"]

COARSEN_STEP = 4
"""Bits dropped from every score key each time a label's distinct scores exceed the budget."""
_MIN_MERGE = 1 << 16  # new keys held in runs before the first merge
_MAX_RUNS = 8  # runs held per label before a merge, however few keys they hold
_Run = tuple[UIntArray, FloatArray]


def _merge_runs(runs: list[_Run]) -> _Run:
    """Sorted distinct keys and summed counts of several sorted runs (a stable sort merges
    sorted runs in about linear time)."""
    keys = np.concatenate([run[0] for run in runs])
    order = np.argsort(keys, kind="stable")
    return _collapse_sorted(keys[order], np.concatenate([run[1] for run in runs])[order])


def _count_sorted(keys: UIntArray) -> _Run:
    """Distinct keys of sorted keys and how often each occurs."""
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    counts = np.diff(np.append(starts, keys.size)).astype(np.float64)
    return keys[starts], counts


def _collapse_sorted(keys: UIntArray, counts: FloatArray) -> _Run:
    """Merge equal neighbours of sorted keys (coarsening keeps keys sorted)."""
    if keys.size == 0:
        return keys, counts
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[starts], np.add.reduceat(counts, starts)


class ScoreHistogram:
    """Counts of each distinct score per label (0 .. labels-1), for exact ROC and PR curves.

    Scores are non-negative floats, keyed by their IEEE-754 bit pattern, which orders them as
    the floats. While every label holds at most `budget` distinct keys the histogram is exact.
    Beyond it, `COARSEN_STEP` more low bits are dropped from every key (an order-preserving
    truncation that only merges neighbouring scores into ties) until the budget holds again.
    The level reached is the smallest that fits all the data, whatever the batching, because
    it rises only when data already seen does not fit.
    """

    def __init__(self, labels: int, budget: int) -> None:
        self._labels = labels
        self._budget = budget
        self._shift = 0
        empty_keys = np.zeros(0, dtype=np.uint64)
        self._merged: list[_Run] = [(empty_keys, np.zeros(0)) for _ in range(labels)]
        self._runs: list[list[_Run]] = [[] for _ in range(labels)]
        self._run_keys = 0

    @property
    def coarsened_bits(self) -> int:
        """Low mantissa bits dropped from the scores (0 while exact), once held runs merge."""
        self._merge()
        return self._shift

    @property
    def nbytes(self) -> int:
        held = [run for label in self._runs for run in label] + self._merged
        return sum(int(keys.nbytes + counts.nbytes) for keys, counts in held)

    def add(self, scores: FloatArray, labels: IndexArray) -> None:
        """Count `scores` (non-negative, finite) under their `labels`."""
        keys = (scores + 0.0).view(np.uint64) >> np.uint64(self._shift)  # + 0.0 folds -0.0
        for label in range(self._labels):
            selected = keys[labels == label]
            if selected.size:
                run = _count_sorted(np.sort(selected))
                self._runs[label].append(run)
                self._run_keys += run[0].size
        held = max(run[0].size for run in self._merged)
        runs = max(len(label) for label in self._runs)
        if self._run_keys >= max(held, _MIN_MERGE) or runs >= _MAX_RUNS:
            self._merge()

    def _merge(self) -> None:
        for label in range(self._labels):
            if self._runs[label]:
                self._merged[label] = _merge_runs([self._merged[label], *self._runs[label]])
                self._runs[label] = []
        self._run_keys = 0
        while max(run[0].size for run in self._merged) > self._budget:
            self._shift += COARSEN_STEP
            step = np.uint64(COARSEN_STEP)
            self._merged = [_collapse_sorted(keys >> step, counts) for keys, counts in self._merged]

    def dense(self) -> FloatArray:
        """Counts per label (rows) over the union of distinct scores in ascending order
        (columns): `labels x distinct`."""
        self._merge()
        union = np.sort(np.concatenate([keys for keys, _ in self._merged]), kind="stable")
        if union.size:
            union = union[np.concatenate(([True], union[1:] != union[:-1]))]
        counts = np.zeros((self._labels, union.size))
        for label, (keys, label_counts) in enumerate(self._merged):
            counts[label, np.searchsorted(union, keys)] = label_counts
        return counts
