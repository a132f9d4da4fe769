"""Ranking: NDCG@k and MAP@k per query, vectorized over all the queries of a chunk, averaged
over queries; the resampling unit is the query."""

from __future__ import annotations

import numpy as np

from lockgate.compute.evaluation.arrays import FloatArray, IndexArray, sum_by
from lockgate.compute.evaluation.chunk import Chunk
from lockgate.compute.evaluation.curves import ratio
from lockgate.compute.evaluation.unit_stats import UnitStats

__all__ = ["RankingAccumulator", "query_metrics"]


def _runs(queries: IndexArray) -> tuple[IndexArray, IndexArray]:
    """Each row's query renumbered 0.. and each query's first row (queries non-decreasing)."""
    starts = np.flatnonzero(np.concatenate(([True], queries[1:] != queries[:-1])))
    runs = np.zeros(queries.size, dtype=np.intp)
    runs[starts[1:]] = 1
    return np.cumsum(runs), starts


def query_metrics(
    relevance: FloatArray, score: FloatArray, queries: IndexArray, cutoffs: tuple[int, ...]
) -> tuple[FloatArray, FloatArray, IndexArray]:
    """NDCG@k and AP@k of every query (`queries x cutoffs` each) and each query's first row.

    NDCG@k is scikit-learn's `ndcg_score(k=k)` of the query: linear gain, discount
    1/log2(rank + 1) up to rank k, tied scores sharing their mean gain, 0 when every
    relevance is 0. AP@k: sum over ranks i <= k of P@i * rel_i / min(k, R), with rel_i =
    relevance > 0, R the query's relevant rows, ties kept in input order, 0 when R = 0.
    """
    runs, starts = _runs(queries)
    count = starts.size
    order = np.lexsort((-score, runs))  # stable: ties keep their input order
    position = np.arange(runs.size) - starts[runs]
    ranked = relevance[order]
    tie_start = np.concatenate(([True], np.diff(runs) != 0)) | np.concatenate(
        ([True], np.diff(score[order]) != 0)
    )
    ties = np.cumsum(tie_start) - 1
    tied_gain = (np.bincount(ties, weights=ranked) / np.bincount(ties))[ties]
    ideal = relevance[np.lexsort((-relevance, runs))]
    discount = 1.0 / np.log2(position + 2.0)
    hit = (ranked > 0).astype(np.float64)
    hits = np.cumsum(hit)
    hits -= (hits - hit)[starts][runs]
    precision_hit = hit * hits / (position + 1.0)
    relevant = sum_by(runs, hit, count)
    ndcg = np.empty((count, len(cutoffs)))
    average = np.empty((count, len(cutoffs)))
    for column, k in enumerate(cutoffs):
        within = position < k
        gain = sum_by(runs, np.where(within, tied_gain * discount, 0.0), count)
        best = sum_by(runs, np.where(within, ideal * discount, 0.0), count)
        ndcg[:, column] = ratio(gain, best)
        found = sum_by(runs, np.where(within, precision_hit, 0.0), count)
        average[:, column] = ratio(found, np.minimum(relevant, k))
    return ndcg, average, starts


class RankingAccumulator:
    """One ranker's statistics on a set of rows: per unit (query), the number of queries and
    the sums of each query's NDCG@k and AP@k."""

    def __init__(self, cutoffs: tuple[int, ...], capacity: int) -> None:
        self._cutoffs = cutoffs
        self._stats = UnitStats(capacity, 1 + 2 * len(cutoffs))
        self._rows = 0

    @property
    def rows(self) -> int:
        return self._rows

    @property
    def nbytes(self) -> int:
        return self._stats.nbytes

    def add(self, chunk: Chunk) -> None:
        if chunk.queries is None or not chunk.rows:
            return
        ndcg, average, starts = query_metrics(
            chunk.target, chunk.score, chunk.queries, self._cutoffs
        )
        units = chunk.units[starts]
        self._stats.add_column(units, 0, np.ones(starts.size))
        for column in range(len(self._cutoffs)):
            self._stats.add_column(units, 1 + column, ndcg[:, column])
            self._stats.add_column(units, 1 + len(self._cutoffs) + column, average[:, column])
        self._rows += chunk.rows

    def _values(self, totals: FloatArray) -> dict[str, FloatArray]:
        queries = totals[:, 0]
        values = {}
        for column, k in enumerate(self._cutoffs):
            values[f"ndcg@{k}"] = ratio(totals[:, 1 + column], queries, undefined=np.nan)
            average = totals[:, 1 + len(self._cutoffs) + column]
            values[f"map@{k}"] = ratio(average, queries, undefined=np.nan)
        return values

    def resample(self, weights: FloatArray) -> dict[str, FloatArray]:
        return self._values(self._stats.resample(weights))

    def exact(self) -> dict[str, float]:
        values = self._values(self._stats.total())
        return {name: float(value[0]) for name, value in values.items() if np.isfinite(value[0])}
