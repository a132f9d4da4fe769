"""Checking decoded columns against a model's signature: a `SignaturePlan` built once per model
(names, dtypes, shapes, the fast paths it allows) and the checks every request goes through."""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError, PayloadTooLargeError
from lockgate.domain.registry import ColumnSpec, Signature
from lockgate.serving.flavors.base import Columns
from lockgate.serving.protocol.casting import TextCodec, cast_array, utf8_bytes, values_to_array
from lockgate.serving.protocol.datatypes import SIGNATURE_DTYPES

__all__ = [
    "DEFAULT_MAX_ROWS",
    "TENSOR_INPUT",
    "ColumnPlan",
    "FieldOf",
    "MatrixColumns",
    "SignaturePlan",
    "check_names",
    "check_rows",
    "column_from_array",
    "column_from_values",
    "names_text",
    "validate_columns",
    "values_getter",
]

DEFAULT_MAX_ROWS = 10_000
"""The most rows one request may carry unless the plan says otherwise."""

TENSOR_INPUT = "input"
"""The column name a bare tensor gets when the model has no signature to name it."""

FieldOf = Callable[[str], str]
"""Where a column sits in a request, for error messages: column name to field."""

Array = npt.NDArray[Any]
_NUMERIC_KINDS = "biuf"


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """One column of a signature, ready for the request path. `type` None is a column of a
    model without a signature: its dtype is whatever the request implies."""

    name: str
    type: str | None
    rows: int = -1
    """The first dimension of the signature's shape: -1 for any number of rows."""
    tail: tuple[int, ...] | None = ()
    """The dimensions after the rows (-1 free); () for a scalar per row, None for any."""

    @classmethod
    def of(cls, spec: ColumnSpec) -> ColumnPlan:
        shape = spec.shape or (-1,)
        return cls(spec.name, spec.type, shape[0], tuple(shape[1:]))

    @classmethod
    def open(cls, name: str, type_name: str | None = None) -> ColumnPlan:
        """A column of a model without a signature: any shape, of `type_name` or as it comes."""
        return cls(name, type_name, -1, None)

    @property
    def dtype(self) -> np.dtype[Any] | None:
        return None if self.type is None else SIGNATURE_DTYPES[self.type]

    @property
    def is_scalar(self) -> bool:
        return self.tail == ()

    @property
    def shape(self) -> tuple[int, ...]:
        """The signature's shape, rows first (-1 for a free dimension)."""
        return (self.rows, *(self.tail or ()))

    def check_shape(self, array: Array, field: str) -> Array:
        """The array if its shape fits the column (a scalar column also takes shape (n, 1))."""
        if array.ndim == 0:
            raise InvalidInputError("a column needs at least one dimension: the rows", field=field)
        tail = self.tail
        if tail is None:
            return array
        if (array.ndim == 1 and not tail) or (
            array.ndim == len(tail) + 1
            and all(want in (-1, got) for want, got in zip(tail, array.shape[1:], strict=True))
        ):
            pass
        elif not tail and array.ndim == 2 and array.shape[1] == 1:
            array = array.reshape(-1)
        else:
            raise InvalidInputError(
                f"column {self.name!r} has shape {_shape_text(array.shape)}; "
                f"the signature declares {_shape_text(self.shape)}",
                field=field,
            )
        if self.rows not in (-1, array.shape[0]):
            raise InvalidInputError(
                f"column {self.name!r} must have {self.rows} rows, not {array.shape[0]}",
                field=field,
            )
        return array


class MatrixColumns(dict[str, Array]):
    """Columns cut from one row matrix, which stays at hand: `matrix` is the (rows, inputs)
    array in signature order (the columns are views of it), so a tabular model can take it
    without stacking the columns again."""

    __slots__ = ("matrix", "names")

    def __init__(self, names: Sequence[str], by_column: Array) -> None:
        """`by_column` holds one C-contiguous row per column of `names`, in that order."""
        super().__init__(zip(names, by_column, strict=True))
        self.matrix: Array = by_column.T
        self.names = names


