"""The run search language: what parses, and the errors that name `filter` or `order_by`."""

from __future__ import annotations

import pytest

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.tracking import (
    DEFAULT_ORDER,
    Comparison,
    FieldKind,
    Operator,
    OrderBy,
    parse_filter,
    parse_order_by,
)


def test_a_conjunction_of_every_kind_parses() -> None:
    parsed = parse_filter(
        "metrics.auc >= 0.8 AND params.depth = '6' and tags.`team name` like 'gr%' "
        'and status != \'failed\' and name ilike "base\\"line"'
    )
    assert parsed == (
        Comparison(FieldKind.METRIC, "auc", Operator.GE, 0.8),
        Comparison(FieldKind.PARAM, "depth", Operator.EQ, "6"),
        Comparison(FieldKind.TAG, "team name", Operator.LIKE, "gr%"),
        Comparison(FieldKind.ATTRIBUTE, "status", Operator.NE, "failed"),
        Comparison(FieldKind.ATTRIBUTE, "name", Operator.ILIKE, 'base"line'),
    )


def test_numbers_in_every_notation() -> None:
    values = [parse_filter(f"metrics.m < {text}")[0].value for text in ["1", "-2.5", "1e-3", ".5"]]
    assert values == [1.0, -2.5, 0.001, 0.5]


def test_empty_filter_is_no_filter() -> None:
    assert parse_filter("") == ()
    assert parse_filter("   ") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.auc > 'high'", "against a number"),
        ("params.depth > '3'", "like or ilike"),
        ("params.depth = 3", "quoted string"),
        ("accuracy > 0.9", "is not a field"),
        ("status = 'sleeping'", "unknown status"),
        ("metrics.auc > 0.9 or metrics.auc < 0.1", "joined with 'and'"),
        ("metrics.auc >", "incomplete"),
        ("metrics.auc > 0.9; drop table runs", "cannot read"),
        ("attributes.colour = 'red'", "unknown attribute"),
    ],
)
def test_bad_filters_name_the_filter(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        parse_filter(text)
    assert caught.value.field == "filter"


def test_order_by() -> None:
    assert parse_order_by(None) == DEFAULT_ORDER
    assert parse_order_by("metrics.auc desc") == OrderBy(FieldKind.METRIC, "auc", True)
    assert parse_order_by("params.lr") == OrderBy(FieldKind.PARAM, "lr", False)
    assert parse_order_by("name ASC") == OrderBy(FieldKind.ATTRIBUTE, "name", False)
    with pytest.raises(InvalidInputError, match="tag") as caught:
        parse_order_by("tags.team")
    assert caught.value.field == "order_by"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("'x' = 'y'", "expected a field"),
        ("metrics.auc 0.5 0.6", "expected an operator"),
        ("started_at = '2026'", "ordering only"),
    ],
)
def test_malformed_clauses_name_the_filter(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_filter(text)
