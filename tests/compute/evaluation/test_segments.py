"""Segments: each segment's metrics equal scikit-learn's on the segment's rows; values read as
text, nulls as "(null)", values past the limit as "(other)", predicates as "true"."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lockgate.compute.evaluation import evaluate_arrays
from lockgate.domain.evaluation import SegmentMetrics, SegmentRule
from tests.compute.evaluation.cases import (
    assert_metrics,
    binary_config,
    binary_data,
    multiclass_config,
    ranking_config,
    ranking_reference,
    regression_config,
    sklearn_binary,
    sklearn_multiclass,
    sklearn_regression,
)

_COLUMN = SegmentRule("region", column="region")
_PREDICATE = SegmentRule("large", predicate="amount > 100")


def _by_value(segments: tuple[SegmentMetrics, ...], rule: str) -> dict[str, SegmentMetrics]:
    return {s.value: s for s in segments if s.segment == rule}


def _values(segment: SegmentMetrics) -> dict[str, float]:
    return {name: estimate.value for name, estimate in segment.metrics.items()}


@settings(max_examples=40, deadline=None)
@given(
    data=binary_data(min_rows=1, max_rows=120),
    codes=st.data(),
)
def test_binary_segment_metrics_equal_sklearn_on_the_segment_rows(
    data: tuple[Any, Any], codes: st.DataObject
) -> None:
    target, scores = data
    region = codes.draw(hnp.arrays(np.int64, target.size, elements=st.integers(0, 3)))
    mask = codes.draw(hnp.arrays(np.bool_, target.size))
    config = binary_config(resamples=0, segments=(_COLUMN, _PREDICATE))

    report = evaluate_arrays(
        config, target, scores, segments={"region": region, "large": mask}, batch_rows=17
    )

    regions = _by_value(report.segments, "region")
    assert set(regions) == {str(v) for v in np.unique(region)}
    for value, segment in regions.items():
        rows = region == int(value)
        assert segment.rows == rows.sum()
        assert_metrics(_values(segment), sklearn_binary(target[rows], scores[rows]))
    large = _by_value(report.segments, "large")
    assert set(large) == ({"true"} if mask.any() else set())
    if mask.any():
        assert_metrics(_values(large["true"]), sklearn_binary(target[mask], scores[mask]))


def test_values_read_as_text_in_order_of_appearance_with_nulls_and_other() -> None:
    region = np.array(["b", None, "a", "b", float("nan"), "c", "d", "a", 7, 7.0], dtype=object)
    target = np.array([0, 1, 1, 0, 1, 0, 1, 1, 0, 1])
    scores = np.linspace(0.05, 0.95, 10)
    config = binary_config(resamples=0, segments=(_COLUMN,), max_segment_values=3)

    report = evaluate_arrays(config, target, scores, segments={"region": region}, batch_rows=3)

    assert [s.value for s in report.segments] == ["b", "(null)", "a", "(other)"]
    other = report.segments[-1]
    rows = np.array([False] * 5 + [True, True, False, True, True])
    assert other.rows == 4
    assert_metrics(_values(other), sklearn_binary(target[rows], scores[rows]))


def test_numbers_and_booleans_read_naturally() -> None:
    target = np.array([0, 1, 1, 0])
    scores = np.array([0.2, 0.8, 0.6, 0.4])
    rules = (SegmentRule("size", column="size"), SegmentRule("flag", column="flag"))

    report = evaluate_arrays(
        binary_config(resamples=0, segments=rules),
        target,
        scores,
        segments={
            "size": np.array([1.0, 2.5, np.nan, 1.0]),
            "flag": np.array([True, False, True, True]),
        },
    )

    assert [(s.segment, s.value, s.rows) for s in report.segments] == [
        ("size", "1", 2),
        ("size", "2.5", 1),
        ("size", "(null)", 1),
        ("flag", "true", 3),
        ("flag", "false", 1),
    ]


def test_multiclass_regression_and_ranking_segments_equal_their_references() -> None:
    rng = np.random.default_rng(12)
    rows = 600
    group = rng.choice(np.array(["x", "y", "z"]), rows)
    segments = {"region": group}

    target = rng.integers(0, 3, rows)
    raw = rng.random((rows, 3)) + np.eye(3)[target]
    probabilities = raw / raw.sum(axis=1, keepdims=True)
    multiclass = evaluate_arrays(
        multiclass_config(resamples=50, segments=(_COLUMN,)),
        target,
        probabilities,
        segments=segments,
    )
    truth = rng.normal(size=rows)
    guess = truth + rng.normal(size=rows)
    regression = evaluate_arrays(
        regression_config(resamples=50, segments=(_COLUMN,)), truth, guess, segments=segments
    )
    queries = np.repeat(np.arange(60), 10)
    relevance = rng.integers(0, 3, rows).astype(float)
    ranking = evaluate_arrays(
        ranking_config(resamples=50, segments=(_COLUMN,), cutoffs=(3,)),
        relevance,
        guess,
        segments=segments,
        queries=queries,
        batch_rows=45,
    )

    for value in ("x", "y", "z"):
        rows_in = group == value
        expected = sklearn_multiclass(target[rows_in], probabilities[rows_in])
        assert_metrics(_values(_by_value(multiclass.segments, "region")[value]), expected)
        expected = sklearn_regression(truth[rows_in], guess[rows_in])
        assert_metrics(_values(_by_value(regression.segments, "region")[value]), expected)
        expected = ranking_reference(relevance[rows_in], guess[rows_in], queries[rows_in], (3,))
        assert_metrics(_values(_by_value(ranking.segments, "region")[value]), expected)
    for report in (multiclass, regression, ranking):
        for segment in report.segments:
            assert all(e.has_interval for e in segment.metrics.values())
