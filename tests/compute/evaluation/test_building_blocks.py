"""The engine's building blocks: resampling units and weights, exact score histograms and
their coarsening, segment value codes."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lockgate.compute.evaluation import UNITS
from lockgate.compute.evaluation.bootstrap import assign_units, poisson_weights
from lockgate.compute.evaluation.groups import ValueCodes, split_rows
from lockgate.compute.evaluation.histogram import ScoreHistogram


def test_the_first_rows_are_their_own_units_and_later_rows_hash_independently_of_batching() -> None:
    whole = assign_units(0, 3 * UNITS, seed=11)
    pieces = np.concatenate([assign_units(start, 97, seed=11) for start in range(0, 3 * UNITS, 97)])

    assert np.array_equal(whole[:UNITS], np.arange(UNITS))
    assert np.array_equal(pieces[: whole.size], whole)
    later = whole[UNITS:]
    assert later.min() >= 0
    assert later.max() < UNITS
    assert np.unique(later).size > 0.5 * UNITS  # spread, not clumped
    assert not np.array_equal(later, assign_units(UNITS, 2 * UNITS, seed=12))


def test_weights_are_seeded_poisson_one() -> None:
    weights = poisson_weights(seed=5, resamples=600)

    assert weights.shape == (600, UNITS)
    assert np.array_equal(weights, poisson_weights(seed=5, resamples=600))
    assert not np.array_equal(weights, poisson_weights(seed=6, resamples=600))
    assert np.array_equal(weights[:100], poisson_weights(seed=5, resamples=100))
    draws = weights.astype(float).ravel()
    assert draws.mean() == pytest.approx(1.0, abs=0.005)
    assert draws.var() == pytest.approx(1.0, abs=0.01)
    assert (draws == 0).mean() == pytest.approx(np.exp(-1.0), abs=0.003)


def _counts(histogram: ScoreHistogram) -> np.ndarray:
    return histogram.dense()


@settings(max_examples=50, deadline=None)
@given(
    scores=hnp.arrays(np.float64, st.integers(1, 400), elements=st.floats(0.0, 1.0)),
    cuts=st.lists(st.integers(0, 400), max_size=6),
    budget=st.integers(1, 64),
)
def test_the_histogram_is_the_same_however_the_scores_arrive(
    scores: np.ndarray, cuts: list[int], budget: int
) -> None:
    labels = (np.arange(scores.size) % 3 == 0).astype(np.intp)
    whole = ScoreHistogram(2, budget)
    whole.add(scores, labels)
    parts = ScoreHistogram(2, budget)
    bounds = [0, *sorted(min(cut, scores.size) for cut in cuts), scores.size]
    for start, stop in pairwise(bounds):
        parts.add(scores[start:stop], labels[start:stop])

    counts = _counts(whole)
    assert np.array_equal(counts, _counts(parts))
    assert whole.coarsened_bits == parts.coarsened_bits
    assert counts.sum(axis=1).tolist() == [(labels == 0).sum(), (labels == 1).sum()]
    assert counts.shape[1] <= max(budget, 1) * 2


def test_the_histogram_is_exact_within_its_budget_and_coarsens_order_preserving() -> None:
    rng = np.random.default_rng(0)
    scores = rng.random(5_000)
    labels = rng.integers(0, 2, 5_000)
    exact = ScoreHistogram(2, budget=10_000)
    exact.add(scores, labels)
    coarse = ScoreHistogram(2, budget=100)
    coarse.add(scores, labels)

    assert exact.coarsened_bits == 0
    assert _counts(exact).shape[1] == np.unique(scores).size
    assert coarse.coarsened_bits > 0
    coarse_counts = _counts(coarse)
    assert coarse_counts.shape[1] <= 200
    # coarsening merges neighbours: cumulative counts follow the exact ones at bin boundaries
    exact_cumulative = np.cumsum(_counts(exact).sum(axis=0))
    assert set(np.cumsum(coarse_counts.sum(axis=0))) <= set(exact_cumulative)


def test_value_codes_follow_first_appearance_and_overflow_to_other() -> None:
    codes = ValueCodes(limit=2)

    first = codes.encode(np.array(["z", "y", "z", "x"]))
    second = codes.encode(np.array(["w", "y", "x"]))

    assert codes.values == ("z", "y", "(other)")
    assert first.tolist() == [0, 1, 0, 2]
    assert second.tolist() == [2, 1, 2]
    assert [(code, rows.tolist()) for code, rows in split_rows(first)] == [
        (0, [0, 2]),
        (1, [1]),
        (2, [3]),
    ]
    assert codes.encode_mask(np.array([False, False])).tolist() == [-1, -1]
