"""Cursors round-trip their sort keys and refuse anything this server did not issue."""

from __future__ import annotations

import math

import pytest

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.pagination import MAX_PAGE_SIZE, check_page_size, decode_cursor, encode_cursor


@pytest.mark.parametrize(
    "values",
    [["metrics:acc:desc", False, 0.5, "ab" * 16], [True, None, "x"], [3, 1_700_000_000_000_000, 9]],
)
def test_cursors_round_trip(values: list[object]) -> None:
    cursor = encode_cursor(values)  # type: ignore[arg-type]
    assert "=" not in cursor
    assert decode_cursor(cursor, arity=len(values)) == values


def test_infinite_sort_values_survive() -> None:
    (value,) = decode_cursor(encode_cursor([math.inf]), arity=1)
    assert value == math.inf


@pytest.mark.parametrize("cursor", ["***", "bm90IGpzb24", encode_cursor(["a", "b"])])
def test_foreign_or_misshapen_cursors_are_invalid_input(cursor: str) -> None:
    with pytest.raises(InvalidInputError, match="page_token") as caught:
        decode_cursor(cursor, arity=3)
    assert caught.value.field == "page_token"


def test_cursor_values_must_be_scalars() -> None:
    nested = encode_cursor([["a"]])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="does not fit"):
        decode_cursor(nested, arity=1)


def test_page_size_bounds() -> None:
    assert check_page_size(1) == 1
    assert check_page_size(MAX_PAGE_SIZE) == MAX_PAGE_SIZE
    for bad in (0, MAX_PAGE_SIZE + 1):
        with pytest.raises(InvalidInputError, match="page_size must be between"):
            check_page_size(bad)
