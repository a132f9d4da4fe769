"""Segment values and sensitive groups: a row's value as text (nulls as "(null)"), numbered in
order of first appearance up to a limit (later values share "(other)"), and rows split by value."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from lockgate.compute.evaluation.arrays import AnyArray, IndexArray
from lockgate.compute.evaluation.chunk import Accumulator

__all__ = ["NULL", "OTHER", "TRUE", "Grouping", "ValueCodes", "split_rows", "value_text"]

NULL = "(null)"
OTHER = "(other)"
TRUE = "true"


def value_text(value: object) -> str:
    """How a value reads in a report: nulls and NaN as "(null)", booleans as true/false,
    integral floats without ".0"."""
    if value is None:
        return NULL
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return NULL
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def _first_appearance(column: AnyArray) -> tuple[list[str], IndexArray]:
    """The distinct texts of a column in order of first appearance, and each row's index into
    them."""
    if column.dtype.kind in "biufUS":
        distinct, first, inverse = np.unique(column, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty(order.size, dtype=np.intp)
        rank[order] = np.arange(order.size)
        texts = [value_text(distinct[index]) for index in order]
        local = rank[inverse.reshape(-1)]
    else:
        seen: dict[str, int] = {}
        local = np.fromiter(
            (seen.setdefault(value_text(value), len(seen)) for value in column),
            dtype=np.intp,
            count=column.size,
        )
        texts = list(seen)
    # Different values may read the same ("1" and 1 in an object column): merge them.
    merged: dict[str, int] = {}
    remap = np.array([merged.setdefault(text, len(merged)) for text in texts], dtype=np.intp)
    return list(merged), remap[local] if remap.size else local


class ValueCodes:
    """Numbers for the distinct values of one segment column or sensitive attribute.

    Values are numbered in order of first appearance in the stream (so the same data gives the
    same numbers however it is batched); past `limit` distinct values, new ones share the code
    of "(other)".
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._codes: dict[str, int] = {}
        self._values: list[str] = []
        self._other: int | None = None

    @property
    def values(self) -> tuple[str, ...]:
        """The value text of each code."""
        return tuple(self._values)

    def _code(self, text: str) -> int:
        code = self._codes.get(text)
        if code is not None:
            return code
        if len(self._values) - (self._other is not None) < self._limit:
            code = self._add(text)
        else:
            if self._other is None:
                self._other = self._add(OTHER)
            code = self._other
        self._codes[text] = code
        return code

    def _add(self, text: str) -> int:
        self._values.append(text)
        return len(self._values) - 1

    def encode(self, column: AnyArray) -> IndexArray:
        """Each row's code."""
        texts, local = _first_appearance(column)
        codes = np.array([self._code(text) for text in texts], dtype=np.intp)
        return codes[local] if codes.size else local

    def encode_mask(self, mask: AnyArray) -> IndexArray:
        """A predicate segment: the code of "true" where the mask holds, -1 elsewhere."""
        if not mask.any():
            return np.full(mask.size, -1, dtype=np.intp)
        return np.where(mask, self._code(TRUE), -1).astype(np.intp)


def split_rows(codes: IndexArray) -> Iterator[tuple[int, IndexArray]]:
    """Each non-negative code with its rows (ascending positions)."""
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    bounds = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    starts = np.concatenate(([0], bounds))
    stops = np.concatenate((bounds, [codes.size]))
    for start, stop in zip(starts, stops, strict=True):
        if stop > start and ordered[start] >= 0:
            yield int(ordered[start]), order[start:stop]


@dataclass(slots=True)
class Grouping:
    """The segments of one rule, or the groups of one sensitive attribute: the value codes
    and, per code, one accumulator per model."""

    name: str
    predicate: bool
    codes: ValueCodes
    accumulators: dict[int, list[Accumulator]] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return sum(part.nbytes for parts in self.accumulators.values() for part in parts)

    def encode(self, column: AnyArray) -> IndexArray:
        """Each row's code (-1 outside every segment)."""
        return self.codes.encode_mask(column) if self.predicate else self.codes.encode(column)

    def ordered(self) -> list[tuple[str, list[Accumulator]]]:
        """Each value with its accumulators, in order of first appearance, "(other)" last."""
        values = self.codes.values
        codes = sorted(self.accumulators, key=lambda code: (values[code] == OTHER, code))
        return [(values[code], self.accumulators[code]) for code in codes]
