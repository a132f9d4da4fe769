"""From accumulators to the domain's reports: metric estimates overall, per segment and per
sensitive group, the confusion matrix, calibration, fairness, and the paired changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from lockgate.compute.evaluation.arrays import WeightArray
from lockgate.compute.evaluation.binary import CONFUSION
from lockgate.compute.evaluation.calibration import ECE, CalibrationAccumulator
from lockgate.compute.evaluation.chunk import Accumulator, Combined
from lockgate.compute.evaluation.estimates import Evaluated, Intervals, evaluate
from lockgate.compute.evaluation.fairness import disparities, group_rates
from lockgate.compute.evaluation.groups import Grouping
from lockgate.compute.evaluation.multiclass import MulticlassAccumulator
from lockgate.domain.evaluation import (
    FAIRNESS_MEASURES,
    Calibration,
    ConfusionMatrix,
    Estimate,
    EvaluationConfig,
    FairnessReport,
    GroupMetrics,
    MetricChange,
    ModelReport,
    SegmentChange,
    SegmentMetrics,
    Task,
    task_metrics,
)

__all__ = ["Reports", "build_reports"]


@dataclass(slots=True)
class Reports:
    """Each model's report, and the paired changes (empty for one model)."""

    models: list[ModelReport]
    changes: tuple[MetricChange, ...] = ()
    segment_changes: list[SegmentChange] = field(default_factory=list)
    fairness_changes: dict[str, tuple[MetricChange, ...]] = field(default_factory=dict)


def _part(accumulator: Accumulator, kind: type) -> object | None:
    parts = accumulator.parts if isinstance(accumulator, Combined) else (accumulator,)
    return next((part for part in parts if isinstance(part, kind)), None)


def _trim(evaluated: Evaluated) -> Evaluated:
    """Only the confusion counts, to hold every group's resamples until the measures."""
    resampled = evaluated.resampled
    return Evaluated(
        evaluated.exact,
        evaluated.binned,
        None if resampled is None else {key: resampled[key] for key in CONFUSION},
    )


