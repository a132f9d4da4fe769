"""Reference computations (scikit-learn, fairlearn and direct definitions) and data strategies
shared by the evaluation engine's tests."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from lockgate.domain.evaluation import EvaluationConfig, ModelReport, Task

TOLERANCE = 1e-9
TIED_SCORES = (0.0, 0.1, 0.25, 0.5, 0.5000001, 0.75, 0.9, 1.0)


def binary_config(**options: Any) -> EvaluationConfig:
    return EvaluationConfig(task=Task.BINARY_CLASSIFICATION, target="label", **options)


def multiclass_config(**options: Any) -> EvaluationConfig:
    return EvaluationConfig(task=Task.MULTICLASS_CLASSIFICATION, target="label", **options)


def regression_config(**options: Any) -> EvaluationConfig:
    return EvaluationConfig(task=Task.REGRESSION, target="label", **options)


def ranking_config(**options: Any) -> EvaluationConfig:
    return EvaluationConfig(task=Task.RANKING, target="relevance", query="query", **options)


def values(report: ModelReport) -> dict[str, float]:
    return {name: estimate.value for name, estimate in report.metrics.items()}


def assert_metrics(found: dict[str, float], expected: dict[str, float]) -> None:
    """Same metric names, values within TOLERANCE (relative for large values)."""
    assert set(found) == set(expected), (sorted(found), sorted(expected))
    for name, value in expected.items():
        assert abs(found[name] - value) <= TOLERANCE * max(1.0, abs(value)), (name, found, value)


# --- strategies ------------------------------------------------------------------------------


@st.composite
def binary_data(draw: st.DrawFn, min_rows: int = 1, max_rows: int = 80) -> tuple[Any, Any]:
    """0/1 labels and scores in [0, 1], sometimes with many ties."""
    rows = draw(st.integers(min_rows, max_rows))
    target = draw(hnp.arrays(np.int64, rows, elements=st.integers(0, 1)))
    tied = draw(st.booleans())
    elements = st.sampled_from(TIED_SCORES) if tied else st.floats(0.0, 1.0)
    scores = draw(hnp.arrays(np.float64, rows, elements=elements))
    return target, scores


@st.composite
def multiclass_data(draw: st.DrawFn, max_rows: int = 80) -> tuple[Any, Any]:
    """Class indices and row-normalized probabilities (3 to 5 classes)."""
    classes = draw(st.integers(3, 5))
    rows = draw(st.integers(1, max_rows))
    target = draw(hnp.arrays(np.int64, rows, elements=st.integers(0, classes - 1)))
    grid = draw(st.booleans())
    elements = st.integers(0, 4) if grid else st.integers(1, 1000)
    raw = draw(hnp.arrays(np.int64, (rows, classes), elements=elements)).astype(np.float64) + 1.0
    return target, raw / raw.sum(axis=1, keepdims=True)


# --- references ------------------------------------------------------------------------------


def sklearn_binary(target: Any, scores: Any, threshold: float = 0.5) -> dict[str, float]:
    """scikit-learn's binary metrics, with the engine's rule for what is undefined."""
    predicted = (scores >= threshold).astype(int)
    result = {
        "accuracy": skm.accuracy_score(target, predicted),
        "precision": skm.precision_score(target, predicted, zero_division=0),
        "recall": skm.recall_score(target, predicted, zero_division=0),
        "f1": skm.f1_score(target, predicted, zero_division=0),
        "log_loss": skm.log_loss(target, scores, labels=[0, 1]),
        "brier_score": skm.brier_score_loss(target, scores, pos_label=1),
    }
    if target.any():
        result["pr_auc"] = skm.average_precision_score(target, scores)
        if not target.all():
            result["roc_auc"] = skm.roc_auc_score(target, scores)
    return {name: float(value) for name, value in result.items()}


def sklearn_multiclass(target: Any, probabilities: Any) -> dict[str, float]:
    """scikit-learn's multiclass metrics; the curves only when every class occurs."""
    classes = probabilities.shape[1]
    labels = list(range(classes))
    predicted = probabilities.argmax(axis=1)
    result = {"accuracy": skm.accuracy_score(target, predicted)}
    for average in ("macro", "weighted"):
        for name, metric in (
            ("precision", skm.precision_score),
            ("recall", skm.recall_score),
            ("f1", skm.f1_score),
        ):
            result[f"{name}_{average}"] = metric(
                target, predicted, average=average, zero_division=0
            )
    result["log_loss"] = skm.log_loss(target, probabilities, labels=labels)
    result["brier_score"] = skm.brier_score_loss(target, probabilities, labels=labels)
    if np.unique(target).size == classes:
        result["roc_auc"] = skm.roc_auc_score(target, probabilities, multi_class="ovr")
        result["pr_auc"] = skm.average_precision_score(target, probabilities, average="macro")
    return {name: float(value) for name, value in result.items()}


