"""What an evaluation found: metric estimates with bootstrap intervals, per segment, per
sensitive group and per calibration bin; and, for two models on the same rows, the paired
changes. The numeric engines produce these; the verdict and the store read them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from lockgate.domain.evaluation.metrics import Task, metric_info, primary_metric

__all__ = [
    "Calibration",
    "CalibrationBin",
    "ConfusionMatrix",
    "Estimate",
    "FairnessReport",
    "GroupMetrics",
    "MetricChange",
    "ModelReport",
    "PairedReport",
    "SegmentChange",
    "SegmentMetrics",
]


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point estimate with its bootstrap interval (`None` when no resampling was asked for)."""

    value: float
    lower: float | None = None
    upper: float | None = None

    @property
    def has_interval(self) -> bool:
        return self.lower is not None and self.upper is not None

    def excludes(self, point: float) -> bool:
        """Whether the interval lies wholly on one side of `point`."""
        if self.lower is None or self.upper is None:
            return False
        return self.lower > point or self.upper < point


@dataclass(frozen=True, slots=True)
class ConfusionMatrix:
    """Counts with actual classes as rows and predicted classes as columns, in `labels` order."""

    labels: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class SegmentMetrics:
    """Metrics on the rows of one segment: `segment` names the definition (a column or a named
    predicate) and `value` the column's value, or `true` for a predicate."""

    segment: str
    value: str
    rows: int
    metrics: Mapping[str, Estimate]


@dataclass(frozen=True, slots=True)
class GroupMetrics:
    """One group of a sensitive attribute: its rates (None where a rate has no denominator in
    the group) and its task metrics."""

    group: str
    rows: int
    selection_rate: float
    true_positive_rate: float | None
    false_positive_rate: float | None
    metrics: Mapping[str, Estimate]


@dataclass(frozen=True, slots=True)
class FairnessReport:
    """Disparities across the groups of one sensitive attribute (measure name to estimate,
    from `FAIRNESS_MEASURES`; a measure with no defined value is absent)."""

    attribute: str
    groups: tuple[GroupMetrics, ...]
    measures: Mapping[str, Estimate]


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """Rows whose predicted probability fell in (lower, upper], as scikit-learn's
    `calibration_curve` bins them (the first bin includes 0)."""

    lower: float
    upper: float
    rows: int
    mean_predicted: float
    observed_rate: float


@dataclass(frozen=True, slots=True)
class Calibration:
    """The reliability curve (non-empty bins) and the expected calibration error. For more
    than two classes it is the calibration of the top predicted class's probability."""

    bins: tuple[CalibrationBin, ...]
    expected_calibration_error: Estimate


@dataclass(frozen=True, slots=True)
class ModelReport:
    """One model scored on one dataset. Metrics undefined on the data (ROC AUC with a single
    class, say) are absent rather than NaN."""

    task: Task
    rows: int
    metrics: Mapping[str, Estimate]
    confusion_matrix: ConfusionMatrix | None = None
    segments: tuple[SegmentMetrics, ...] = ()
    fairness: tuple[FairnessReport, ...] = ()
    calibration: Calibration | None = None
    cutoffs: tuple[int, ...] = (10,)
    """Ranking cutoffs k; unused by other tasks."""

    @property
    def primary_metric(self) -> str:
        return primary_metric(self.task, self.cutoffs)

    def worst_segment(self, metric: str | None = None) -> SegmentMetrics | None:
        """The segment with the worst value of `metric` (default: the task's primary one)."""
        name = metric or self.primary_metric
        direction = metric_info(name).direction
        scored = [s for s in self.segments if name in s.metrics]
        if not scored:
            return None
        return max(scored, key=lambda s: direction.worsening(s.metrics[name].value))


@dataclass(frozen=True, slots=True)
class MetricChange:
    """Candidate minus baseline for one metric on the same rows; `delta` carries the paired
    bootstrap interval of the difference."""

    metric: str
    candidate: float
    baseline: float
    delta: Estimate

    @property
    def relative(self) -> float | None:
        """The change as a fraction of the baseline's magnitude; None when the baseline is 0."""
        return None if self.baseline == 0 else self.delta.value / abs(self.baseline)

    @property
    def is_significant(self) -> bool:
        """The paired interval excludes no change."""
        return self.delta.excludes(0.0)


@dataclass(frozen=True, slots=True)
class SegmentChange:
    segment: str
    value: str
    rows: int
    changes: tuple[MetricChange, ...]


@dataclass(frozen=True, slots=True)
class PairedReport:
    """A candidate and a baseline scored on the same rows, with paired changes overall, per
    segment and per fairness measure (`fairness` maps an attribute to its measures' changes)."""

    candidate: ModelReport
    baseline: ModelReport
    changes: tuple[MetricChange, ...]
    segment_changes: tuple[SegmentChange, ...] = ()
    fairness_changes: Mapping[str, tuple[MetricChange, ...]] = field(default_factory=dict)
