"""Run search: filters as EXISTS over indexed tables, ordering, and keyset pagination.

Ordering by a metric or a param runs in two phases so that both can walk an index and stop
early: first the runs that have a value, in value order (then run id); then the runs without
one (a missing key, or a NaN metric), in run id order. The cursor says which phase it is in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.pagination import decode_cursor, encode_cursor
from lockgate.domain.tracking import (
    Comparison,
    FieldKind,
    Operator,
    OrderBy,
    ProjectId,
    Run,
    RunId,
)
from lockgate.store.sql.run_details import run_from_row
from lockgate.store.sql.tables import (
    VALUE_INDEX_PREFIX,
    latest_metrics,
    params,
    runs,
    tags,
    value_prefix,
)

__all__ = ["runs_by_id", "search_run_ids"]

_CURSOR_FIELD = "page_token"
_KEY_TABLES = {FieldKind.METRIC: latest_metrics, FieldKind.PARAM: params, FieldKind.TAG: tags}
_ATTRIBUTE_COLUMNS = {
    "status": runs.c.status,
    "name": runs.c.name,
    "created_by": runs.c.created_by,
    "started_at": runs.c.started_at,
}


@dataclass(frozen=True, slots=True)
class _Cursor:
    """Where the previous page ended: in the null phase or not, the sort value, the run id."""

    is_null: bool
    value: str | int | float | None
    run_id: str


def search_run_ids(
    connection: sa.Connection,
    project_id: ProjectId,
    filters: Sequence[Comparison],
    order: OrderBy,
    page_size: int,
    cursor: str | None,
) -> tuple[list[RunId], str | None]:
    """The ids of one page of the project's runs that match every filter, in order, and the
    next page's cursor."""
    conditions = [runs.c.project_id == project_id]
    conditions += [_condition(comparison, project_id, runs.c.id) for comparison in filters]
    after = _decode(cursor, order)
    if connection.dialect.name == "postgresql":
        _serial_plans(connection)
    if order.kind is FieldKind.ATTRIBUTE:
        rows = _attribute_page(connection, conditions, order, page_size, after)
    else:
        keyed = _Keyed(project_id, filters, conditions)
        rows = _keyed_page(connection, keyed, order, page_size, after)
    page = rows[:page_size]
    found = [RunId(run_id) for run_id, _ in page]
    if len(rows) <= page_size:
        return found, None
    last_id, last_value = page[-1]
    if not isinstance(last_value, str | int | float | None):
        raise TypeError(f"unexpected sort value {last_value!r}")
    return found, _encode(order, _Cursor(last_value is None, last_value, last_id))


def runs_by_id(connection: sa.Connection, ids: Sequence[RunId]) -> list[Run]:
    """The runs of a page, in page order. The page query selects ids only: narrow rows keep
    SQLite's planner on the index that yields the sort order."""
    if not ids:
        return []
    query = sa.select(runs).where(runs.c.id.in_(ids))
    by_id = {row["id"]: run_from_row(row) for row in connection.execute(query).mappings()}
    return [by_id[run_id] for run_id in ids]


def _serial_plans(connection: sa.Connection) -> None:
    """No parallel workers for the rest of the transaction. A page walks an index in order
    and stops after `page_size + 1` matches; PostgreSQL's planner likes a Gather Merge of
    parallel index walks for it, which starts two worker processes and merges their orders,
    and measured here it took longer with every filter tried (1,000 of 100,000 runs: about
    27 ms against 22 with half the runs matching, 29 against 17 with 2% matching)."""
    connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")


@dataclass(frozen=True, slots=True)
class _Keyed:
    """What a search ordered by a metric or a param filters on: the filters, and the same
    filters as conditions on `runs`."""

    project_id: ProjectId
    filters: Sequence[Comparison]
    conditions: list[sa.ColumnElement[bool]]


