"""One-call evaluation of arrays already in memory (tests, notebooks, small data), through the
same streaming evaluator, optionally cut into batches."""

from __future__ import annotations

from collections.abc import Mapping

from lockgate.compute.evaluation.arrays import AnyArray
from lockgate.compute.evaluation.batch import EvaluationBatch
from lockgate.compute.evaluation.evaluator import Evaluator
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.evaluation import EvaluationConfig, ModelReport, PairedReport

__all__ = ["compare_arrays", "evaluate_arrays"]


def _feed(
    evaluator: Evaluator,
    target: AnyArray,
    predictions: tuple[AnyArray, ...],
    segments: Mapping[str, AnyArray],
    sensitive: Mapping[str, AnyArray],
    queries: AnyArray | None,
    batch_rows: int | None,
) -> None:
    if batch_rows is not None and batch_rows < 1:
        raise InvalidInputError("batch_rows is positive", field="batch_rows")
    rows = len(target)
    step = batch_rows or max(rows, 1)
    for start in range(0, max(rows, 1), step):
        part = slice(start, start + step)
        evaluator.update(
            EvaluationBatch(
                target=target[part],
                predictions=tuple(prediction[part] for prediction in predictions),
                segments={name: values[part] for name, values in segments.items()},
                sensitive={name: values[part] for name, values in sensitive.items()},
                queries=None if queries is None else queries[part],
            )
        )


def evaluate_arrays(
    config: EvaluationConfig,
    target: AnyArray,
    prediction: AnyArray,
    *,
    segments: Mapping[str, AnyArray] | None = None,
    sensitive: Mapping[str, AnyArray] | None = None,
    queries: AnyArray | None = None,
    labels: tuple[str, ...] = (),
    batch_rows: int | None = None,
) -> ModelReport:
    """Evaluate one model's scores on all rows at once (or in batches of `batch_rows`).

    Raises:
        InvalidInputError: As `Evaluator` and `Evaluator.update`.
    """
    evaluator = Evaluator(config, models=1, labels=labels)
    _feed(evaluator, target, (prediction,), segments or {}, sensitive or {}, queries, batch_rows)
    return evaluator.report()


def compare_arrays(
    config: EvaluationConfig,
    target: AnyArray,
    candidate: AnyArray,
    baseline: AnyArray,
    *,
    segments: Mapping[str, AnyArray] | None = None,
    sensitive: Mapping[str, AnyArray] | None = None,
    queries: AnyArray | None = None,
    labels: tuple[str, ...] = (),
    batch_rows: int | None = None,
) -> PairedReport:
    """Evaluate a candidate and a baseline scored on the same rows, with paired changes.

    Raises:
        InvalidInputError: As `Evaluator` and `Evaluator.update`.
    """
    evaluator = Evaluator(config, models=2, labels=labels)
    _feed(
        evaluator,
        target,
        (candidate, baseline),
        segments or {},
        sensitive or {},
        queries,
        batch_rows,
    )
    return evaluator.paired_report()
