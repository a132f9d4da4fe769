"""The evaluator's input: a batch of labels, one or two models' scores, segment and sensitive
columns and query ids, checked against the configuration and normalized to numpy dtypes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from lockgate.compute.evaluation.arrays import AnyArray, FloatArray
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.evaluation import EvaluationConfig, Task

__all__ = ["PROBABILITY_TOLERANCE", "EvaluationBatch", "Rows", "validate_batch"]

PROBABILITY_TOLERANCE = 1e-4
"""How far a multiclass row's probabilities may sum from 1."""


@dataclass(frozen=True, slots=True)
class EvaluationBatch:
    """Scored rows.

    Attributes:
        target: The label. Binary: 0/1 (bool or number); multiclass: the class's column in
            the probabilities; regression: a number; ranking: graded relevance >= 0.
        predictions: One array per model (the candidate, then the baseline), scored on the
            same rows. Binary: (n,) probability of the positive class; multiclass: (n, C)
            class probabilities; regression: (n,) prediction; ranking: (n,) score.
        segments: Segment rule name to the rows' values: a column rule's value (None or NaN
            reads "(null)"), or a predicate rule's boolean mask (its segment value is "true").
        sensitive: Sensitive attribute to the rows' group.
        queries: Ranking: the query id of each row; a query's rows arrive contiguously
            (they may span batches).
    """

    target: AnyArray
    predictions: tuple[AnyArray, ...]
    segments: Mapping[str, AnyArray] = field(default_factory=dict)
    sensitive: Mapping[str, AnyArray] = field(default_factory=dict)
    queries: AnyArray | None = None


@dataclass(frozen=True, slots=True)
class Rows:
    """Validated rows: target as intp (classification) or float64, predictions as float64."""

    target: AnyArray
    predictions: tuple[FloatArray, ...]
    segments: dict[str, AnyArray]
    sensitive: dict[str, AnyArray]
    queries: AnyArray | None

    @property
    def size(self) -> int:
        return int(self.target.size)

    @property
    def nbytes(self) -> int:
        arrays = [self.target, *self.predictions, *self.segments.values()]
        arrays += [*self.sensitive.values(), *([] if self.queries is None else [self.queries])]
        return sum(int(array.nbytes) for array in arrays)

    def slice(self, start: int, stop: int) -> Rows:
        """Rows `start` to `stop` (exclusive)."""
        part = slice(start, stop)
        return Rows(
            self.target[part],
            tuple(prediction[part] for prediction in self.predictions),
            {name: values[part] for name, values in self.segments.items()},
            {name: values[part] for name, values in self.sensitive.items()},
            None if self.queries is None else self.queries[part],
        )

    @staticmethod
    def concat(parts: Sequence[Rows]) -> Rows:
        """The rows of `parts` in order (at least one part)."""
        if len(parts) == 1:
            return parts[0]
        first = parts[0]
        return Rows(
            np.concatenate([part.target for part in parts]),
            tuple(
                np.concatenate([part.predictions[index] for part in parts])
                for index in range(len(first.predictions))
            ),
            {
                name: np.concatenate([part.segments[name] for part in parts])
                for name in first.segments
            },
            {
                name: np.concatenate([part.sensitive[name] for part in parts])
                for name in first.sensitive
            },
            None
            if first.queries is None
            else np.concatenate([part.queries for part in parts if part.queries is not None]),
        )


def _vector(values: object, rows: int | None, field: str) -> AnyArray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidInputError(f"expected one value per row, got shape {array.shape}", field=field)
    if rows is not None and array.size != rows:
        raise InvalidInputError(f"expected {rows} rows, got {array.size}", field=field)
    return array


def _numbers(array: AnyArray, field: str) -> FloatArray:
    if array.dtype.kind not in "biuf":
        raise InvalidInputError(f"expected numbers, got dtype {array.dtype}", field=field)
    numbers = array.astype(np.float64)
    if not np.isfinite(numbers).all():
        raise InvalidInputError("values must be finite (no NaN or infinity)", field=field)
    return numbers


def _target(values: object, config: EvaluationConfig, classes: int | None) -> AnyArray:
    name = config.target
    numbers = _numbers(_vector(values, None, name), name)
    if config.task is Task.BINARY_CLASSIFICATION:
        if not ((numbers == 0) | (numbers == 1)).all():
            raise InvalidInputError("a binary label is 0 or 1 (or a boolean)", field=name)
        return numbers.astype(np.intp)
    if config.task is Task.MULTICLASS_CLASSIFICATION:
        width = classes if classes is not None else np.inf
        if not ((numbers >= 0) & (numbers < width) & (numbers == np.floor(numbers))).all():
            raise InvalidInputError(
                "a multiclass label is the index of its probability column", field=name
            )
        return numbers.astype(np.intp)
    if config.task is Task.RANKING and (numbers < 0).any():
        raise InvalidInputError("relevance must be non-negative", field=name)
    return numbers


