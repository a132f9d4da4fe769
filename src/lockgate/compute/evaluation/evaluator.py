"""The streaming evaluator: batches of scored rows in, a report of one model (or a paired report
of a candidate and a baseline) out, in memory that does not grow with the number of rows."""

from __future__ import annotations

import numpy as np

from lockgate.compute.evaluation.arrays import AnyArray, IndexArray
from lockgate.compute.evaluation.batch import EvaluationBatch, Rows, validate_batch
from lockgate.compute.evaluation.bootstrap import assign_units, poisson_weights
from lockgate.compute.evaluation.chunk import Accumulator, Chunk
from lockgate.compute.evaluation.groups import Grouping, ValueCodes, split_rows
from lockgate.compute.evaluation.plan import DEFAULT_EXACT_BUDGET, WARMUP_ROWS, AccumulatorPlan
from lockgate.compute.evaluation.reporting import Reports, build_reports
from lockgate.domain.errors import ConflictError, InvalidInputError
from lockgate.domain.evaluation import EvaluationConfig, ModelReport, PairedReport, Task

__all__ = ["CHUNK_ROWS", "Evaluator"]

CHUNK_ROWS = 1 << 17
"""Rows gathered from small batches before they are accumulated together (at least
`WARMUP_ROWS`), so per-chunk costs vanish whatever the batch size."""


def _query_runs(queries: AnyArray) -> IndexArray:
    """Each row's query numbered 0.. in order (a query's rows are contiguous)."""
    changes = np.zeros(queries.size, dtype=np.intp)
    changes[1:] = queries[1:] != queries[:-1]
    return np.cumsum(changes)


def _last_query_start(queries: AnyArray) -> int:
    changed = np.flatnonzero(queries[1:] != queries[:-1])
    return int(changed[-1]) + 1 if changed.size else 0