def _condition(
    comparison: Comparison, project_id: ProjectId, run_id: sa.ColumnElement[str]
) -> sa.ColumnElement[bool]:
    """The clause as a condition on the run whose id is `run_id` (a column of the outer
    query: `runs.id`, or the sort table's `run_id`)."""
    if comparison.kind is FieldKind.ATTRIBUTE:
        return _compare(_ATTRIBUTE_COLUMNS[comparison.key], comparison)
    # An alias per clause: two clauses on one table (or the sort join) must not correlate.
    table = _KEY_TABLES[comparison.kind].alias()
    condition = sa.exists().where(
        table.c.project_id == project_id,
        table.c.key == comparison.key,
        table.c.run_id == run_id,
        _compare(table.c.value, comparison),
    )
    return condition.correlate_except(table)


def _compare(column: sa.ColumnElement[object], comparison: Comparison) -> sa.ColumnElement[bool]:
    op, value = comparison.op, comparison.value
    if op is Operator.LIKE:
        return column.like(value, escape="\\")
    if op is Operator.ILIKE:
        return sa.func.lower(column).like(sa.func.lower(value), escape="\\")
    if comparison.kind is FieldKind.METRIC and op is Operator.NE:
        # NaN is stored as NULL, and NaN differs from every number.
        return sa.or_(column.is_(None), column != value)
    if comparison.kind in {FieldKind.PARAM, FieldKind.TAG} and op is Operator.EQ:
        return _equals_indexed(column, str(value))
    comparators = {
        Operator.EQ: column.__eq__,
        Operator.NE: column.__ne__,
        Operator.LT: column.__lt__,
        Operator.LE: column.__le__,
        Operator.GT: column.__gt__,
        Operator.GE: column.__ge__,
    }
    return comparators[op](value)


def _literal(count: int) -> sa.ColumnElement[int]:
    """A LIMIT written into the SQL: SQLite plans an early-stopping index walk only when it
    can see the limit, not behind a bound parameter."""
    return sa.literal_column(str(int(count)))


def _equals_indexed(column: sa.ColumnElement[object], value: str) -> sa.ColumnElement[bool]:
    """Equality through the expression index on the value's prefix. A value shorter than the
    prefix is equal exactly when the prefixes are, and the extra `column = value` term would
    make SQLite's planner drop the index."""
    prefix_equal = value_prefix(column) == value[:VALUE_INDEX_PREFIX]
    if len(value) < VALUE_INDEX_PREFIX:
        return prefix_equal
    return sa.and_(prefix_equal, column == value)


def _direction(
    descending: bool, *columns: sa.ColumnElement[object]
) -> list[sa.ColumnElement[object]]:
    return [column.desc() if descending else column.asc() for column in columns]


def _beyond(
    descending: bool, columns: Sequence[sa.ColumnElement[object]], values: Sequence[object]
) -> sa.ColumnElement[bool]:
    """Rows after `values` in the sort order: a row-value comparison, plus the implied bound on
    the leading column, which SQLite needs to see before it seeks the index instead of
    sorting the whole table."""
    left, right = sa.tuple_(*columns), sa.tuple_(*values)
    if descending:
        return sa.and_(columns[0] <= values[0], left < right)
    return sa.and_(columns[0] >= values[0], left > right)


def _attribute_page(
    connection: sa.Connection,
    conditions: list[sa.ColumnElement[bool]],
    order: OrderBy,
    page_size: int,
    after: _Cursor | None,
) -> list[tuple[str, object]]:
    column = _ATTRIBUTE_COLUMNS[order.key]
    query = sa.select(runs.c.id, column.label("sort_value")).where(*conditions)
    if after is not None:
        query = query.where(
            _beyond(order.descending, (column, runs.c.id), (after.value, after.run_id))
        )
    query = query.order_by(*_direction(order.descending, column, runs.c.id)).limit(
        _literal(page_size + 1)
    )
    return [(run_id, value) for run_id, value in connection.execute(query)]


