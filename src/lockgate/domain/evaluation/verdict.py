"""The verdict of a comparison: each threshold checked against the paired changes overall, per
segment and per fairness measure; the candidate passes only if every check passes."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.evaluation.metrics import (
    FAIRNESS_MEASURES,
    Direction,
    Task,
    metric_info,
    primary_metric,
    task_metrics,
)
from lockgate.domain.evaluation.report import MetricChange, PairedReport

__all__ = [
    "DEFAULT_MAX_DROP",
    "Check",
    "CheckScope",
    "Threshold",
    "Thresholds",
    "Verdict",
    "default_thresholds",
    "judge",
]

DEFAULT_MAX_DROP = 0.01
MAX_THRESHOLDS = 64


class CheckScope(StrEnum):
    """Where a check looked: the whole dataset, one segment, or one sensitive attribute."""

    OVERALL = "overall"
    SEGMENT = "segment"
    FAIRNESS = "fairness"


@dataclass(frozen=True, slots=True)
class Threshold:
    """The most `metric` may worsen from the baseline to the candidate.

    `max_drop` is in the metric's own units, or a fraction of the baseline's magnitude when
    `relative`. `direction` overrides the catalog's (which way is better). A fairness measure
    is checked on every sensitive attribute; another metric overall and, when `segments`, on
    every segment with at least `min_rows` rows. With `significant_only` a worsening fails
    only when its paired interval excludes no change.
    """

    metric: str
    max_drop: float
    relative: bool = False
    direction: Direction | None = None
    segments: bool = True
    significant_only: bool = False

    def check(self, *, field: str) -> None:
        try:
            metric_info(self.metric)
        except InvalidInputError as error:
            raise InvalidInputError(error.message, field=f"{field}.metric") from None
        if not math.isfinite(self.max_drop) or self.max_drop < 0:
            raise InvalidInputError("max_drop is a non-negative number", field=f"{field}.max_drop")

    @property
    def better(self) -> Direction:
        return self.direction or metric_info(self.metric).direction

    @property
    def is_fairness(self) -> bool:
        return self.metric in FAIRNESS_MEASURES

    def allowed(self, baseline: float) -> float:
        """The largest worsening allowed from `baseline`, in the metric's units (finite: a
        product past the largest float is capped there)."""
        if not self.relative:
            return self.max_drop
        return min(self.max_drop * abs(baseline), sys.float_info.max)

    def describe(self) -> str:
        limit = f"{self.max_drop:.4g}" + (" of the baseline" if self.relative else "")
        return f"{self.metric} may worsen by at most {limit}"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The rules a comparison is judged by; segments smaller than `min_rows` are not judged."""

    rules: tuple[Threshold, ...]
    min_rows: int = 100

    def check(self) -> None:
        """Fields are named as in the thresholds document (`thresholds.rules[0].max_drop`)."""
        if not 1 <= len(self.rules) <= MAX_THRESHOLDS:
            raise InvalidInputError(
                f"give 1 to {MAX_THRESHOLDS} thresholds", field="thresholds.rules"
            )
        for index, rule in enumerate(self.rules):
            rule.check(field=f"thresholds.rules[{index}]")
        keys = [(rule.metric, rule.relative) for rule in self.rules]
        if len(set(keys)) != len(keys):
            raise InvalidInputError(
                "a metric has one absolute and one relative threshold at most",
                field="thresholds.rules",
            )
        if not 1 <= self.min_rows <= 10**9:
            raise InvalidInputError(
                "min_rows is a positive number of rows", field="thresholds.min_rows"
            )

    def check_task(self, task: Task, cutoffs: tuple[int, ...] = (10,)) -> None:
        """Each rule names a metric the task reports (a fairness measure: binary
        classification only); a rule no report could satisfy is refused up front."""
        known = set(task_metrics(task, cutoffs))
        if task.is_classification:
            known.add("expected_calibration_error")
        if task is Task.BINARY_CLASSIFICATION:
            known |= set(FAIRNESS_MEASURES)
        for index, rule in enumerate(self.rules):
            if rule.metric not in known:
                raise InvalidInputError(
                    f"{rule.metric} is not a metric of {task.value}",
                    field=f"thresholds.rules[{index}].metric",
                )


