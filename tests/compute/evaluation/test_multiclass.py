"""Multiclass metrics, the confusion matrix and top-label calibration against scikit-learn."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from sklearn.metrics import brier_score_loss, confusion_matrix, roc_auc_score

from lockgate.compute.evaluation import evaluate_arrays
from tests.compute.evaluation.cases import (
    assert_metrics,
    calibration_reference,
    multiclass_config,
    multiclass_data,
    sklearn_multiclass,
    values,
)


@settings(max_examples=60, deadline=None)
@given(data=multiclass_data())
def test_every_metric_equals_sklearn(data: tuple[Any, Any]) -> None:
    target, probabilities = data

    report = evaluate_arrays(multiclass_config(resamples=0), target, probabilities)

    assert_metrics(values(report), sklearn_multiclass(target, probabilities))


@settings(max_examples=30, deadline=None)
@given(data=multiclass_data())
def test_confusion_matrix_and_top_label_calibration_equal_sklearn(data: tuple[Any, Any]) -> None:
    target, probabilities = data
    classes = probabilities.shape[1]
    labels = tuple(f"class {index}" for index in range(classes))

    report = evaluate_arrays(multiclass_config(resamples=0), target, probabilities, labels=labels)

    predicted = probabilities.argmax(axis=1)
    expected = confusion_matrix(target, predicted, labels=list(range(classes)))
    assert report.confusion_matrix is not None
    assert report.confusion_matrix.labels == labels
    assert np.array_equal(np.array(report.confusion_matrix.counts), expected)
    confidence = probabilities.max(axis=1)
    correct = (predicted == target).astype(int)
    observed, mean_predicted, rows, error = calibration_reference(correct, confidence, 10)
    assert report.calibration is not None
    assert [b.rows for b in report.calibration.bins] == rows.tolist()
    assert np.allclose([b.observed_rate for b in report.calibration.bins], observed, atol=1e-12)
    assert np.allclose(
        [b.mean_predicted for b in report.calibration.bins], mean_predicted, atol=1e-12
    )
    assert abs(report.calibration.expected_calibration_error.value - error) < 1e-12


def test_two_classes_scale_brier_by_half_as_sklearn_does() -> None:
    rng = np.random.default_rng(3)
    target = rng.integers(0, 2, 200)
    positive = rng.random(200)
    probabilities = np.column_stack([1.0 - positive, positive])

    report = evaluate_arrays(multiclass_config(resamples=0), target, probabilities)

    brier = brier_score_loss(target, probabilities, labels=[0, 1])
    assert abs(report.metrics["brier_score"].value - brier) < 1e-12
    assert abs(report.metrics["brier_score"].value - np.mean((target - positive) ** 2)) < 1e-12
    # one-vs-rest with two classes: both classes' curves are the binary one
    assert abs(report.metrics["roc_auc"].value - roc_auc_score(target, positive)) < 1e-12


def test_curves_are_absent_when_a_class_never_occurs() -> None:
    target = np.array([0, 1, 0, 1])
    probabilities = np.full((4, 3), 1.0 / 3.0)

    report = evaluate_arrays(multiclass_config(resamples=20), target, probabilities)

    assert "roc_auc" not in report.metrics
    assert "pr_auc" not in report.metrics
    assert "f1_macro" in report.metrics


def test_labels_default_to_column_numbers_and_intervals_cover_every_metric() -> None:
    rng = np.random.default_rng(8)
    target = rng.integers(0, 4, 2_000)
    logits = rng.normal(size=(2_000, 4))
    logits[np.arange(2_000), target] += 1.5
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)

    report = evaluate_arrays(multiclass_config(resamples=200), target, probabilities)

    assert report.confusion_matrix is not None
    assert report.confusion_matrix.labels == ("0", "1", "2", "3")
    for name, estimate in report.metrics.items():
        assert estimate.lower is not None, name
        assert estimate.upper is not None, name
        assert estimate.lower <= estimate.value <= estimate.upper, name