def _prediction(
    values: object, task: Task, rows: int, classes: int | None, field: str
) -> FloatArray:
    array = np.asarray(values)
    if task is Task.MULTICLASS_CLASSIFICATION:
        if array.ndim != 2 or array.shape[0] != rows or array.shape[1] < 2:
            raise InvalidInputError(
                f"expected ({rows}, classes) probabilities, got shape {array.shape}", field=field
            )
        if classes is not None and array.shape[1] != classes:
            raise InvalidInputError(f"expected {classes} probability columns", field=field)
        numbers = _numbers(array.reshape(-1), field).reshape(array.shape)
    else:
        numbers = _numbers(_vector(array, rows, field), field)
    if task.is_classification and ((numbers < 0) | (numbers > 1)).any():
        raise InvalidInputError("probabilities must lie in [0, 1]", field=field)
    if numbers.ndim == 2 and (np.abs(numbers.sum(axis=1) - 1.0) > PROBABILITY_TOLERANCE).any():
        raise InvalidInputError("each row's class probabilities must sum to 1", field=field)
    return np.ascontiguousarray(numbers)


def _columns(
    given: Mapping[str, AnyArray], names: Sequence[str], predicates: set[str], rows: int, kind: str
) -> dict[str, AnyArray]:
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise InvalidInputError(f"no {kind} is configured as {unknown[0]!r}", field=kind)
    result = {}
    for name in names:
        field_name = f"{kind}.{name}"
        if name not in given:
            raise InvalidInputError(f"the batch lacks {kind} {name!r}", field=field_name)
        column = _vector(given[name], rows, field_name)
        if name in predicates and column.dtype.kind != "b":
            raise InvalidInputError("a predicate segment is a boolean mask", field=field_name)
        result[name] = column
    return result


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float | np.floating) and bool(np.isnan(value)))


def _queries(values: AnyArray | None, config: EvaluationConfig, rows: int) -> AnyArray | None:
    name = config.query or "queries"
    if config.task is not Task.RANKING:
        if values is not None:
            raise InvalidInputError("query ids apply to ranking only", field=name)
        return None
    if values is None:
        raise InvalidInputError("ranking needs a query id per row", field=name)
    queries = _vector(values, rows, name)
    if queries.dtype.kind == "f" and np.isnan(queries).any():
        raise InvalidInputError("query ids must not be null", field=name)
    if queries.dtype.kind == "O" and any(_is_null(value) for value in queries):
        raise InvalidInputError("query ids must not be null", field=name)
    runs = 1 + int(np.count_nonzero(queries[1:] != queries[:-1])) if rows else 0
    distinct = len(set(queries.tolist())) if queries.dtype.kind == "O" else np.unique(queries).size
    if runs != distinct:
        raise InvalidInputError("each query's rows must be contiguous", field=name)
    return queries


def validate_batch(
    batch: EvaluationBatch, config: EvaluationConfig, models: int, classes: int | None
) -> Rows:
    """Check a batch against the configuration and normalize it.

    Raises:
        InvalidInputError: `field` names the column at fault: the target column's name,
            `predictions[i]`, `segments.<rule>`, `sensitive.<attribute>`, or the query column.
    """
    target = _target(batch.target, config, classes)
    rows = target.size
    if len(batch.predictions) != models:
        raise InvalidInputError(f"expected predictions of {models} model(s)", field="predictions")
    if classes is None and config.task is Task.MULTICLASS_CLASSIFICATION:
        first = np.asarray(batch.predictions[0])
        classes = first.shape[1] if first.ndim == 2 else None
    predictions = tuple(
        _prediction(values, config.task, rows, classes, f"predictions[{index}]")
        for index, values in enumerate(batch.predictions)
    )
    if classes is not None and target.size and target.max() >= classes:
        raise InvalidInputError(f"a label is a class index below {classes}", field=config.target)
    predicates = {rule.name for rule in config.segments if rule.predicate is not None}
    segment_names = [rule.name for rule in config.segments]
    return Rows(
        target,
        predictions,
        _columns(batch.segments, segment_names, predicates, rows, "segments"),
        _columns(batch.sensitive, list(config.sensitive), set(), rows, "sensitive"),
        _queries(batch.queries, config, rows),
    )
