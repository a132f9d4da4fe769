"""Small evaluation reports built by hand, and paired reports whose changes are exactly the
candidate's values minus the baseline's (what the server checks)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from lockgate.domain.evaluation import (
    Calibration,
    CalibrationBin,
    ConfusionMatrix,
    Estimate,
    EvaluationConfig,
    FairnessReport,
    GroupMetrics,
    MetricChange,
    ModelReport,
    PairedReport,
    SegmentChange,
    SegmentMetrics,
    SegmentRule,
    Task,
)
from lockgate.domain.tracking import DatasetInput

BINARY = Task.BINARY_CLASSIFICATION

HOLDOUT = DatasetInput(
    "holdout", "f" * 64, 1000, (("tenure_months", "int64"), ("churned", "bool")), None
)


def estimate(value: float, half_width: float | None = 0.01) -> Estimate:
    """A value with a symmetric interval (none when `half_width` is None)."""
    if half_width is None:
        return Estimate(value)
    return Estimate(value, value - half_width, value + half_width)


def binary_config(**changes: Any) -> EvaluationConfig:
    """A binary classification config with one column segment and one sensitive attribute."""
    config = EvaluationConfig(
        BINARY,
        "churned",
        segments=(SegmentRule("plan", column="plan"),),
        sensitive=("sex",),
        seed=7,
    )
    return dataclasses.replace(config, **changes)


def binary_report(
    auc: float = 0.8,
    *,
    rows: int = 1000,
    segments: Mapping[str, tuple[int, float]] | None = None,
    parity: float | None = 0.05,
    accuracy: float = 0.9,
) -> ModelReport:
    """A binary report: roc_auc and accuracy overall, roc_auc per plan segment (rows, auc),
    demographic parity across `sex`, a confusion matrix and calibration."""
    segments = (
        {"basic": (600, auc + 0.01), "pro": (40, auc - 0.1)} if segments is None else segments
    )
    fairness: tuple[FairnessReport, ...] = ()
    if parity is not None:
        groups = (
            GroupMetrics("f", rows // 2, 0.3, 0.7, 0.1, {"roc_auc": estimate(auc)}),
            GroupMetrics("m", rows - rows // 2, 0.3 + parity, 0.72, None, {}),
        )
        fairness = (
            FairnessReport("sex", groups, {"demographic_parity_difference": estimate(parity)}),
        )
    return ModelReport(
        task=BINARY,
        rows=rows,
        metrics={"roc_auc": estimate(auc), "accuracy": estimate(accuracy, None)},
        confusion_matrix=ConfusionMatrix(("false", "true"), ((700, 50), (50, 200))),
        segments=tuple(
            SegmentMetrics("plan", value, count, {"roc_auc": estimate(segment_auc)})
            for value, (count, segment_auc) in segments.items()
        ),
        fairness=fairness,
        calibration=Calibration(
            (CalibrationBin(0.0, 0.5, 600, 0.2, 0.22), CalibrationBin(0.5, 1.0, 400, 0.7, 0.66)),
            estimate(0.03),
        ),
    )


def _change(metric: str, candidate: float, baseline: float, half_width: float) -> MetricChange:
    delta = candidate - baseline
    return MetricChange(
        metric, candidate, baseline, Estimate(delta, delta - half_width, delta + half_width)
    )


def _changes(
    candidate: Mapping[str, Estimate], baseline: Mapping[str, Estimate], half_width: float
) -> tuple[MetricChange, ...]:
    return tuple(
        _change(name, candidate[name].value, baseline[name].value, half_width)
        for name in candidate
        if name in baseline
    )


def pair(candidate: ModelReport, baseline: ModelReport, half_width: float = 0.005) -> PairedReport:
    """The paired report of two reports: every shared metric's change, overall, per shared
    segment and per shared fairness attribute, with an interval of +-`half_width`."""
    base_segments = {(s.segment, s.value): s for s in baseline.segments}
    segment_changes = tuple(
        SegmentChange(
            s.segment,
            s.value,
            s.rows,
            _changes(s.metrics, base_segments[(s.segment, s.value)].metrics, half_width),
        )
        for s in candidate.segments
        if (s.segment, s.value) in base_segments
    )
    base_fairness = {f.attribute: f.measures for f in baseline.fairness}
    fairness = {
        f.attribute: _changes(f.measures, base_fairness[f.attribute], half_width)
        for f in candidate.fairness
        if f.attribute in base_fairness
    }
    return PairedReport(
        candidate,
        baseline,
        _changes(candidate.metrics, baseline.metrics, half_width),
        segment_changes,
        fairness,
    )
