"""The metric catalog: every metric and fairness measure Lockgate computes, by task, with the
direction that counts as better. The engines and the verdict both take names from here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from lockgate.domain.errors import InvalidInputError

__all__ = [
    "FAIRNESS_MEASURES",
    "MAX_RANKING_CUTOFF",
    "Direction",
    "MetricInfo",
    "Task",
    "check_cutoffs",
    "metric_info",
    "primary_metric",
    "task_metrics",
]

MAX_RANKING_CUTOFF = 1_000
_CUTOFF_NAME = re.compile(r"(ndcg|map)@([1-9][0-9]{0,3})")


class Task(StrEnum):
    """What a model predicts, which selects the metric set."""

    BINARY_CLASSIFICATION = "binary_classification"
    MULTICLASS_CLASSIFICATION = "multiclass_classification"
    REGRESSION = "regression"
    RANKING = "ranking"

    @property
    def is_classification(self) -> bool:
        return self in {Task.BINARY_CLASSIFICATION, Task.MULTICLASS_CLASSIFICATION}


class Direction(StrEnum):
    """Which way a metric improves."""

    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"

    def worsening(self, delta: float) -> float:
        """How much worse a change of `delta` (candidate minus baseline) is; negative if better."""
        return -delta if self is Direction.HIGHER_IS_BETTER else delta


@dataclass(frozen=True, slots=True)
class MetricInfo:
    name: str
    direction: Direction
    description: str


_HIGHER = Direction.HIGHER_IS_BETTER
_LOWER = Direction.LOWER_IS_BETTER

_CATALOG: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        MetricInfo("accuracy", _HIGHER, "share of rows whose predicted class is the label"),
        MetricInfo("precision", _HIGHER, "true positives over predicted positives"),
        MetricInfo("recall", _HIGHER, "true positives over actual positives"),
        MetricInfo("f1", _HIGHER, "harmonic mean of precision and recall"),
        MetricInfo("precision_macro", _HIGHER, "precision averaged over classes"),
        MetricInfo("recall_macro", _HIGHER, "recall averaged over classes"),
        MetricInfo("f1_macro", _HIGHER, "F1 averaged over classes"),
        MetricInfo("precision_weighted", _HIGHER, "precision averaged by class support"),
        MetricInfo("recall_weighted", _HIGHER, "recall averaged by class support"),
        MetricInfo("f1_weighted", _HIGHER, "F1 averaged by class support"),
        MetricInfo("roc_auc", _HIGHER, "area under the ROC curve (one-vs-rest macro for classes)"),
        MetricInfo("pr_auc", _HIGHER, "average precision (one-vs-rest macro for classes)"),
        MetricInfo("log_loss", _LOWER, "mean negative log-likelihood of the label"),
        MetricInfo("brier_score", _LOWER, "mean squared error of the predicted probabilities"),
        MetricInfo("mae", _LOWER, "mean absolute error"),
        MetricInfo("rmse", _LOWER, "root mean squared error"),
        MetricInfo("r2", _HIGHER, "coefficient of determination"),
        MetricInfo("mape", _LOWER, "mean absolute percentage error (as a fraction)"),
        MetricInfo(
            "expected_calibration_error",
            _LOWER,
            "row-weighted mean gap between predicted probability and observed rate per bin",
        ),
        MetricInfo(
            "demographic_parity_difference",
            _LOWER,
            "largest gap in selection rate between groups",
        ),
        MetricInfo(
            "demographic_parity_ratio",
            _HIGHER,
            "smallest over largest selection rate between groups",
        ),
        MetricInfo(
            "equal_opportunity_difference",
            _LOWER,
            "largest gap in true positive rate between groups",
        ),
        MetricInfo(
            "equalized_odds_difference",
            _LOWER,
            "the larger of the largest gaps in true and false positive rate between groups",
        ),
    )
}

FAIRNESS_MEASURES = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equal_opportunity_difference",
    "equalized_odds_difference",
)

_TASK_METRICS: dict[Task, tuple[str, ...]] = {
    Task.BINARY_CLASSIFICATION: (
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "pr_auc",
        "log_loss",
        "brier_score",
    ),
    Task.MULTICLASS_CLASSIFICATION: (
        "accuracy",
        "precision_macro",
        "recall_macro",
        "f1_macro",
        "precision_weighted",
        "recall_weighted",
        "f1_weighted",
        "roc_auc",
        "pr_auc",
        "log_loss",
        "brier_score",
    ),
    Task.REGRESSION: ("mae", "rmse", "r2", "mape"),
}

_PRIMARY: dict[Task, str] = {
    Task.BINARY_CLASSIFICATION: "roc_auc",
    Task.MULTICLASS_CLASSIFICATION: "f1_macro",
    Task.REGRESSION: "rmse",
}


def check_cutoffs(cutoffs: tuple[int, ...], *, field: str = "k") -> None:
    """Ranking cutoffs: 1 to 8 distinct values in 1..1000."""
    if not 1 <= len(cutoffs) <= 8 or len(set(cutoffs)) != len(cutoffs):
        raise InvalidInputError("give 1 to 8 distinct ranking cutoffs", field=field)
    if any(not 1 <= k <= MAX_RANKING_CUTOFF for k in cutoffs):
        raise InvalidInputError(
            f"a ranking cutoff is between 1 and {MAX_RANKING_CUTOFF}", field=field
        )


def task_metrics(task: Task, cutoffs: tuple[int, ...] = (10,)) -> tuple[str, ...]:
    """The metric names a task reports, in display order (ranking: `ndcg@k`, `map@k` per k)."""
    if task is Task.RANKING:
        return tuple(f"{kind}@{k}" for kind in ("ndcg", "map") for k in cutoffs)
    return _TASK_METRICS[task]


def primary_metric(task: Task, cutoffs: tuple[int, ...] = (10,)) -> str:
    """The metric that names the worst segment and the default threshold."""
    if task is Task.RANKING:
        return f"ndcg@{cutoffs[0]}"
    return _PRIMARY[task]


def metric_info(name: str) -> MetricInfo:
    """Raises InvalidInputError for a name outside the catalog."""
    info = _CATALOG.get(name)
    if info is not None:
        return info
    match = _CUTOFF_NAME.fullmatch(name)
    if match is not None:
        kind, k = match.groups()
        what = (
            "normalized discounted cumulative gain" if kind == "ndcg" else "mean average precision"
        )
        return MetricInfo(name, _HIGHER, f"{what} over the top {k} of each query")
    raise InvalidInputError(f"unknown metric {name!r}", field="metric")