def _keyed_page(
    connection: sa.Connection,
    keyed: _Keyed,
    order: OrderBy,
    page_size: int,
    after: _Cursor | None,
) -> list[tuple[str, object]]:
    project_id, conditions = keyed.project_id, keyed.conditions
    table = _KEY_TABLES[order.kind].alias("sort_table")
    has_value = sa.and_(
        table.c.project_id == project_id,
        table.c.key == order.key,
        table.c.run_id == runs.c.id,
        table.c.value.is_not(None),
    )
    found: list[tuple[str, object]] = []
    if after is None or not after.is_null:
        sort_columns = _sort_columns(table)
        # The keyed table first: SQLite then walks its index in sort order and stops early.
        query = _sorted_values(table, has_value, keyed, order.key)
        if after is not None:
            values = [*_sort_values(table, after.value), after.run_id]
            query = query.where(_beyond(order.descending, (*sort_columns, table.c.run_id), values))
        query = query.order_by(*_direction(order.descending, *sort_columns, table.c.run_id))
        found = [
            (run_id, value)
            for run_id, value in connection.execute(query.limit(_literal(page_size + 1)))
        ]
        if len(found) > page_size:
            return found
    without = sa.select(runs.c.id).where(*conditions, ~sa.exists().where(has_value).correlate(runs))
    if after is not None and after.is_null:
        without = without.where(_beyond(order.descending, (runs.c.id,), (after.run_id,)))
    without = without.order_by(*_direction(order.descending, runs.c.id))
    without = without.limit(_literal(page_size + 1 - len(found)))
    found += [(run_id, None) for (run_id,) in connection.execute(without)]
    return found


def _sorted_values(
    table: sa.FromClause, has_value: sa.ColumnElement[bool], keyed: _Keyed, key: str
) -> sa.Select[Any]:
    """Run ids with their sort values. Filters only on metrics, params and tags need no
    row of `runs` (the sort table's rows are the project's runs): without the join, each
    candidate costs two index lookups fewer."""
    if any(comparison.kind is FieldKind.ATTRIBUTE for comparison in keyed.filters):
        query = sa.select(runs.c.id, table.c.value.label("sort_value"))
        return query.select_from(table.join(runs, has_value)).where(*keyed.conditions)
    run_id = table.c.run_id
    query = sa.select(run_id, table.c.value.label("sort_value")).where(
        table.c.project_id == keyed.project_id,
        table.c.key == key,
        table.c.value.is_not(None),
    )
    return query.where(*(_condition(c, keyed.project_id, run_id) for c in keyed.filters))


def _sort_columns(table: sa.FromClause) -> tuple[sa.ColumnElement[Any], ...]:
    if _is_params(table):
        # Same order as the value alone, but the leading prefix can come from the index.
        return (value_prefix(table.c.value), table.c.value)
    return (table.c.value,)


def _sort_values(table: sa.FromClause, value: object) -> list[object]:
    if _is_params(table):
        return [str(value)[:VALUE_INDEX_PREFIX], value]
    return [value]


def _is_params(table: sa.FromClause) -> bool:
    return isinstance(table, sa.Alias) and table.element is params


def _signature(order: OrderBy) -> str:
    return f"{order.kind.value}:{order.key}:{'desc' if order.descending else 'asc'}"


def _encode(order: OrderBy, cursor: _Cursor) -> str:
    return encode_cursor([_signature(order), cursor.is_null, cursor.value, cursor.run_id])


def _decode(cursor: str | None, order: OrderBy) -> _Cursor | None:
    if cursor is None:
        return None
    signature, is_null, value, run_id = decode_cursor(cursor, arity=4, field=_CURSOR_FIELD)
    expected: tuple[type, ...] = (str,)
    if order.kind is FieldKind.METRIC or order.key == "started_at":
        expected = (int, float)
    fits = (
        signature == _signature(order)
        and isinstance(is_null, bool)
        and isinstance(run_id, str)
        and (value is None if is_null else isinstance(value, expected))
        and not isinstance(value, bool)
    )
    if not fits:
        raise InvalidInputError(f"{_CURSOR_FIELD} does not fit this query", field=_CURSOR_FIELD)
    return _Cursor(bool(is_null), None if isinstance(value, bool) else value, str(run_id))
