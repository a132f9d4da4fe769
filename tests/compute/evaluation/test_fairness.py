"""Fairness per sensitive attribute: group rates and the disparity measures against fairlearn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fairlearn import metrics as flm
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lockgate.compute.evaluation import compare_arrays, evaluate_arrays
from lockgate.domain.evaluation import FAIRNESS_MEASURES
from tests.compute.evaluation.cases import assert_metrics, binary_config, sklearn_binary

_FAIRLEARN = {
    "demographic_parity_difference": flm.demographic_parity_difference,
    "demographic_parity_ratio": flm.demographic_parity_ratio,
    "equal_opportunity_difference": flm.equal_opportunity_difference,
    "equalized_odds_difference": flm.equalized_odds_difference,
}


@st.composite
def grouped_data(draw: st.DrawFn) -> tuple[Any, Any, Any]:
    """Labels, scores and 1-4 groups, every group holding both labels (so that every rate is
    defined and fairlearn's conventions and the engine's agree)."""
    groups = draw(st.integers(1, 4))
    per_group = draw(st.lists(st.integers(2, 25), min_size=groups, max_size=groups))
    rows = sum(per_group)
    group = np.repeat(np.array(["g0", "g1", "g2", "g3"][:groups]), per_group)
    target = draw(hnp.arrays(np.int64, rows, elements=st.integers(0, 1)))
    starts = np.cumsum([0, *per_group[:-1]])
    target[starts] = 1
    target[starts + 1] = 0
    scores = draw(
        hnp.arrays(np.float64, rows, elements=st.sampled_from([0.1, 0.4, 0.5, 0.7, 0.95]))
    )
    order = draw(st.permutations(range(rows)))
    return target[order], scores[order], group[order]


@settings(max_examples=40, deadline=None)
@given(data=grouped_data(), threshold=st.sampled_from([0.4, 0.5, 0.7]))
def test_measures_and_group_metrics_equal_fairlearn_and_sklearn(
    data: tuple[Any, Any, Any], threshold: float
) -> None:
    target, scores, group = data
    config = binary_config(resamples=0, sensitive=("group",), threshold=threshold)

    report = evaluate_arrays(config, target, scores, sensitive={"group": group}, batch_rows=11)

    predicted = (scores >= threshold).astype(int)
    (fairness,) = report.fairness
    assert fairness.attribute == "group"
    for name, measure in _FAIRLEARN.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = measure(target, predicted, sensitive_features=group)
        if np.isfinite(expected):
            assert fairness.measures[name].value == pytest.approx(expected, abs=1e-12), name
        else:
            assert name not in fairness.measures
    assert {g.group for g in fairness.groups} == set(np.unique(group))
    for found in fairness.groups:
        rows = group == found.group
        assert found.rows == rows.sum()
        assert found.selection_rate == pytest.approx(predicted[rows].mean())
        assert found.true_positive_rate == pytest.approx(predicted[rows & (target == 1)].mean())
        assert found.false_positive_rate == pytest.approx(predicted[rows & (target == 0)].mean())
        expected_metrics = sklearn_binary(target[rows], scores[rows], threshold)
        assert_metrics({n: e.value for n, e in found.metrics.items()}, expected_metrics)


def test_a_group_without_positives_has_no_true_positive_rate_and_leaves_that_gap() -> None:
    target = np.array([1, 0, 1, 0, 0, 0])
    scores = np.array([0.9, 0.2, 0.3, 0.8, 0.1, 0.2])
    group = np.array(["a", "a", "a", "a", "b", "b"])

    report = evaluate_arrays(
        binary_config(resamples=0, sensitive=("group",)), target, scores, sensitive={"group": group}
    )

    (fairness,) = report.fairness
    b = next(g for g in fairness.groups if g.group == "b")
    assert b.true_positive_rate is None
    assert b.false_positive_rate == 0.0
    # group a's TPR is 0.5; b has none, so the gap is over a alone (fairlearn would say 0.5)
    assert fairness.measures["equal_opportunity_difference"].value == 0.0
    assert fairness.measures["equalized_odds_difference"].value == pytest.approx(0.5)
    assert fairness.measures["demographic_parity_difference"].value == pytest.approx(0.5)
    assert fairness.measures["demographic_parity_ratio"].value == 0.0


def test_measures_have_intervals_and_identical_models_change_by_exactly_zero() -> None:
    rng = np.random.default_rng(21)
    rows = 4_000
    group = rng.choice(np.array(["f", "m", "x"]), rows, p=[0.45, 0.45, 0.1])
    target = rng.integers(0, 2, rows)
    scores = np.clip(rng.normal(0.4 + 0.2 * target + 0.05 * (group == "m"), 0.2), 0, 1)
    config = binary_config(resamples=200, sensitive=("group",))

    paired = compare_arrays(
        config, target, scores, scores.copy(), sensitive={"group": group}, batch_rows=999
    )

    (fairness,) = paired.candidate.fairness
    assert set(fairness.measures) == set(FAIRNESS_MEASURES)
    for estimate in fairness.measures.values():
        assert estimate.lower is not None
        assert estimate.upper is not None
        assert estimate.lower <= estimate.value <= estimate.upper
    changes = paired.fairness_changes["group"]
    assert [c.metric for c in changes] == list(FAIRNESS_MEASURES)
    for change in changes:
        assert (change.delta.value, change.delta.lower, change.delta.upper) == (0.0, 0.0, 0.0)