class Evaluator:
    """Evaluates one model, or a candidate and a baseline on the same rows, batch by batch.

    Feed batches with `update`, then call `report` (one model) or `paired_report` (two). The
    report is the same for the same rows and configuration however the rows are batched.
    After a report the evaluator is closed: `update` raises `ConflictError`.
    """

    def __init__(
        self,
        config: EvaluationConfig,
        *,
        models: int = 1,
        labels: tuple[str, ...] = (),
        exact_budget: int = DEFAULT_EXACT_BUDGET,
    ) -> None:
        """Start an evaluation.

        Args:
            config: The task, threshold, bootstrap, segments and sensitive attributes.
            models: 1, or 2 for a candidate then a baseline scored on the same rows.
            labels: Class names for the confusion matrix: binary (negative, positive),
                multiclass in the probabilities' column order. Default: `config.classes`,
                else "0", "1", ...
            exact_budget: Distinct scores kept exactly per model, shared by its label
                histograms (and the same again for all segments and groups together).

        Raises:
            InvalidInputError: The configuration, `models`, `labels` or the budget is invalid.
        """
        config.check()
        if models not in (1, 2):
            raise InvalidInputError("evaluate 1 model, or 2 (candidate, baseline)", field="models")
        if exact_budget < 1:
            raise InvalidInputError("the exact budget is positive", field="exact_budget")
        self._config = config
        self._models = models
        self._labels = labels or config.classes
        self._classes = self._check_labels()
        self._budget = exact_budget
        self._pending: list[Rows] = []
        self._pending_rows = 0
        self._drain_at = CHUNK_ROWS
        self._plan: AccumulatorPlan | None = None
        self._overall: list[Accumulator] = []
        limit = config.max_segment_values
        self._segments = [
            Grouping(rule.name, rule.predicate is not None, ValueCodes(limit))
            for rule in config.segments
        ]
        self._sensitive = [Grouping(name, False, ValueCodes(limit)) for name in config.sensitive]
        self._offset = 0
        self._result: Reports | None = None

    def _check_labels(self) -> int | None:
        task = self._config.task
        if task is Task.BINARY_CLASSIFICATION and len(self._labels) not in (0, 2):
            raise InvalidInputError("binary labels are (negative, positive)", field="labels")
        if task is Task.MULTICLASS_CLASSIFICATION and self._labels:
            if len(self._labels) < 2:
                raise InvalidInputError("name at least two classes", field="labels")
            return len(self._labels)
        return None

    @property
    def state_bytes(self) -> int:
        """Bytes held by the accumulators and the rows waiting to be accumulated."""
        groupings = sum(grouping.nbytes for grouping in (*self._segments, *self._sensitive))
        overall = sum(accumulator.nbytes for accumulator in self._overall)
        return overall + groupings + sum(rows.nbytes for rows in self._pending)

    def update(self, batch: EvaluationBatch) -> None:
        """Add a batch of scored rows.

        Raises:
            InvalidInputError: The batch does not fit the configuration (`field` names the
                column at fault); nothing of it was added.
            ConflictError: The evaluator has already reported.
        """
        if self._result is not None:
            raise ConflictError("the evaluation has been reported; start a new evaluator")
        rows = validate_batch(batch, self._config, self._models, self._classes)
        if self._config.task is Task.MULTICLASS_CLASSIFICATION and self._classes is None:
            self._classes = rows.predictions[0].shape[1]
        if not rows.size:
            return
        self._pending.append(rows)
        self._pending_rows += rows.size
        if self._pending_rows >= self._drain_at:
            self._drain(final=False)
            # A query longer than a chunk waits whole; double the wait rather than re-join it.
            self._drain_at = max(CHUNK_ROWS, 2 * self._pending_rows)

    def _drain(self, *, final: bool) -> None:
        if not self._pending:
            return
        rows = Rows.concat(self._pending)
        self._pending, self._pending_rows = [], 0
        if self._config.task is Task.RANKING:
            if not final and rows.queries is not None:
                cut = _last_query_start(rows.queries)
                if cut < rows.size:
                    self._pending, self._pending_rows = (
                        [rows.slice(cut, rows.size)],
                        rows.size - cut,
                    )
                rows = rows.slice(0, cut)
            if rows.size:
                self._accumulate(rows)
            return
        for start in range(0, rows.size, CHUNK_ROWS):
            self._accumulate(rows.slice(start, start + CHUNK_ROWS))

    def _accumulate(self, rows: Rows) -> None:
        if self._plan is None:
            slots = sum(
                self._config.max_segment_values + 1 for _ in (*self._segments, *self._sensitive)
            )
            self._plan = AccumulatorPlan.build(
                self._config, rows.slice(0, WARMUP_ROWS), self._budget, slots
            )
            self._overall = [self._plan.overall(model) for model in range(self._models)]
        chunks = self._chunks(rows)
        for accumulator, chunk in zip(self._overall, chunks, strict=True):
            accumulator.add(chunk)
        for grouping in self._segments:
            self._route(grouping, rows.segments[grouping.name], chunks)
        for grouping in self._sensitive:
            self._route(grouping, rows.sensitive[grouping.name], chunks)

    def _chunks(self, rows: Rows) -> list[Chunk]:
        seed = self._config.seed
        if rows.queries is None:
            units = assign_units(self._offset, rows.size, seed)
            self._offset += rows.size
            queries = None
        else:
            queries = _query_runs(rows.queries)
            count = int(queries[-1]) + 1
            units = assign_units(self._offset, count, seed)[queries]
            self._offset += count
        return [Chunk(rows.target, scores, units, queries) for scores in rows.predictions]

    def _route(self, grouping: Grouping, column: AnyArray, chunks: list[Chunk]) -> None:
        if self._plan is None:
            return
        for code, positions in split_rows(grouping.encode(column)):
            accumulators = grouping.accumulators.get(code)
            if accumulators is None:
                accumulators = [self._plan.group(model) for model in range(self._models)]
                grouping.accumulators[code] = accumulators
            for accumulator, chunk in zip(accumulators, chunks, strict=True):
                accumulator.add(chunk.take(positions))

    def _finish(self) -> Reports:
        if self._result is None:
            self._drain(final=True)
            config = self._config
            weights = poisson_weights(config.seed, config.resamples) if config.resamples else None
            self._result = build_reports(
                config,
                self._report_labels(),
                weights,
                self._overall,
                self._segments,
                self._sensitive,
            )
            if not self._overall:
                self._result.models = [
                    ModelReport(config.task, 0, {}, cutoffs=config.cutoffs)
                ] * self._models
        return self._result

    def _report_labels(self) -> tuple[str, ...]:
        if self._labels:
            return self._labels
        if self._config.task is Task.BINARY_CLASSIFICATION:
            return ("0", "1")
        return tuple(str(index) for index in range(self._classes or 0))

    def report(self) -> ModelReport:
        """The report of the one model.

        Raises:
            InvalidInputError: The evaluator was made for two models.
        """
        if self._models != 1:
            raise InvalidInputError("two models give a paired report", field="models")
        return self._finish().models[0]

    def paired_report(self) -> PairedReport:
        """The candidate's and the baseline's reports with the paired changes.

        Raises:
            InvalidInputError: The evaluator was made for one model.
        """
        if self._models != 2:
            raise InvalidInputError("a paired report needs two models", field="models")
        result = self._finish()
        candidate, baseline = result.models
        return PairedReport(
            candidate,
            baseline,
            result.changes,
            tuple(result.segment_changes),
            dict(result.fairness_changes),
        )
