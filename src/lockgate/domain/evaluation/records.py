"""Evaluations and comparisons as recorded: which version, on which dataset version, with which
settings, what was found, and (for a comparison) the verdict against thresholds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NewType

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.evaluation.config import MAX_SENSITIVE, EvaluationConfig
from lockgate.domain.evaluation.metrics import FAIRNESS_MEASURES, Task, task_metrics
from lockgate.domain.evaluation.report import (
    Estimate,
    MetricChange,
    ModelReport,
    PairedReport,
)
from lockgate.domain.evaluation.verdict import Thresholds, Verdict
from lockgate.domain.identity import Actor
from lockgate.domain.registry import ModelId
from lockgate.domain.tracking import DatasetInput, ProjectId

__all__ = [
    "Comparison",
    "ComparisonId",
    "Evaluation",
    "EvaluationId",
    "check_paired",
    "check_report",
]

EvaluationId = NewType("EvaluationId", str)
ComparisonId = NewType("ComparisonId", str)

CALIBRATION_ERROR = "expected_calibration_error"
MAX_SEGMENTS = 1_000
MAX_GROUPS = 200
MAX_CALIBRATION_BINS = 100  # EvaluationConfig.calibration_bins is at most 100
# Submitted numbers are recomputed from their parts to this tolerance.
_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One version of a model evaluated on one dataset version. `package_digest` is the
    manifest digest of the package that was scored; `engine` names what computed it."""

    id: EvaluationId
    project_id: ProjectId
    model_id: ModelId
    model_name: str
    version: int
    dataset: DatasetInput
    config: EvaluationConfig
    report: ModelReport
    package_digest: str
    engine: str
    created_at: datetime
    created_by: Actor


@dataclass(frozen=True, slots=True)
class Comparison:
    """A candidate version against a baseline (the holder of `baseline_alias` when named) on
    the same dataset version, judged against `thresholds`."""

    id: ComparisonId
    project_id: ProjectId
    model_id: ModelId
    model_name: str
    candidate: Evaluation
    baseline: Evaluation
    baseline_alias: str | None
    report: PairedReport
    thresholds: Thresholds
    verdict: Verdict
    created_at: datetime
    created_by: Actor


def check_report(report: ModelReport, config: EvaluationConfig, *, field: str = "report") -> None:
    """A submitted report: the config's task, known metric names, finite numbers, ordered
    intervals and bounded sizes. Raises InvalidInputError naming the part at fault."""
    if report.task is not config.task:
        raise InvalidInputError("the report's task is not the config's", field=f"{field}.task")
    if report.rows < 0:
        raise InvalidInputError("rows is not negative", field=f"{field}.rows")
    if report.task is Task.RANKING and report.cutoffs != config.cutoffs:
        raise InvalidInputError(
            "the report's cutoffs are not the config's", field=f"{field}.cutoffs"
        )
    known = set(task_metrics(report.task, report.cutoffs))
    _check_metrics(report.metrics, known, field=f"{field}.metrics")
    _check_sizes(report, field)
    for index, segment in enumerate(report.segments):
        _check_metrics(segment.metrics, known, field=f"{field}.segments[{index}].metrics")
    for index, fairness in enumerate(report.fairness):
        where = f"{field}.fairness[{index}]"
        if len(fairness.groups) > MAX_GROUPS:
            raise InvalidInputError(f"at most {MAX_GROUPS} groups", field=f"{where}.groups")
        _check_metrics(fairness.measures, set(FAIRNESS_MEASURES), field=f"{where}.measures")
        for position, group in enumerate(fairness.groups):
            _check_metrics(group.metrics, known, field=f"{where}.groups[{position}].metrics")
    if report.calibration is not None:
        _check_estimate(
            report.calibration.expected_calibration_error,
            field=f"{field}.calibration.expected_calibration_error",
        )


