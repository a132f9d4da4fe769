"""Evaluations as JSON-compatible documents, the one form the store keeps and the wire carries.
Reading a document checks every member's type and names the first one at fault."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TypeVar

from lockgate.domain.audit import JsonValue
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.evaluation.config import EvaluationConfig, SegmentRule
from lockgate.domain.evaluation.metrics import Direction, Task
from lockgate.domain.evaluation.report import (
    Calibration,
    CalibrationBin,
    ConfusionMatrix,
    Estimate,
    FairnessReport,
    GroupMetrics,
    MetricChange,
    ModelReport,
    PairedReport,
    SegmentChange,
    SegmentMetrics,
)
from lockgate.domain.evaluation.verdict import Check, CheckScope, Threshold, Thresholds, Verdict

__all__ = [
    "changes_document",
    "config_document",
    "fields_under",
    "read_changes",
    "read_config",
    "read_report",
    "read_thresholds",
    "read_verdict",
    "report_document",
    "thresholds_document",
    "verdict_document",
]

Document = dict[str, JsonValue]
T = TypeVar("T")


@contextmanager
def fields_under(prefix: str) -> Iterator[None]:
    """An InvalidInputError raised inside names its field under `prefix` (`target` becomes
    `config.target`), so an error names the member of the document that holds it."""
    try:
        yield
    except InvalidInputError as error:
        field = f"{prefix}.{error.field}" if error.field else prefix
        raise InvalidInputError(error.message, field=field) from error


class _Reader:
    """One JSON object being read, with the path used in error messages."""

    def __init__(self, value: object, field: str) -> None:
        if not isinstance(value, Mapping):
            raise InvalidInputError("expected an object", field=field)
        self.value: Mapping[str, object] = value
        self.field = field

    def _get(self, key: str, default: object) -> object:
        if key not in self.value:
            if default is _REQUIRED:
                raise InvalidInputError("is required", field=f"{self.field}.{key}")
            return default
        return self.value[key]

    def text(self, key: str, default: object = None) -> str:
        found = self._get(key, _REQUIRED if default is None else default)
        if not isinstance(found, str):
            raise InvalidInputError("expected a string", field=f"{self.field}.{key}")
        return found

    def optional_text(self, key: str) -> str | None:
        found = self._get(key, None)
        if found is not None and not isinstance(found, str):
            raise InvalidInputError("expected a string or null", field=f"{self.field}.{key}")
        return found

    def integer(self, key: str, default: int | None = None) -> int:
        found = self._get(key, _REQUIRED if default is None else default)
        if isinstance(found, bool) or not isinstance(found, int):
            raise InvalidInputError("expected an integer", field=f"{self.field}.{key}")
        return found

    def number(self, key: str, default: float | None = None) -> float:
        found = self._get(key, _REQUIRED if default is None else default)
        return _finite(found, f"{self.field}.{key}")

    def optional_number(self, key: str) -> float | None:
        found = self._get(key, None)
        return None if found is None else _finite(found, f"{self.field}.{key}")

    def flag(self, key: str, default: bool) -> bool:
        found = self._get(key, default)
        if not isinstance(found, bool):
            raise InvalidInputError("expected true or false", field=f"{self.field}.{key}")
        return found

    def items(self, key: str, *, required: bool = False) -> list[object]:
        found = self._get(key, _REQUIRED if required else [])
        if not isinstance(found, list):
            raise InvalidInputError("expected an array", field=f"{self.field}.{key}")
        return found

    def optional_child(self, key: str) -> _Reader | None:
        found = self._get(key, None)
        return None if found is None else _Reader(found, f"{self.field}.{key}")


_REQUIRED = object()


def _finite(found: object, field: str) -> float:
    if isinstance(found, bool) or not isinstance(found, int | float) or not math.isfinite(found):
        raise InvalidInputError("expected a finite number", field=field)
    return float(found)


def _choice(value: str, kind: type[T], field: str) -> T:
    try:
        return kind(value)  # type: ignore[call-arg]  # kind is a StrEnum
    except ValueError:
        raise InvalidInputError(f"{value!r} is not a known value", field=field) from None


def _estimate_document(estimate: Estimate) -> Document:
    return {"value": estimate.value, "lower": estimate.lower, "upper": estimate.upper}


def _read_estimate(value: object, field: str) -> Estimate:
    reader = _Reader(value, field)
    return Estimate(
        reader.number("value"), reader.optional_number("lower"), reader.optional_number("upper")
    )


def _metrics_document(metrics: Mapping[str, Estimate]) -> Document:
    return {name: _estimate_document(estimate) for name, estimate in metrics.items()}


def _read_metrics(value: object, field: str) -> dict[str, Estimate]:
    reader = _Reader(value, field)
    return {
        str(name): _read_estimate(item, f"{field}.{name}") for name, item in reader.value.items()
    }


def config_document(config: EvaluationConfig) -> Document:
    """The config as a document."""
    return {
        "task": config.task.value,
        "target": config.target,
        "threshold": config.threshold,
        "positive_label": config.positive_label,
        "classes": list(config.classes),
        "cutoffs": list(config.cutoffs),
        "query": config.query,
        "resamples": config.resamples,
        "confidence": config.confidence,
        "seed": config.seed,
        "segments": [
            {"name": rule.name, "column": rule.column, "predicate": rule.predicate}
            for rule in config.segments
        ],
        "sensitive": list(config.sensitive),
        "calibration_bins": config.calibration_bins,
        "max_segment_values": config.max_segment_values,
    }


def read_config(value: object, field: str = "config") -> EvaluationConfig:
    """A checked config; raises InvalidInputError naming the member at fault."""
    reader = _Reader(value, field)
    segments = []
    for index, item in enumerate(reader.items("segments")):
        rule = _Reader(item, f"{field}.segments[{index}]")
        segments.append(
            SegmentRule(
                rule.text("name"), rule.optional_text("column"), rule.optional_text("predicate")
            )
        )
    config = EvaluationConfig(
        task=_choice(reader.text("task"), Task, f"{field}.task"),
        target=reader.text("target"),
        threshold=reader.number("threshold", 0.5),
        positive_label=reader.optional_text("positive_label"),
        classes=tuple(_strings(reader.items("classes"), f"{field}.classes")),
        cutoffs=tuple(_integers(reader.items("cutoffs") or [10], f"{field}.cutoffs")),
        query=reader.optional_text("query"),
        resamples=reader.integer("resamples", 1_000),
        confidence=reader.number("confidence", 0.95),
        seed=reader.integer("seed", 0),
        segments=tuple(segments),
        sensitive=tuple(_strings(reader.items("sensitive"), f"{field}.sensitive")),
        calibration_bins=reader.integer("calibration_bins", 10),
        max_segment_values=reader.integer("max_segment_values", 50),
    )
    with fields_under(field):
        config.check()
    return config


def _strings(values: list[object], field: str) -> list[str]:
    if not all(isinstance(value, str) for value in values):
        raise InvalidInputError("expected strings", field=field)
    return [str(value) for value in values]


def _integers(values: list[object], field: str) -> list[int]:
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise InvalidInputError("expected integers", field=field)
    return [int(str(value)) for value in values]


def report_document(report: ModelReport) -> Document:
    """A model report as a document."""
    matrix = report.confusion_matrix
    calibration = report.calibration
    return {
        "task": report.task.value,
        "rows": report.rows,
        "cutoffs": list(report.cutoffs),
        "metrics": _metrics_document(report.metrics),
        "confusion_matrix": None
        if matrix is None
        else {"labels": list(matrix.labels), "counts": [list(row) for row in matrix.counts]},
        "segments": [
            {
                "segment": s.segment,
                "value": s.value,
                "rows": s.rows,
                "metrics": _metrics_document(s.metrics),
            }
            for s in report.segments
        ],
        "fairness": [_fairness_document(f) for f in report.fairness],
        "calibration": None
        if calibration is None
        else {
            "bins": [
                {
                    "lower": b.lower,
                    "upper": b.upper,
                    "rows": b.rows,
                    "mean_predicted": b.mean_predicted,
                    "observed_rate": b.observed_rate,
                }
                for b in calibration.bins
            ],
            "expected_calibration_error": _estimate_document(
                calibration.expected_calibration_error
            ),
        },
    }


def _fairness_document(fairness: FairnessReport) -> Document:
    return {
        "attribute": fairness.attribute,
        "measures": _metrics_document(fairness.measures),
        "groups": [
            {
                "group": g.group,
                "rows": g.rows,
                "selection_rate": g.selection_rate,
                "true_positive_rate": g.true_positive_rate,
                "false_positive_rate": g.false_positive_rate,
                "metrics": _metrics_document(g.metrics),
            }
            for g in fairness.groups
        ],
    }


def read_report(value: object, field: str = "report") -> ModelReport:
    """A model report from a document; the types are checked, the contents by `check_report`."""
    reader = _Reader(value, field)
    matrix_reader = reader.optional_child("confusion_matrix")
    calibration_reader = reader.optional_child("calibration")
    return ModelReport(
        task=_choice(reader.text("task"), Task, f"{field}.task"),
        rows=reader.integer("rows"),
        metrics=_read_metrics(reader.value.get("metrics", {}), f"{field}.metrics"),
        confusion_matrix=None if matrix_reader is None else _read_matrix(matrix_reader),
        segments=tuple(
            _read_segment(item, f"{field}.segments[{i}]")
            for i, item in enumerate(reader.items("segments"))
        ),
        fairness=tuple(
            _read_fairness(item, f"{field}.fairness[{i}]")
            for i, item in enumerate(reader.items("fairness"))
        ),
        calibration=None if calibration_reader is None else _read_calibration(calibration_reader),
        cutoffs=tuple(_integers(reader.items("cutoffs") or [10], f"{field}.cutoffs")),
    )


def _read_matrix(reader: _Reader) -> ConfusionMatrix:
    labels = tuple(_strings(reader.items("labels", required=True), f"{reader.field}.labels"))
    rows = reader.items("counts", required=True)
    counts = []
    for index, row in enumerate(rows):
        where = f"{reader.field}.counts[{index}]"
        if not isinstance(row, list) or len(row) != len(labels):
            raise InvalidInputError("each row has one count per label", field=where)
        cells = _integers(row, where)
        if any(cell < 0 for cell in cells):
            raise InvalidInputError("counts are not negative", field=where)
        counts.append(tuple(cells))
    if len(counts) != len(labels):
        raise InvalidInputError("one row per label", field=f"{reader.field}.counts")
    return ConfusionMatrix(labels, tuple(counts))


def _read_segment(value: object, field: str) -> SegmentMetrics:
    reader = _Reader(value, field)
    return SegmentMetrics(
        reader.text("segment"),
        reader.text("value"),
        _rows(reader),
        _read_metrics(reader.value.get("metrics", {}), f"{field}.metrics"),
    )


def _rows(reader: _Reader) -> int:
    rows = reader.integer("rows")
    if rows < 0:
        raise InvalidInputError("rows is not negative", field=f"{reader.field}.rows")
    return rows


def _read_fairness(value: object, field: str) -> FairnessReport:
    reader = _Reader(value, field)
    groups = []
    for index, item in enumerate(reader.items("groups")):
        group = _Reader(item, f"{field}.groups[{index}]")
        groups.append(
            GroupMetrics(
                group.text("group"),
                _rows(group),
                group.number("selection_rate"),
                group.optional_number("true_positive_rate"),
                group.optional_number("false_positive_rate"),
                _read_metrics(group.value.get("metrics", {}), f"{group.field}.metrics"),
            )
        )
    return FairnessReport(
        reader.text("attribute"),
        tuple(groups),
        _read_metrics(reader.value.get("measures", {}), f"{field}.measures"),
    )


def _read_calibration(reader: _Reader) -> Calibration:
    bins = []
    for index, item in enumerate(reader.items("bins")):
        entry = _Reader(item, f"{reader.field}.bins[{index}]")
        bins.append(
            CalibrationBin(
                entry.number("lower"),
                entry.number("upper"),
                _rows(entry),
                entry.number("mean_predicted"),
                entry.number("observed_rate"),
            )
        )
    ece = _read_estimate(
        reader.value.get("expected_calibration_error"),
        f"{reader.field}.expected_calibration_error",
    )
    return Calibration(tuple(bins), ece)


def _change_document(change: MetricChange) -> Document:
    return {
        "metric": change.metric,
        "candidate": change.candidate,
        "baseline": change.baseline,
        "delta": _estimate_document(change.delta),
    }


def _read_change(value: object, field: str) -> MetricChange:
    reader = _Reader(value, field)
    return MetricChange(
        reader.text("metric"),
        reader.number("candidate"),
        reader.number("baseline"),
        _read_estimate(reader.value.get("delta"), f"{field}.delta"),
    )


def _read_changes_list(values: list[object], field: str) -> tuple[MetricChange, ...]:
    return tuple(_read_change(item, f"{field}[{i}]") for i, item in enumerate(values))


def changes_document(report: PairedReport) -> Document:
    """The paired changes of a report (not its two model reports) as a document."""
    return {
        "changes": [_change_document(c) for c in report.changes],
        "segment_changes": [
            {
                "segment": s.segment,
                "value": s.value,
                "rows": s.rows,
                "changes": [_change_document(c) for c in s.changes],
            }
            for s in report.segment_changes
        ],
        "fairness_changes": {
            attribute: [_change_document(c) for c in changes]
            for attribute, changes in report.fairness_changes.items()
        },
    }


def read_changes(
    value: object, candidate: ModelReport, baseline: ModelReport, field: str = "changes"
) -> PairedReport:
    """A paired report from a changes document and the two model reports it compares."""
    reader = _Reader(value, field)
    segments = []
    for index, item in enumerate(reader.items("segment_changes")):
        segment = _Reader(item, f"{field}.segment_changes[{index}]")
        segments.append(
            SegmentChange(
                segment.text("segment"),
                segment.text("value"),
                _rows(segment),
                _read_changes_list(segment.items("changes"), f"{segment.field}.changes"),
            )
        )
    fairness_reader = _Reader(reader.value.get("fairness_changes", {}), f"{field}.fairness_changes")
    fairness = {}
    for attribute, items in fairness_reader.value.items():
        where = f"{fairness_reader.field}.{attribute}"
        if not isinstance(items, list):
            raise InvalidInputError("expected an array", field=where)
        fairness[str(attribute)] = _read_changes_list(items, where)
    return PairedReport(
        candidate,
        baseline,
        _read_changes_list(reader.items("changes"), f"{field}.changes"),
        tuple(segments),
        fairness,
    )


def thresholds_document(thresholds: Thresholds) -> Document:
    """Thresholds as a document."""
    return {
        "min_rows": thresholds.min_rows,
        "rules": [
            {
                "metric": rule.metric,
                "max_drop": rule.max_drop,
                "relative": rule.relative,
                "direction": None if rule.direction is None else rule.direction.value,
                "segments": rule.segments,
                "significant_only": rule.significant_only,
            }
            for rule in thresholds.rules
        ],
    }


def read_thresholds(value: object, field: str = "thresholds") -> Thresholds:
    """Checked thresholds; raises InvalidInputError naming the member at fault."""
    reader = _Reader(value, field)
    rules = []
    for index, item in enumerate(reader.items("rules", required=True)):
        rule = _Reader(item, f"{field}.rules[{index}]")
        direction = rule.optional_text("direction")
        rules.append(
            Threshold(
                metric=rule.text("metric"),
                max_drop=rule.number("max_drop"),
                relative=rule.flag("relative", False),
                direction=None
                if direction is None
                else _choice(direction, Direction, f"{rule.field}.direction"),
                segments=rule.flag("segments", True),
                significant_only=rule.flag("significant_only", False),
            )
        )
    thresholds = Thresholds(tuple(rules), reader.integer("min_rows", 100))
    thresholds.check()
    return thresholds


def verdict_document(verdict: Verdict) -> Document:
    """A verdict, every check included, as a document."""
    return {
        "passed": verdict.passed,
        "reasons": list(verdict.reasons),
        "checks": [
            {
                "scope": c.scope.value,
                "metric": c.metric,
                "target": c.target,
                "candidate": c.candidate,
                "baseline": c.baseline,
                "delta": c.delta,
                "lower": c.lower,
                "upper": c.upper,
                "allowed": c.allowed,
                "significant": c.significant,
                "passed": c.passed,
                "message": c.message,
            }
            for c in verdict.checks
        ],
    }


def read_verdict(value: object, field: str = "verdict") -> Verdict:
    """A stored verdict."""
    reader = _Reader(value, field)
    checks = []
    for index, item in enumerate(reader.items("checks")):
        check = _Reader(item, f"{field}.checks[{index}]")
        checks.append(
            Check(
                _choice(check.text("scope"), CheckScope, f"{check.field}.scope"),
                check.text("metric"),
                check.text("target"),
                check.optional_number("candidate"),
                check.optional_number("baseline"),
                check.optional_number("delta"),
                check.optional_number("lower"),
                check.optional_number("upper"),
                check.optional_number("allowed"),
                check.flag("significant", False),
                check.flag("passed", False),
                check.text("message"),
            )
        )
    return Verdict(reader.flag("passed", False), tuple(checks))
