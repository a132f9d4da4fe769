"""Binary classification metrics, the confusion matrix and calibration against scikit-learn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix

from lockgate.compute.evaluation import evaluate_arrays
from tests.compute.evaluation.cases import (
    assert_metrics,
    binary_config,
    binary_data,
    calibration_reference,
    sklearn_binary,
    values,
)


@settings(max_examples=60, deadline=None)
@given(data=binary_data(), threshold=st.sampled_from([0.0, 0.3, 0.5, 0.5000001, 0.9, 1.0]))
def test_every_metric_equals_sklearn(data: tuple[Any, Any], threshold: float) -> None:
    target, scores = data
    report = evaluate_arrays(binary_config(threshold=threshold, resamples=0), target, scores)

    assert report.rows == target.size
    assert_metrics(values(report), sklearn_binary(target, scores, threshold))


@settings(max_examples=30, deadline=None)
@given(data=binary_data(), batch_rows=st.integers(1, 30))
def test_batches_give_the_same_metrics_as_one_batch(data: tuple[Any, Any], batch_rows: int) -> None:
    target, scores = data
    config = binary_config(resamples=0)

    batched = evaluate_arrays(config, target, scores, batch_rows=batch_rows)

    assert_metrics(values(batched), sklearn_binary(target, scores))


@settings(max_examples=40, deadline=None)
@given(data=binary_data(), threshold=st.sampled_from([0.25, 0.5, 0.75]))
def test_confusion_matrix_equals_sklearn(data: tuple[Any, Any], threshold: float) -> None:
    target, scores = data
    report = evaluate_arrays(
        binary_config(threshold=threshold, resamples=0), target, scores, labels=("no", "yes")
    )

    expected = confusion_matrix(target, (scores >= threshold).astype(int), labels=[0, 1])
    assert report.confusion_matrix is not None
    assert report.confusion_matrix.labels == ("no", "yes")
    assert np.array_equal(np.array(report.confusion_matrix.counts), expected)


@settings(max_examples=40, deadline=None)
@given(data=binary_data(min_rows=2), bins=st.integers(2, 15))
def test_calibration_equals_sklearn_calibration_curve(data: tuple[Any, Any], bins: int) -> None:
    target, scores = data
    report = evaluate_arrays(binary_config(resamples=0, calibration_bins=bins), target, scores)

    observed, predicted, rows, error = calibration_reference(target, scores, bins)
    assert report.calibration is not None
    found = report.calibration.bins
    assert [b.rows for b in found] == rows.tolist()
    assert np.allclose([b.observed_rate for b in found], observed, rtol=0, atol=1e-12)
    assert np.allclose([b.mean_predicted for b in found], predicted, rtol=0, atol=1e-12)
    assert report.calibration.expected_calibration_error.value == pytest.approx(error, abs=1e-12)
    edges = np.linspace(0.0, 1.0, bins + 1)
    for found_bin in found:
        assert found_bin.lower in edges
        assert found_bin.upper == pytest.approx(found_bin.lower + 1.0 / bins)


def test_a_score_equal_to_the_threshold_is_predicted_positive() -> None:
    target = np.array([0, 1, 0, 1])
    scores = np.array([0.3, 0.3, 0.2, 0.9])

    report = evaluate_arrays(binary_config(threshold=0.3, resamples=0), target, scores)

    assert report.confusion_matrix is not None
    assert report.confusion_matrix.counts == ((1, 1), (0, 2))


def test_metrics_undefined_on_the_data_are_absent_and_zero_division_gives_zero() -> None:
    target = np.array([0, 0, 0])
    scores = np.array([0.1, 0.2, 0.3])

    report = evaluate_arrays(binary_config(resamples=50), target, scores)

    assert "roc_auc" not in report.metrics
    assert "pr_auc" not in report.metrics
    assert report.metrics["precision"].value == 0.0
    assert report.metrics["recall"].value == 0.0
    assert report.metrics["f1"].value == 0.0
    assert report.metrics["accuracy"].value == 1.0
    assert all(np.isfinite(e.value) for e in report.metrics.values())


def test_log_loss_clips_like_sklearn_at_certain_wrong_scores() -> None:
    target = np.array([1, 0, 1, 0])
    scores = np.array([0.0, 1.0, 1.0, 0.0])

    report = evaluate_arrays(binary_config(resamples=0), target, scores)

    assert_metrics(values(report), sklearn_binary(target, scores))
    assert report.metrics["log_loss"].value == pytest.approx(-np.log(np.finfo(float).eps) / 2)


def test_intervals_contain_the_estimate_for_a_reasonable_sample() -> None:
    rng = np.random.default_rng(5)
    target = rng.integers(0, 2, 3_000)
    scores = np.clip(rng.normal(0.35 + 0.3 * target, 0.2), 0.0, 1.0)

    report = evaluate_arrays(binary_config(resamples=300), target, scores)

    for name, estimate in report.metrics.items():
        assert estimate.lower is not None, name
        assert estimate.upper is not None, name
        assert estimate.lower < estimate.value < estimate.upper, name
        assert estimate.upper - estimate.lower < 0.1, name
    assert report.calibration is not None
    assert report.calibration.expected_calibration_error.has_interval


def test_no_rows_reports_no_metrics() -> None:
    report = evaluate_arrays(binary_config(), np.zeros(0, dtype=int), np.zeros(0))

    assert report.rows == 0
    assert report.metrics == {}
    assert report.confusion_matrix is None