class SignaturePlan:
    """What the request path needs to know about a model's signature, computed once per model
    and shared by its requests. `signature` None makes an open plan, which takes the columns a
    request brings as they come.

    Args:
        signature: The model version's signature, or None.
        max_rows: The most rows one request may carry (PayloadTooLargeError beyond).
    """

    __slots__ = (
        "input_index",
        "input_name_set",
        "input_names",
        "inputs",
        "is_all_scalar",
        "matrix_type",
        "max_rows",
        "output_index",
        "outputs",
        "row_getter",
        "signature",
    )

    def __init__(self, signature: Signature | None, *, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be positive")
        self.signature = signature
        self.max_rows = max_rows
        self.inputs: tuple[ColumnPlan, ...] = ()
        self.outputs: tuple[ColumnPlan, ...] = ()
        if signature is not None:
            self.inputs = tuple(ColumnPlan.of(spec) for spec in signature.inputs)
            self.outputs = tuple(ColumnPlan.of(spec) for spec in signature.outputs)
        self.input_index = {column.name: column for column in self.inputs}
        self.output_index = {column.name: column for column in self.outputs}
        self.input_names = tuple(self.input_index)
        self.input_name_set = frozenset(self.input_names)
        self.is_all_scalar = all(column.is_scalar for column in self.inputs)
        types = {column.type for column in self.inputs}
        matrix_type = types.pop() if len(types) == 1 and self.is_all_scalar else None
        if matrix_type is not None and SIGNATURE_DTYPES[matrix_type].kind not in _NUMERIC_KINDS:
            matrix_type = None
        self.matrix_type: str | None = matrix_type
        """Set when every input is a scalar column of one numeric type: rows then decode as
        one matrix in a single numpy call (the fast path)."""
        self.row_getter = values_getter(list(self.input_names)) if self.inputs else None
        """Picks a record's values in signature order, at C speed."""

    @property
    def is_open(self) -> bool:
        """Whether the model has no signature (requests are taken as they come)."""
        return self.signature is None

    def input_or_open(self, name: str, wire_type: str | None = None) -> ColumnPlan | None:
        """The plan of input `name`: the signature's, an open column when there is no
        signature, None for a name the signature does not have."""
        if self.signature is None:
            return ColumnPlan.open(name, wire_type)
        return self.input_index.get(name)

    def check_row_count(self, rows: int, field: str) -> None:
        if rows > self.max_rows:
            raise PayloadTooLargeError(
                f"{rows} rows is more than the {self.max_rows} a request may carry", field=field
            )
        if rows == 0:
            raise InvalidInputError("the request holds no rows", field=field)


def values_getter(names: list[str]) -> Callable[[Mapping[str, object]], tuple[object, ...]]:
    """A function picking a record's values for `names`, as a tuple, at C speed."""
    if len(names) == 1:
        only = names[0]
        return lambda record: (record[only],)
    return operator.itemgetter(*names)


def column_from_values(
    column: ColumnPlan, values: object, field: str, text_codec: TextCodec = utf8_bytes
) -> Array:
    """JSON values as the column's array: cast by the casting rules, shape checked."""
    return column.check_shape(values_to_array(values, column.type, field, text_codec), field)


def column_from_array(
    column: ColumnPlan, array: Array, field: str, text_codec: TextCodec = utf8_bytes
) -> Array:
    """A decoded array (binary tensor data, CSV text) as the column's array."""
    return column.check_shape(cast_array(array, column.type, field, text_codec), field)


def check_names(
    plan: SignaturePlan,
    names: Collection[str],
    *,
    unknown_field: FieldOf,
    missing_field: str,
) -> None:
    """Every signature input is present and no other name is: else the first unknown name's
    field, or `missing_field` naming the missing inputs. `names` holds no repeats."""
    if plan.signature is None or (
        len(names) == len(plan.inputs) and plan.input_name_set.issuperset(names)
    ):
        return
    for name in names:
        if name not in plan.input_index:
            raise InvalidInputError(
                f"{name!r} is not an input of the model; its inputs are "
                f"{names_text(plan.input_names)}",
                field=unknown_field(name),
            )
    if len(names) != len(plan.inputs):
        missing = [column.name for column in plan.inputs if column.name not in names]
        raise InvalidInputError(
            f"missing input{'s' if len(missing) > 1 else ''}: {names_text(missing)}",
            field=missing_field,
        )


def check_rows(plan: SignaturePlan, columns: Columns, field_of: FieldOf) -> Columns:
    """The columns, if they agree on the number of rows and it is within the plan's limit."""
    rows = -1
    first = ""
    for name, array in columns.items():
        if rows == -1:
            rows, first = array.shape[0], name
            plan.check_row_count(rows, field_of(name))
        elif array.shape[0] != rows:
            raise InvalidInputError(
                f"column {name!r} has {array.shape[0]} rows, but {first!r} has {rows}",
                field=field_of(name),
            )
    return columns


def names_text(names: Iterable[str], *, limit: int = 8) -> str:
    """Names for a message, the first `limit` of them: `a, b, c and 27 more`."""
    listed = list(names)
    shown = ", ".join(listed[:limit])
    return shown if len(listed) <= limit else f"{shown} and {len(listed) - limit} more"


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def validate_columns(
    plan: SignaturePlan,
    columns: Mapping[str, Array],
    field_of: FieldOf = lambda name: f"inputs.{name}",
) -> Columns:
    """Arrays already decoded by some other means, checked and cast like a request's: names,
    types, shapes, rows. With an open plan they are only normalised and counted."""
    if not columns:
        raise InvalidInputError("no input columns", field="inputs")
    check_names(plan, columns.keys(), unknown_field=field_of, missing_field="inputs")
    conformed: Columns = {}
    for name, array in columns.items():
        column = plan.input_index.get(name)
        if column is None:  # an open plan: check_names let only the signature's names through
            column = ColumnPlan.open(name)
        conformed[name] = column_from_array(column, np.asarray(array), field_of(name))
    return check_rows(plan, conformed, field_of)
