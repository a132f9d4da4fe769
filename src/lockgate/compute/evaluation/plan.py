"""Which accumulators an evaluation keeps, fixed by the first rows: the bin edges of each
model's scores (from the first `WARMUP_ROWS` rows, the same however the data is batched) and
the exact-histogram budgets."""

from __future__ import annotations

from dataclasses import dataclass

from lockgate.compute.evaluation.arrays import FloatArray
from lockgate.compute.evaluation.batch import Rows
from lockgate.compute.evaluation.binary import BinaryAccumulator
from lockgate.compute.evaluation.bootstrap import GROUP_UNITS, UNITS
from lockgate.compute.evaluation.calibration import CalibrationAccumulator
from lockgate.compute.evaluation.chunk import Accumulator, Combined
from lockgate.compute.evaluation.curves import score_edges
from lockgate.compute.evaluation.multiclass import MulticlassAccumulator
from lockgate.compute.evaluation.ranking import RankingAccumulator
from lockgate.compute.evaluation.regression import RegressionAccumulator
from lockgate.domain.evaluation import EvaluationConfig, Task

__all__ = ["DEFAULT_EXACT_BUDGET", "MIN_GROUP_BUDGET", "WARMUP_ROWS", "AccumulatorPlan"]

WARMUP_ROWS = 65_536
"""Rows whose score quantiles place the bin edges."""
DEFAULT_EXACT_BUDGET = 1 << 22
"""Distinct scores kept exactly per model (shared by its label histograms), and again for all
segment and group histograms together: 64 MiB each at most."""
MIN_GROUP_BUDGET = 1 << 10
"""The least budget of one segment or group label histogram."""
_LEVELS, _GRID = 256, 64  # binary, whole data: ~320 bins
_GROUP_LEVELS, _GROUP_GRID = 16, 8  # binary, one segment or group: ~24 bins
_CLASS_GRID, _GROUP_CLASS_LEVELS, _GROUP_CLASS_GRID = 16, 4, 4


def _class_levels(classes: int) -> int:
    return max(16, min(128, 512 // classes))


@dataclass(frozen=True, slots=True)
class AccumulatorPlan:
    """Makes the accumulators of the whole data and of each segment or group, per model."""

    config: EvaluationConfig
    edges: tuple[tuple[FloatArray, ...], ...]
    group_edges: tuple[tuple[FloatArray, ...], ...]
    budget: int
    group_budget: int

    @classmethod
    def build(
        cls, config: EvaluationConfig, sample: Rows, exact_budget: int, group_slots: int
    ) -> AccumulatorPlan:
        """Edges per model from `sample` (the first rows); `group_slots` is the most segment
        values and groups the evaluation can hold."""
        edges: list[tuple[FloatArray, ...]] = []
        group_edges: list[tuple[FloatArray, ...]] = []
        labels = 2
        for scores in sample.predictions:
            if config.task is Task.BINARY_CLASSIFICATION:
                edges.append((score_edges(scores, _LEVELS, _GRID, config.threshold),))
                group_edges.append(
                    (score_edges(scores, _GROUP_LEVELS, _GROUP_GRID, config.threshold),)
                )
            elif config.task is Task.MULTICLASS_CLASSIFICATION:
                columns = [scores[:, column] for column in range(scores.shape[1])]
                labels = 2 * len(columns)
                levels = _class_levels(len(columns))
                edges.append(tuple(score_edges(c, levels, _CLASS_GRID, None) for c in columns))
                group_edges.append(
                    tuple(
                        score_edges(c, _GROUP_CLASS_LEVELS, _GROUP_CLASS_GRID, None)
                        for c in columns
                    )
                )
        group_budget = max(MIN_GROUP_BUDGET, exact_budget // max(1, group_slots * labels))
        return cls(config, tuple(edges), tuple(group_edges), exact_budget // labels, group_budget)

    def _task(self, edges: tuple[FloatArray, ...], capacity: int, budget: int) -> Accumulator:
        config = self.config
        if config.task is Task.BINARY_CLASSIFICATION:
            return BinaryAccumulator(
                edges=edges[0], threshold=config.threshold, capacity=capacity, budget=budget
            )
        if config.task is Task.MULTICLASS_CLASSIFICATION:
            return MulticlassAccumulator(edges=edges, capacity=capacity, budget=budget)
        if config.task is Task.REGRESSION:
            return RegressionAccumulator(capacity)
        return RankingAccumulator(config.cutoffs, capacity)

    def overall(self, model: int) -> Accumulator:
        """The whole data's accumulator (with calibration for classification)."""
        edges = self.edges[model] if self.edges else ()
        task = self._task(edges, UNITS, self.budget)
        if not self.config.task.is_classification:
            return task
        return Combined(task, CalibrationAccumulator(self.config.calibration_bins, UNITS))

    def group(self, model: int) -> Accumulator:
        """One segment value's or sensitive group's accumulator (no calibration)."""
        edges = self.group_edges[model] if self.group_edges else ()
        return self._task(edges, GROUP_UNITS, self.group_budget)
