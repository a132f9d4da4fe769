"""Run search: the filter language (`metrics.acc > 0.9 and params.lr = '0.01'`) and ordering.

The grammar is a conjunction of comparisons:
    filter  := clause ("and" clause)*
    clause  := field op literal
    field   := ("metrics" | "params" | "tags") "." key | "status" | "name" | "created_by"
    key     := identifier | `quoted key`
    op      := "=" | "!=" | "<" | "<=" | ">" | ">=" | "like" | "ilike"
    literal := number | 'string' | "string"
Metrics compare as numbers against a run's latest value; params, tags and attributes as strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.tracking.runs import RunStatus

__all__ = [
    "Comparison",
    "FieldKind",
    "Operator",
    "OrderBy",
    "parse_filter",
    "parse_order_by",
]


class FieldKind(StrEnum):
    METRIC = "metrics"
    PARAM = "params"
    TAG = "tags"
    ATTRIBUTE = "attributes"


class Operator(StrEnum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    LIKE = "like"
    ILIKE = "ilike"


ATTRIBUTES = ("status", "name", "created_by", "started_at")
_NUMERIC_OPS = frozenset(
    {Operator.EQ, Operator.NE, Operator.LT, Operator.LE, Operator.GT, Operator.GE}
)
_STRING_OPS = frozenset({Operator.EQ, Operator.NE, Operator.LIKE, Operator.ILIKE})


@dataclass(frozen=True, slots=True)
class Comparison:
    """One clause: the field (kind and key), an operator and a literal."""

    kind: FieldKind
    key: str
    op: Operator
    value: str | float


@dataclass(frozen=True, slots=True)
class OrderBy:
    """The sort: a metric, a param or an attribute, ascending or descending; runs without
    the value sort last either way, and run id breaks ties."""

    kind: FieldKind
    key: str
    descending: bool


DEFAULT_ORDER = OrderBy(FieldKind.ATTRIBUTE, "started_at", descending=True)

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<field>(?:metrics|params|tags|attributes)\.(?:`[^`]+`|[A-Za-z0-9_\-./:]+)
                 |[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|!=|=|<|>)
    )""",
    re.VERBOSE,
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise InvalidInputError(
                f"cannot read the filter at character {position}: {text[position : position + 20]!r}",
                field="filter",
            )
        kind = match.lastgroup or ""  # every alternative is a named group
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _parse_field(token: str, *, field: str) -> tuple[FieldKind, str]:
    if "." in token and token.split(".", 1)[0] in {k.value for k in FieldKind}:
        prefix, key = token.split(".", 1)
        key = key.strip("`")
        kind = FieldKind(prefix)
        if kind is FieldKind.ATTRIBUTE and key not in ATTRIBUTES:
            raise InvalidInputError(f"unknown attribute {key!r}", field=field)
        return kind, key
    if token in ATTRIBUTES:
        return FieldKind.ATTRIBUTE, token
    raise InvalidInputError(
        f"{token!r} is not a field: use metrics.KEY, params.KEY, tags.KEY or one of "
        f"{', '.join(ATTRIBUTES)}",
        field=field,
    )


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def parse_filter(text: str) -> tuple[Comparison, ...]:
    """The comparisons of a filter string; an empty string filters nothing."""
    tokens = _tokenize(text)
    clauses: list[Comparison] = []
    index = 0
    while index < len(tokens):
        if clauses:
            if tokens[index] != ("field", "and") and tokens[index][1].lower() != "and":
                raise InvalidInputError("clauses must be joined with 'and'", field="filter")
            index += 1
        clause = tokens[index : index + 3]
        if len(clause) < 3:
            raise InvalidInputError("incomplete clause at the end of the filter", field="filter")
        clauses.append(_parse_clause(clause))
        index += 3
    return tuple(clauses)


def _parse_clause(clause: list[tuple[str, str]]) -> Comparison:
    (field_kind, field_text), (op_kind, op_text), (literal_kind, literal) = clause
    if field_kind != "field":
        raise InvalidInputError(f"expected a field, found {field_text!r}", field="filter")
    kind, key = _parse_field(field_text, field="filter")
    op = _parse_operator(op_kind, op_text)
    if kind is FieldKind.METRIC:
        if op not in _NUMERIC_OPS or literal_kind != "number":
            raise InvalidInputError(
                f"metrics.{key} compares with =, !=, <, <=, >, >= against a number", field="filter"
            )
        return Comparison(kind, key, op, float(literal))
    if op not in _STRING_OPS:
        raise InvalidInputError(
            f"{kind}.{key} compares with =, !=, like or ilike against a quoted string",
            field="filter",
        )
    if literal_kind != "string":
        raise InvalidInputError(f"{kind}.{key} needs a quoted string", field="filter")
    value = _unquote(literal)
    if kind is FieldKind.ATTRIBUTE:
        _check_attribute(key, op, value)
    return Comparison(kind, key, op, value)


def _parse_operator(kind: str, text: str) -> Operator:
    if kind == "field" and text.lower() in {"like", "ilike"}:
        return Operator(text.lower())
    if kind == "op":
        return Operator(text)
    raise InvalidInputError(f"expected an operator, found {text!r}", field="filter")


def _check_attribute(key: str, op: Operator, value: str) -> None:
    if key == "status" and op in {Operator.EQ, Operator.NE}:
        try:
            RunStatus(value)
        except ValueError as exc:
            raise InvalidInputError(f"unknown status {value!r}", field="filter") from exc
    if key == "started_at":
        raise InvalidInputError("started_at is for ordering only", field="filter")


def parse_order_by(text: str | None) -> OrderBy:
    """`metrics.acc desc`, `params.lr`, `name asc` or `started_at desc` (the default)."""
    if text is None or not text.strip():
        return DEFAULT_ORDER
    parts = text.strip().rsplit(None, 1)
    descending = False
    if len(parts) == 2 and parts[1].lower() in {"asc", "desc"}:
        descending = parts[1].lower() == "desc"
        field_text = parts[0]
    else:
        field_text = text.strip()
    kind, key = _parse_field(field_text, field="order_by")
    if kind is FieldKind.TAG:
        raise InvalidInputError("runs cannot be ordered by a tag", field="order_by")
    return OrderBy(kind, key, descending)
