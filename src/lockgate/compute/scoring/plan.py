"""The scoring plan: which input columns feed the model and in what types, which columns pass
through, and how each batch becomes an output batch. Checked against the input's schema before a
single row is scored; picklable, so Spark executors run the same plan."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy.typing as npt
import pyarrow as pa  # pyarrow ships no type information

from lockgate.compute.scoring.columns import (
    check_input_type,
    keep_column,
    output_type,
    to_arrow_column,
    to_numpy_column,
)
from lockgate.domain.errors import InvalidInputError, LockgateError, UserCodeError
from lockgate.domain.registry import ColumnSpec, Signature
from lockgate.serving.flavors.base import Columns, Predictor

__all__ = ["DEFAULT_BATCH_SIZE", "PredictorFactory", "ScoringPlan", "predict_batch"]

DEFAULT_BATCH_SIZE = 65_536
"""Rows per batch unless told otherwise: large enough that per-batch costs vanish, small
enough that a few batches in flight stay well under a gigabyte for tabular models."""

PredictorFactory = Callable[[], Predictor]
"""Makes the predictor; called once per job (local) or once per partition (Spark), so it must
be picklable for Spark: a module-level function or a `functools.partial` of one."""


def predict_batch(predictor: Predictor, columns: Mapping[str, npt.NDArray[Any]]) -> Columns:
    """Call the model: the user-code boundary, where any failure that is not already a
    Lockgate error becomes a `UserCodeError` with the cause chained."""
    try:
        return predictor.predict(columns)
    except LockgateError:
        raise
    except Exception as exc:  # the user-code boundary of STYLE.md §6
        raise UserCodeError(f"the model failed on a batch: {type(exc).__name__}: {exc}") from exc


def _unique(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True, slots=True)
class ScoringPlan:
    """How to score batches of one input with one model.

    Attributes:
        inputs: The columns the model takes: the signature's inputs, or without a signature
            every column of the input (cast to nothing, list levels as dimensions).
        keep: The passthrough columns, in the types the input declares.
        outputs: The signature's outputs, or None to take whatever the model returns.
        output_schema: The output's schema when the signature fixes it (keep columns, then
            outputs); None when it is known only from the first scored batch.
    """

    inputs: tuple[ColumnSpec, ...] | tuple[str, ...]
    keep: tuple[pa.Field, ...]
    outputs: tuple[ColumnSpec, ...] | None
    output_schema: pa.Schema | None

    @classmethod
    def build(
        cls, schema: pa.Schema, signature: Signature | None, keep: Sequence[str] = ()
    ) -> ScoringPlan:
        """Check the input's schema against the signature and the keep columns.

        Raises:
            InvalidInputError: An input column is missing or of the wrong shape (`field` is
                `input.<name>`), or a keep column is missing or has an output's name
                (`field` is `keep`).
        """
        names = set(schema.names)
        inputs: tuple[ColumnSpec, ...] | tuple[str, ...] = tuple(schema.names)
        if signature is not None:
            for spec in signature.inputs:
                if spec.name not in names:
                    raise InvalidInputError(
                        f"the input has no column {spec.name}, which the model takes",
                        field=f"input.{spec.name}",
                    )
                check_input_type(schema.field(spec.name).type, spec)
            inputs = signature.inputs
        kept = _unique(keep)
        for name in kept:
            if name not in names:
                raise InvalidInputError(f"the input has no column {name} to keep", field="keep")
        outputs = signature.outputs if signature is not None else None
        clash = sorted({spec.name for spec in outputs or ()} & set(kept))
        if clash:
            raise InvalidInputError(
                f"kept column {clash[0]} has the name of a model output", field="keep"
            )
        keep_fields = tuple(schema.field(name) for name in kept)
        return cls(inputs, keep_fields, outputs, _fixed_schema(keep_fields, outputs))

    @property
    def keep_names(self) -> tuple[str, ...]:
        """The names of the kept columns."""
        return tuple(f.name for f in self.keep)

    @property
    def read_columns(self) -> tuple[str, ...]:
        """The input columns to read: the model's, then the kept ones."""
        model = [c if isinstance(c, str) else c.name for c in self.inputs]
        return _unique([*model, *self.keep_names])

    def to_columns(self, batch: pa.RecordBatch) -> Columns:
        """A batch's model inputs as numpy columns."""
        columns: Columns = {}
        for item in self.inputs:
            spec = None if isinstance(item, str) else item
            name = item if isinstance(item, str) else item.name
            columns[name] = to_numpy_column(batch.column(name), spec, name)
        return columns

    def to_output(self, batch: pa.RecordBatch, predictions: Mapping[str, Any]) -> pa.RecordBatch:
        """The output batch: kept columns of `batch`, then the model's answers."""
        if not isinstance(predictions, Mapping):
            raise UserCodeError(
                f"the model returned {type(predictions).__name__}, not a mapping of columns"
            )
        rows = batch.num_rows
        arrays = [keep_column(batch.column(f.name), f) for f in self.keep]
        names = [f.name for f in self.keep]
        if self.outputs is None:
            specs: list[tuple[str, ColumnSpec | None]] = [(str(n), None) for n in predictions]
        else:
            specs = [(spec.name, spec) for spec in self.outputs]
        for name, spec in specs:
            if name not in predictions:
                raise UserCodeError(f"the model returned no column {name}")
            arrays.append(to_arrow_column(predictions[name], spec, rows, name))
            names.append(name)
        if self.output_schema is not None:
            return pa.RecordBatch.from_arrays(arrays, schema=self.output_schema)
        return pa.RecordBatch.from_arrays(arrays, names=names)

    def score(self, predictor: Predictor, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Score one batch: inputs, the model, the output batch."""
        return self.to_output(batch, predict_batch(predictor, self.to_columns(batch)))


def _fixed_schema(
    keep: tuple[pa.Field, ...], outputs: tuple[ColumnSpec, ...] | None
) -> pa.Schema | None:
    if outputs is None:
        return None
    fields = list(keep)
    for spec in outputs:
        arrow = output_type(spec)
        if arrow is None:
            return None
        fields.append(pa.field(spec.name, arrow))
    return pa.schema(fields)