@dataclass(frozen=True, slots=True)
class _Builder:
    config: EvaluationConfig
    labels: tuple[str, ...]
    weights: WeightArray | None
    intervals: Intervals

    @property
    def names(self) -> tuple[str, ...]:
        return task_metrics(self.config.task, self.config.cutoffs)

    def metrics(self, evaluated: Evaluated) -> dict[str, Estimate]:
        return {
            name: self.intervals.estimate(evaluated, name)
            for name in self.names
            if name in evaluated.exact
        }

    def changes(
        self, models: Sequence[Evaluated], names: Sequence[str]
    ) -> tuple[MetricChange, ...]:
        if len(models) < 2:
            return ()
        candidate, baseline = models
        return tuple(
            self.intervals.change(candidate, baseline, name)
            for name in names
            if name in candidate.exact and name in baseline.exact
        )

    def evaluate(self, accumulators: Sequence[Accumulator]) -> list[Evaluated]:
        return [evaluate(accumulator, self.weights) for accumulator in accumulators]

    def confusion(self, accumulator: Accumulator, evaluated: Evaluated) -> ConfusionMatrix | None:
        if self.config.task is Task.BINARY_CLASSIFICATION:
            tn, fp, fn, tp = (int(evaluated.exact[key]) for key in CONFUSION)
            return ConfusionMatrix(self.labels, ((tn, fp), (fn, tp)))
        multiclass = _part(accumulator, MulticlassAccumulator)
        if isinstance(multiclass, MulticlassAccumulator):
            counts = multiclass.confusion
            return ConfusionMatrix(self.labels, tuple(tuple(int(c) for c in row) for row in counts))
        return None

    def calibration(self, accumulator: Accumulator, evaluated: Evaluated) -> Calibration | None:
        calibration = _part(accumulator, CalibrationAccumulator)
        if not isinstance(calibration, CalibrationAccumulator) or ECE not in evaluated.exact:
            return None
        return Calibration(calibration.curve(), self.intervals.estimate(evaluated, ECE))

    def segments(self, grouping: Grouping, reports: Reports) -> list[list[SegmentMetrics]]:
        result: list[list[SegmentMetrics]] = [[] for _ in reports.models]
        for value, accumulators in grouping.ordered():
            models = self.evaluate(accumulators)
            rows = accumulators[0].rows
            for index, evaluated in enumerate(models):
                metrics = self.metrics(evaluated)
                result[index].append(SegmentMetrics(grouping.name, value, rows, metrics))
            changes = self.changes(models, self.names)
            if changes:
                reports.segment_changes.append(SegmentChange(grouping.name, value, rows, changes))
        return result

    def group(self, value: str, rows: int, evaluated: Evaluated) -> GroupMetrics:
        counts = [np.array([evaluated.exact[key]]) for key in CONFUSION]
        selection, true_positive, false_positive = (float(r[0]) for r in group_rates(counts))
        return GroupMetrics(
            group=value,
            rows=rows,
            selection_rate=selection,
            true_positive_rate=true_positive if np.isfinite(true_positive) else None,
            false_positive_rate=false_positive if np.isfinite(false_positive) else None,
            metrics=self.metrics(evaluated),
        )

    def fairness(self, grouping: Grouping, reports: Reports) -> list[FairnessReport]:
        groups: list[list[GroupMetrics]] = [[] for _ in reports.models]
        counts: list[list[Evaluated]] = [[] for _ in reports.models]
        for value, accumulators in grouping.ordered():
            for index, evaluated in enumerate(self.evaluate(accumulators)):
                groups[index].append(self.group(value, accumulators[0].rows, evaluated))
                counts[index].append(_trim(evaluated))
        measures = [disparities(model) for model in counts]
        if len(measures) > 1:
            changes = self.changes(measures, FAIRNESS_MEASURES)
            reports.fairness_changes[grouping.name] = changes
        return [
            FairnessReport(
                grouping.name,
                tuple(groups[index]),
                {
                    name: self.intervals.estimate(model, name)
                    for name in FAIRNESS_MEASURES
                    if name in model.exact
                },
            )
            for index, model in enumerate(measures)
        ]


def build_reports(
    config: EvaluationConfig,
    labels: tuple[str, ...],
    weights: WeightArray | None,
    overall: Sequence[Accumulator],
    segments: Sequence[Grouping],
    sensitive: Sequence[Grouping],
) -> Reports:
    """Every model's report and, for two models, the paired changes; all resampled with the
    same `weights` (`resamples x UNITS`, None for no intervals)."""
    builder = _Builder(config, labels, weights, Intervals(config.confidence))
    models = builder.evaluate(overall)
    reports = Reports([])
    reports.models = [ModelReport(config.task, 0, {}) for _ in overall]
    reports.changes = builder.changes(models, (*builder.names, ECE))
    segment_metrics: list[list[SegmentMetrics]] = [[] for _ in overall]
    for grouping in segments:
        for index, found in enumerate(builder.segments(grouping, reports)):
            segment_metrics[index].extend(found)
    fairness: list[list[FairnessReport]] = [[] for _ in overall]
    for grouping in sensitive:
        for index, report in enumerate(builder.fairness(grouping, reports)):
            fairness[index].append(report)
    reports.models = [
        ModelReport(
            task=config.task,
            rows=accumulator.rows,
            metrics=builder.metrics(evaluated),
            confusion_matrix=builder.confusion(accumulator, evaluated),
            segments=tuple(segment_metrics[index]),
            fairness=tuple(fairness[index]),
            calibration=builder.calibration(accumulator, evaluated),
            cutoffs=config.cutoffs,
        )
        for index, (accumulator, evaluated) in enumerate(zip(overall, models, strict=True))
    ]
    return reports