def default_thresholds(task: Task, cutoffs: tuple[int, ...] = (10,)) -> Thresholds:
    """The task's primary metric may fall by at most 0.01, overall and in every segment."""
    return Thresholds((Threshold(primary_metric(task, cutoffs), DEFAULT_MAX_DROP),))


@dataclass(frozen=True, slots=True)
class Check:
    """One threshold applied to one change; `message` says what was found in plain words. The
    numbers are None when the report lacked what the threshold names (the check then fails)."""

    scope: CheckScope
    metric: str
    target: str
    candidate: float | None
    baseline: float | None
    delta: float | None
    lower: float | None
    upper: float | None
    allowed: float | None
    significant: bool
    passed: bool
    message: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """Pass only if every check passed; `reasons` are the failed checks' messages."""

    passed: bool
    checks: tuple[Check, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(check.message for check in self.checks if not check.passed)


def judge(report: PairedReport, thresholds: Thresholds) -> Verdict:
    """Apply every threshold to the paired changes. A metric a threshold names that the report
    lacks overall fails the check (it cannot be shown not to regress)."""
    checks = [check for rule in thresholds.rules for check in _checks(report, rule, thresholds)]
    return Verdict(all(check.passed for check in checks), tuple(checks))


def _checks(report: PairedReport, rule: Threshold, thresholds: Thresholds) -> Iterator[Check]:
    if rule.is_fairness:
        if not report.fairness_changes:
            yield _missing(rule, CheckScope.FAIRNESS, "no sensitive attribute was evaluated")
        for attribute, changes in sorted(report.fairness_changes.items()):
            change = _find(changes, rule.metric)
            if change is None:
                yield _missing(rule, CheckScope.FAIRNESS, f"{attribute} has no {rule.metric}")
            else:
                yield _apply(rule, change, CheckScope.FAIRNESS, attribute)
        return
    overall = _find(report.changes, rule.metric)
    if overall is None:
        yield _missing(rule, CheckScope.OVERALL, f"the report has no {rule.metric}")
    else:
        yield _apply(rule, overall, CheckScope.OVERALL, "all rows")
    if not rule.segments:
        return
    for segment in report.segment_changes:
        change = _find(segment.changes, rule.metric)
        if change is not None and segment.rows >= thresholds.min_rows:
            yield _apply(rule, change, CheckScope.SEGMENT, f"{segment.segment}={segment.value}")


def _find(changes: tuple[MetricChange, ...], metric: str) -> MetricChange | None:
    return next((change for change in changes if change.metric == metric), None)


def _apply(rule: Threshold, change: MetricChange, scope: CheckScope, target: str) -> Check:
    worsening = rule.better.worsening(change.delta.value)
    allowed = rule.allowed(change.baseline)
    significant = change.is_significant
    exceeded = worsening > allowed + 1e-12
    passed = not exceeded or (rule.significant_only and not significant)
    where = "" if scope is CheckScope.OVERALL else f" on {target}"
    interval = ""
    if change.delta.lower is not None and change.delta.upper is not None:
        interval = f", interval [{change.delta.lower:+.4f}, {change.delta.upper:+.4f}]" + (
            " excludes no change" if significant else " includes no change"
        )
    verb = "worsened" if worsening > 0 else "did not worsen"
    message = (
        f"{rule.metric}{where} {verb}: {change.baseline:.4f} -> {change.candidate:.4f} "
        f"(change {change.delta.value:+.4f}{interval}); allowed worsening {allowed:.4f}"
    )
    return Check(
        scope,
        rule.metric,
        target,
        change.candidate,
        change.baseline,
        change.delta.value,
        change.delta.lower,
        change.delta.upper,
        allowed,
        significant,
        passed,
        message,
    )


def _missing(rule: Threshold, scope: CheckScope, why: str) -> Check:
    return Check(
        scope,
        rule.metric,
        "all rows",
        None,
        None,
        None,
        None,
        None,
        None,
        significant=False,
        passed=False,
        message=f"{rule.metric} cannot be checked: {why}",
    )