def _check_sizes(report: ModelReport, field: str) -> None:
    if len(report.segments) > MAX_SEGMENTS:
        raise InvalidInputError(f"at most {MAX_SEGMENTS} segments", field=f"{field}.segments")
    if len(report.fairness) > MAX_SENSITIVE:
        raise InvalidInputError(
            f"at most {MAX_SENSITIVE} sensitive attributes", field=f"{field}.fairness"
        )
    if report.calibration is not None and len(report.calibration.bins) > MAX_CALIBRATION_BINS:
        raise InvalidInputError(
            f"at most {MAX_CALIBRATION_BINS} calibration bins", field=f"{field}.calibration.bins"
        )


def check_paired(report: PairedReport) -> None:
    """Each change must be the candidate's value minus the baseline's, as the two reports
    state them; a submitted comparison cannot claim numbers its reports do not hold."""
    candidate, baseline = _overall(report.candidate), _overall(report.baseline)
    for change in report.changes:
        _check_change(change, candidate, baseline, "changes")
    segments = {(s.segment, s.value): s.metrics for s in report.candidate.segments}
    baseline_segments = {(s.segment, s.value): s.metrics for s in report.baseline.segments}
    for index, segment in enumerate(report.segment_changes):
        key = (segment.segment, segment.value)
        if key not in segments or key not in baseline_segments:
            raise InvalidInputError(
                f"segment {segment.segment}={segment.value} is not in both reports",
                field=f"segment_changes[{index}]",
            )
        for change in segment.changes:
            _check_change(
                change, segments[key], baseline_segments[key], f"segment_changes[{index}]"
            )
    measures = {f.attribute: f.measures for f in report.candidate.fairness}
    baseline_measures = {f.attribute: f.measures for f in report.baseline.fairness}
    for attribute, changes in report.fairness_changes.items():
        where = f"fairness_changes.{attribute}"
        if attribute not in measures or attribute not in baseline_measures:
            raise InvalidInputError(f"{attribute} is not in both reports", field=where)
        for change in changes:
            _check_change(change, measures[attribute], baseline_measures[attribute], where)


def _overall(report: ModelReport) -> Mapping[str, Estimate]:
    """A report's overall estimates: its metrics and, for a classifier, its calibration error
    (which the paired changes carry like a metric)."""
    if report.calibration is None:
        return report.metrics
    return {
        **report.metrics,
        CALIBRATION_ERROR: report.calibration.expected_calibration_error,
    }


def _check_change(
    change: MetricChange,
    candidate: Mapping[str, Estimate],
    baseline: Mapping[str, Estimate],
    field: str,
) -> None:
    found = candidate.get(change.metric)
    before = baseline.get(change.metric)
    if found is None or before is None:
        raise InvalidInputError(
            f"{change.metric} is not in both reports", field=f"{field}.{change.metric}"
        )
    _check_estimate(change.delta, field=f"{field}.{change.metric}.delta")
    consistent = (
        _close(change.candidate, found.value)
        and _close(change.baseline, before.value)
        and _close(change.delta.value, found.value - before.value)
    )
    if not consistent:
        raise InvalidInputError(
            f"{change.metric}: the change is not the candidate's value minus the baseline's",
            field=f"{field}.{change.metric}",
        )


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=_TOLERANCE, abs_tol=_TOLERANCE)


def _check_metrics(metrics: Mapping[str, Estimate], known: set[str], *, field: str) -> None:
    if len(metrics) > len(known):
        raise InvalidInputError("a metric is repeated or unknown", field=field)
    for name, estimate in metrics.items():
        if name not in known:
            raise InvalidInputError(f"{name!r} is not a metric of this task", field=field)
        _check_estimate(estimate, field=f"{field}.{name}")


def _check_estimate(estimate: Estimate, *, field: str) -> None:
    numbers = [estimate.value, estimate.lower, estimate.upper]
    if any(n is not None and not math.isfinite(n) for n in numbers):
        raise InvalidInputError("numbers are finite", field=field)
    if (estimate.lower is None) != (estimate.upper is None):
        raise InvalidInputError("an interval has both bounds or neither", field=field)
    if (
        estimate.lower is not None
        and estimate.upper is not None
        and estimate.lower > estimate.upper
    ):
        raise InvalidInputError("an interval's lower bound is at most its upper", field=field)