def sklearn_regression(target: Any, predicted: Any) -> dict[str, float]:
    result = {
        "mae": skm.mean_absolute_error(target, predicted),
        "rmse": skm.root_mean_squared_error(target, predicted),
        "mape": skm.mean_absolute_percentage_error(target, predicted),
    }
    if np.ptp(target) > 0 and np.sum((target - target.mean()) ** 2) > 0:
        result["r2"] = skm.r2_score(target, predicted)
    return {name: float(value) for name, value in result.items()}


def query_slices(queries: Any) -> list[slice]:
    """Each query's contiguous rows."""
    starts = [0, *(np.flatnonzero(queries[1:] != queries[:-1]) + 1).tolist(), len(queries)]
    return [slice(a, b) for a, b in pairwise(starts)]


def ndcg_reference(relevance: Any, scores: Any, k: int) -> float:
    """scikit-learn's NDCG@k of one query (one document: 1 if relevant, else 0, since
    scikit-learn refuses single-document queries)."""
    if relevance.size == 1:
        return 1.0 if relevance[0] > 0 else 0.0
    return float(skm.ndcg_score(relevance[None, :], scores[None, :], k=k))


def average_precision_at(relevance: Any, scores: Any, k: int) -> float:
    """AP@k straight from the definition: sum over ranks i <= k of P@i * rel_i / min(k, R),
    rel_i = relevance > 0, ties kept in input order, 0 without relevant rows."""
    order = sorted(range(relevance.size), key=lambda row: -scores[row])  # stable
    relevant = int((relevance > 0).sum())
    if relevant == 0:
        return 0.0
    hits, total = 0, 0.0
    for rank, row in enumerate(order[:k], start=1):
        if relevance[row] > 0:
            hits += 1
            total += hits / rank
    return total / min(k, relevant)


def ranking_reference(
    relevance: Any, scores: Any, queries: Any, cutoffs: tuple[int, ...]
) -> dict[str, float]:
    parts = query_slices(queries)
    result = {}
    for k in cutoffs:
        result[f"ndcg@{k}"] = float(
            np.mean([ndcg_reference(relevance[p], scores[p], k) for p in parts])
        )
        result[f"map@{k}"] = float(
            np.mean([average_precision_at(relevance[p], scores[p], k) for p in parts])
        )
    return result


def calibration_reference(outcome: Any, confidence: Any, bins: int) -> tuple[Any, Any, Any, float]:
    """scikit-learn's curve (observed, predicted), the rows per non-empty bin and the ECE."""
    observed, predicted = calibration_curve(outcome, confidence, n_bins=bins, strategy="uniform")
    index = np.searchsorted(np.linspace(0.0, 1.0, bins + 1)[1:-1], confidence)
    rows = np.bincount(index, minlength=bins)
    rows = rows[rows > 0]
    error = float(np.sum(rows / outcome.size * np.abs(predicted - observed)))
    return observed, predicted, rows, error
