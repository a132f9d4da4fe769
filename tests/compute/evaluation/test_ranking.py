"""Ranking metrics: NDCG@k against scikit-learn's `ndcg_score`, MAP@k against its definition and
against scikit-learn's `average_precision_score` where the two agree."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import average_precision_score

from lockgate.compute.evaluation import evaluate_arrays
from lockgate.compute.evaluation.ranking import query_metrics
from tests.compute.evaluation.cases import (
    assert_metrics,
    query_slices,
    ranking_config,
    ranking_reference,
    values,
)


@st.composite
def ranking_data(draw: st.DrawFn) -> tuple[Any, Any, Any]:
    """Graded relevance 0-3, scores with or without ties, queries of 1 to 12 rows."""
    sizes = draw(st.lists(st.integers(1, 12), min_size=1, max_size=12))
    rows = sum(sizes)
    queries = np.repeat(np.arange(len(sizes)) * 7 + 3, sizes)  # ids need not be 0..n
    relevance = draw(hnp.arrays(np.float64, rows, elements=st.sampled_from([0.0, 1.0, 2.0, 3.0])))
    tied = draw(st.booleans())
    elements = st.integers(0, 3).map(float) if tied else st.floats(-100, 100)
    scores = draw(hnp.arrays(np.float64, rows, elements=elements))
    return relevance, scores, queries


@settings(max_examples=80, deadline=None)
@given(
    data=ranking_data(),
    cutoffs=st.lists(st.integers(1, 15), min_size=1, max_size=3, unique=True).map(tuple),
    batch_rows=st.integers(1, 40),
)
def test_ndcg_and_map_equal_their_references(
    data: tuple[Any, Any, Any], cutoffs: tuple[int, ...], batch_rows: int
) -> None:
    relevance, scores, queries = data
    config = ranking_config(cutoffs=cutoffs, resamples=0)

    report = evaluate_arrays(config, relevance, scores, queries=queries, batch_rows=batch_rows)

    assert_metrics(values(report), ranking_reference(relevance, scores, queries, cutoffs))
    assert report.rows == relevance.size


@settings(max_examples=60, deadline=None)
@given(
    relevance=st.integers(2, 15).flatmap(
        lambda rows: hnp.arrays(np.float64, rows, elements=st.sampled_from([0.0, 1.0, 2.0]))
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_map_with_k_past_the_query_is_sklearn_average_precision(relevance: Any, seed: int) -> None:
    scores = np.random.default_rng(seed).permutation(relevance.size).astype(np.float64)
    queries = np.zeros(relevance.size, dtype=np.intp)

    ndcg, average, _ = query_metrics(relevance, scores, queries, (relevance.size, 1000))

    binary = (relevance > 0).astype(int)
    expected = average_precision_score(binary, scores) if binary.any() else 0.0
    assert average[0, 0] == pytest.approx(expected, abs=1e-12)
    assert average[0, 1] == pytest.approx(expected, abs=1e-12)
    assert ndcg.shape == (1, 2)


def test_a_query_without_relevant_rows_scores_zero_and_counts() -> None:
    relevance = np.array([0.0, 0.0, 1.0, 0.0])
    scores = np.array([0.9, 0.1, 0.3, 0.2])
    queries = np.array(["a", "a", "b", "b"], dtype=object)

    report = evaluate_arrays(
        ranking_config(cutoffs=(1, 2), resamples=0), relevance, scores, queries=queries
    )

    # query a: nothing relevant -> 0; query b: the relevant row ranks first -> 1
    assert report.metrics["ndcg@2"].value == pytest.approx(0.5)
    assert report.metrics["map@1"].value == pytest.approx(0.5)


def test_ties_keep_input_order_for_map_and_share_gain_for_ndcg() -> None:
    relevance = np.array([0.0, 1.0])
    scores = np.array([0.5, 0.5])
    queries = np.zeros(2, dtype=int)

    report = evaluate_arrays(
        ranking_config(cutoffs=(1,), resamples=0), relevance, scores, queries=queries
    )

    assert report.metrics["map@1"].value == 0.0  # the first row, irrelevant, ranks first
    assert report.metrics["ndcg@1"].value == pytest.approx(0.5)  # the tie's mean gain


def test_queries_spanning_batches_are_evaluated_whole_with_query_intervals() -> None:
    rng = np.random.default_rng(9)
    sizes = rng.integers(1, 30, 400)
    queries = np.repeat(np.arange(sizes.size), sizes)
    relevance = rng.integers(0, 4, queries.size).astype(float)
    scores = relevance + rng.normal(scale=2.0, size=queries.size)
    config = ranking_config(cutoffs=(5, 10), resamples=200)

    whole = evaluate_arrays(config, relevance, scores, queries=queries)
    batched = evaluate_arrays(config, relevance, scores, queries=queries, batch_rows=37)

    assert_metrics(values(whole), ranking_reference(relevance, scores, queries, (5, 10)))
    assert whole == batched
    for estimate in whole.metrics.values():
        assert estimate.lower is not None
        assert estimate.upper is not None
        assert estimate.lower < estimate.value < estimate.upper
    assert len(query_slices(queries)) == sizes.size
