"""Wire schemas for evaluations and comparisons. They mirror the documents of
`lockgate.domain.evaluation.documents` member for member, so the OpenAPI schema shows their
shape and bounds; the domain reads them through `read_*`, which names the field at fault."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from lockgate.api.common import ApiModel, UtcDatetime
from lockgate.api.limits import MAX_INT64, AliasText, VersionNumber
from lockgate.api.tracking import DatasetIn, DatasetOut
from lockgate.domain.evaluation import (
    MAX_RESAMPLES,
    MAX_SEGMENT_VALUES,
    CheckScope,
    Comparison,
    Direction,
    Evaluation,
    EvaluationConfig,
    ModelReport,
    PairedReport,
    Task,
    Thresholds,
    Verdict,
    changes_document,
    config_document,
    read_changes,
    read_config,
    read_report,
    read_thresholds,
    report_document,
    thresholds_document,
    verdict_document,
)
from lockgate.domain.evaluation.config import MAX_SEGMENT_RULES, MAX_SENSITIVE
from lockgate.domain.evaluation.records import MAX_CALIBRATION_BINS, MAX_GROUPS, MAX_SEGMENTS
from lockgate.domain.evaluation.verdict import MAX_THRESHOLDS

__all__ = [
    "CalibrationBinIO",
    "CalibrationIO",
    "ChangesIO",
    "CheckOut",
    "ComparisonIn",
    "ComparisonOut",
    "ConfigIO",
    "ConfusionMatrixIO",
    "EstimateIO",
    "EvaluationIn",
    "EvaluationOut",
    "FairnessIO",
    "GroupMetricsIO",
    "MetricChangeIO",
    "ReportIO",
    "ScoredVersionIn",
    "SegmentChangeIO",
    "SegmentMetricsIO",
    "SegmentRuleIO",
    "ThresholdIO",
    "ThresholdsIO",
    "VerdictOut",
]

# The bounds follow the domain (domain.evaluation.config, records, verdict) and are never
# stricter than it.
MAX_METRICS = 64  # metric names per map: a task reports at most 16 (ranking, 8 cutoffs)
MAX_CLASSES = 1_000
MAX_REPORT_SEGMENTS = MAX_SEGMENTS
MAX_ATTRIBUTES = MAX_SENSITIVE
MAX_BINS = MAX_CALIBRATION_BINS
MAX_RULES = MAX_THRESHOLDS
MAX_CUTOFFS = 8

Number = Annotated[float, Field(allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=MAX_INT64)]
MetricName = Annotated[str, Field(max_length=32)]
Label = Annotated[str, Field(max_length=512)]
ColumnText = Annotated[str, Field(max_length=512)]
SegmentName = Annotated[str, Field(max_length=128)]
Cutoffs = Annotated[list[Annotated[int, Field(ge=1, le=1_000)]], Field(max_length=MAX_CUTOFFS)]
DigestText = Annotated[str, Field(max_length=64, json_schema_extra={"pattern": "^[0-9a-f]{64}$"})]
EngineText = Annotated[str, Field(max_length=128)]


class EstimateIO(ApiModel):
    """A value with its bootstrap interval (both bounds, or neither)."""

    value: Number
    lower: Number | None = None
    upper: Number | None = None


Metrics = Annotated[dict[MetricName, EstimateIO], Field(max_length=MAX_METRICS)]


class SegmentRuleIO(ApiModel):
    """One segment per distinct value of `column`, or the rows where `predicate` holds."""

    name: SegmentName
    column: ColumnText | None = None
    predicate: Annotated[str, Field(max_length=2048)] | None = None


class ConfigIO(ApiModel):
    """How an evaluation was computed; recorded with it so it can be re-run."""

    task: Task
    target: ColumnText
    threshold: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = 0.5
    positive_label: Label | None = None
    classes: list[Label] = Field(default_factory=list, max_length=MAX_CLASSES)
    cutoffs: Cutoffs = Field(default_factory=lambda: [10])
    query: ColumnText | None = None
    resamples: Annotated[int, Field(ge=0, le=MAX_RESAMPLES)] = 1_000
    confidence: Annotated[float, Field(ge=0.5, lt=1.0, allow_inf_nan=False)] = 0.95
    seed: Annotated[int, Field(ge=0, le=MAX_INT64)] = 0
    segments: list[SegmentRuleIO] = Field(default_factory=list, max_length=MAX_SEGMENT_RULES)
    sensitive: list[ColumnText] = Field(default_factory=list, max_length=MAX_ATTRIBUTES)
    calibration_bins: Annotated[int, Field(ge=2, le=MAX_BINS)] = 10
    max_segment_values: Annotated[int, Field(ge=1, le=MAX_SEGMENT_VALUES)] = 50

    def to_domain(self) -> EvaluationConfig:
        """Raises InvalidInputError naming the member at fault (`config.target`)."""
        return read_config(self.model_dump(mode="json"), "config")

    @classmethod
    def from_domain(cls, config: EvaluationConfig) -> ConfigIO:
        return cls.model_validate(config_document(config))


class ConfusionMatrixIO(ApiModel):
    """Counts with actual classes as rows and predicted classes as columns."""

    labels: list[Label] = Field(max_length=MAX_CLASSES)
    counts: list[Annotated[list[Count], Field(max_length=MAX_CLASSES)]] = Field(
        max_length=MAX_CLASSES
    )


class SegmentMetricsIO(ApiModel):
    segment: SegmentName
    value: Label
    rows: Count
    metrics: Metrics = Field(default_factory=dict)


class GroupMetricsIO(ApiModel):
    group: Label
    rows: Count
    selection_rate: Number
    true_positive_rate: Number | None = None
    false_positive_rate: Number | None = None
    metrics: Metrics = Field(default_factory=dict)


class FairnessIO(ApiModel):
    """Disparities across the groups of one sensitive attribute."""

    attribute: ColumnText
    groups: list[GroupMetricsIO] = Field(default_factory=list, max_length=MAX_GROUPS)
    measures: Metrics = Field(default_factory=dict)


class CalibrationBinIO(ApiModel):
    lower: Number
    upper: Number
    rows: Count
    mean_predicted: Number
    observed_rate: Number


class CalibrationIO(ApiModel):
    bins: list[CalibrationBinIO] = Field(default_factory=list, max_length=MAX_BINS)
    expected_calibration_error: EstimateIO


class ReportIO(ApiModel):
    """What one model scored on one dataset: metrics with intervals, overall, per segment,
    per sensitive group and per calibration bin."""

    task: Task
    rows: Count
    cutoffs: Cutoffs = Field(default_factory=lambda: [10])
    metrics: Metrics = Field(default_factory=dict)
    confusion_matrix: ConfusionMatrixIO | None = None
    segments: list[SegmentMetricsIO] = Field(default_factory=list, max_length=MAX_REPORT_SEGMENTS)
    fairness: list[FairnessIO] = Field(default_factory=list, max_length=MAX_ATTRIBUTES)
    calibration: CalibrationIO | None = None

    def to_domain(self, field: str = "report") -> ModelReport:
        return read_report(self.model_dump(mode="json"), field)

    @classmethod
    def from_domain(cls, report: ModelReport) -> ReportIO:
        return cls.model_validate(report_document(report))


class MetricChangeIO(ApiModel):
    """Candidate minus baseline for one metric; `delta` holds the paired interval."""

    metric: MetricName
    candidate: Number
    baseline: Number
    delta: EstimateIO


Changes = Annotated[list[MetricChangeIO], Field(max_length=MAX_METRICS)]


class SegmentChangeIO(ApiModel):
    segment: SegmentName
    value: Label
    rows: Count
    changes: Changes = Field(default_factory=list)


class ChangesIO(ApiModel):
    """The paired changes of a comparison: overall, per segment, per fairness attribute."""

    changes: Changes = Field(default_factory=list)
    segment_changes: list[SegmentChangeIO] = Field(
        default_factory=list, max_length=MAX_REPORT_SEGMENTS
    )
    fairness_changes: Annotated[dict[ColumnText, Changes], Field(max_length=MAX_ATTRIBUTES)] = (
        Field(default_factory=dict)
    )

    def to_domain(self, candidate: ModelReport, baseline: ModelReport) -> PairedReport:
        return read_changes(self.model_dump(mode="json"), candidate, baseline, "changes")

    @classmethod
    def from_domain(cls, report: PairedReport) -> ChangesIO:
        return cls.model_validate(changes_document(report))


class ThresholdIO(ApiModel):
    """The most `metric` may worsen from the baseline to the candidate (`max_drop`, in the
    metric's units or, when `relative`, as a fraction of the baseline)."""

    metric: MetricName
    max_drop: Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
    relative: bool = False
    direction: Direction | None = None
    segments: bool = True
    significant_only: bool = False


class ThresholdsIO(ApiModel):
    """The rules a comparison is judged by; segments under `min_rows` rows are not judged."""

    rules: list[ThresholdIO] = Field(max_length=MAX_RULES)
    min_rows: Annotated[int, Field(ge=1, le=10**9)] = 100

    def to_domain(self) -> Thresholds:
        return read_thresholds(self.model_dump(mode="json"), "thresholds")

    @classmethod
    def from_domain(cls, thresholds: Thresholds) -> ThresholdsIO:
        return cls.model_validate(thresholds_document(thresholds))


class CheckOut(ApiModel):
    """One threshold applied to one change; the numbers are null when the report lacked
    what the threshold names (the check then fails)."""

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


class VerdictOut(ApiModel):
    """PASS only if every check passed; `reasons` are the failed checks' messages."""

    passed: bool
    reasons: list[str]
    checks: list[CheckOut]

    @classmethod
    def from_domain(cls, verdict: Verdict) -> VerdictOut:
        return cls.model_validate(verdict_document(verdict))


class EvaluationIn(ApiModel):
    """Record what a version scored on a dataset version. `package_digest` is the manifest
    sha256 of the package that was scored: it must be the one the registry signed."""

    dataset: DatasetIn
    config: ConfigIO
    report: ReportIO
    package_digest: DigestText
    engine: EngineText


class ScoredVersionIn(ApiModel):
    """One side of a comparison: the version, the digest of its scored package, its report."""

    version: VersionNumber
    package_digest: DigestText
    report: ReportIO


class ComparisonIn(ApiModel):
    """A candidate and a baseline scored on the same rows, with their paired changes. The
    server checks the changes against the reports and computes the verdict itself; when
    `baseline_alias` is given it must point to the baseline version now."""

    dataset: DatasetIn
    config: ConfigIO
    candidate: ScoredVersionIn
    baseline: ScoredVersionIn
    changes: ChangesIO = Field(default_factory=ChangesIO)
    baseline_alias: AliasText | None = None
    thresholds: ThresholdsIO | None = None
    engine: EngineText

    def paired(self) -> PairedReport:
        """The two reports and their changes; raises InvalidInputError naming the member at
        fault (`candidate.report.metrics`)."""
        candidate = self.candidate.report.to_domain("candidate.report")
        baseline = self.baseline.report.to_domain("baseline.report")
        return self.changes.to_domain(candidate, baseline)


class EvaluationOut(ApiModel):
    id: str
    model: str
    version: int
    dataset: DatasetOut
    config: ConfigIO
    report: ReportIO
    package_digest: str
    engine: str
    created_at: UtcDatetime
    created_by: str

    @classmethod
    def from_domain(cls, evaluation: Evaluation) -> EvaluationOut:
        return cls(
            id=evaluation.id,
            model=evaluation.model_name,
            version=evaluation.version,
            dataset=DatasetOut.from_domain(evaluation.dataset),
            config=ConfigIO.from_domain(evaluation.config),
            report=ReportIO.from_domain(evaluation.report),
            package_digest=evaluation.package_digest,
            engine=evaluation.engine,
            created_at=evaluation.created_at,
            created_by=evaluation.created_by,
        )


class ComparisonOut(ApiModel):
    id: str
    model: str
    candidate: EvaluationOut
    baseline: EvaluationOut
    baseline_alias: str | None
    changes: ChangesIO
    thresholds: ThresholdsIO
    verdict: VerdictOut
    created_at: UtcDatetime
    created_by: str

    @classmethod
    def from_domain(cls, comparison: Comparison) -> ComparisonOut:
        return cls(
            id=comparison.id,
            model=comparison.model_name,
            candidate=EvaluationOut.from_domain(comparison.candidate),
            baseline=EvaluationOut.from_domain(comparison.baseline),
            baseline_alias=comparison.baseline_alias,
            changes=ChangesIO.from_domain(comparison.report),
            thresholds=ThresholdsIO.from_domain(comparison.thresholds),
            verdict=VerdictOut.from_domain(comparison.verdict),
            created_at=comparison.created_at,
            created_by=comparison.created_by,
        )
