"""Regression metrics against scikit-learn."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lockgate.compute.evaluation import evaluate_arrays
from tests.compute.evaluation.cases import (
    assert_metrics,
    regression_config,
    sklearn_regression,
    values,
)

_NUMBERS = st.floats(-1e6, 1e6, allow_subnormal=False) | st.sampled_from([0.0, 1.0, -2.5, 1e-20])


@settings(max_examples=80, deadline=None)
@given(
    data=st.integers(1, 60).flatmap(
        lambda rows: st.tuples(
            hnp.arrays(np.float64, rows, elements=_NUMBERS),
            hnp.arrays(np.float64, rows, elements=_NUMBERS),
        )
    ),
    batch_rows=st.integers(1, 60),
)
def test_every_metric_equals_sklearn(data: tuple[np.ndarray, np.ndarray], batch_rows: int) -> None:
    target, predicted = data

    report = evaluate_arrays(
        regression_config(resamples=0), target, predicted, batch_rows=batch_rows
    )

    assert_metrics(values(report), sklearn_regression(target, predicted))


def test_r2_keeps_its_precision_far_from_zero() -> None:
    rng = np.random.default_rng(4)
    target = 1e9 + rng.normal(size=5_000)
    predicted = target + rng.normal(scale=0.5, size=5_000)

    report = evaluate_arrays(regression_config(resamples=200), target, predicted, batch_rows=777)

    assert_metrics(values(report), sklearn_regression(target, predicted))
    r2 = report.metrics["r2"]
    assert r2.lower is not None
    assert r2.upper is not None
    assert 0.6 < r2.lower < r2.value < r2.upper < 0.9


def test_r2_is_absent_when_the_squared_deviations_underflow() -> None:
    target = np.array([0.0, 5e-324])

    report = evaluate_arrays(regression_config(resamples=0), target, np.zeros(2))

    assert "r2" not in report.metrics


def test_r2_is_absent_for_a_constant_target() -> None:
    report = evaluate_arrays(regression_config(resamples=20), np.full(10, 3.0), np.arange(10.0))

    assert "r2" not in report.metrics
    assert set(report.metrics) == {"mae", "rmse", "mape"}
