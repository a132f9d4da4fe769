"""Runs rendered as JSON text by the database, for search pages (ADR 0010).

A search page holds up to 1,000 runs with their params, latest metrics, tags and inputs:
tens of thousands of values. Building a `RunDetail` for each and serializing it again costs
several times what the database takes to find them, so a page is rendered where the values
are: one query whose correlated subqueries aggregate each run's values into one JSON text,
in the wire shape of the REST API's `RunOut` (a test pins the two together on both
dialects, value for value). The server splices the texts into its response unparsed.

Each dialect renders its own way:
- SQLite builds JSON values with its json1 functions (C), except a run's metrics, which an
  aggregate function in Python renders (`lockgate.store.sql.functions`): SQLite's JSON prints
  a REAL with 15 significant digits, which does not round-trip (0.30000000000000004 would
  become 0.3);
- PostgreSQL concatenates text, each value escaped by `to_json` (metric keys are only quoted:
  `check_key` admits no character that JSON escapes): its `json_build_object`
  and `json_object_agg` cost about twice as much per value, and every `::json` cast parses
  again what was just built. PostgreSQL prints a float as the shortest text that round-trips.

Times are ISO 8601 in UTC with a `Z`, with microseconds only when there are any (Python's
`isoformat`), from the stored microseconds with floor division, so that times before 1970
render as Python would. Non-finite metric values are the strings the API uses: NaN (stored as
NULL), Infinity, -Infinity. The keys of `params`, `metrics` and `tags` come in no promised
order (a JSON object has none); `inputs` are in name, then fingerprint order.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import sqlalchemy as sa

from lockgate.domain.tracking import RunJson
from lockgate.store.sql.functions import JSON_METRICS
from lockgate.store.sql.tables import datasets, latest_metrics, params, run_inputs, runs, tags

__all__ = ["PageRenderer", "render_runs"]

_MICROS = 1_000_000

Json = sa.ColumnElement[Any]
"""A JSON value: on SQLite, what its JSON functions take and return; on PostgreSQL, text."""


def render_runs(connection: sa.Connection, ids: Sequence[str], project_name: str) -> list[RunJson]:
    """The runs `ids` (of the project named `project_name`) as JSON texts, in that order."""
    if not ids:
        return []
    query = _query(connection.dialect.name)
    rows = connection.execute(query, {"ids": list(ids), "project": project_name})
    found = {run_id: document for run_id, document in rows}  # noqa: C416 - rows, not pairs
    return [RunJson(found[run_id]) for run_id in ids]


class PageRenderer:
    """Renders search pages; on PostgreSQL, a large page in two halves at once.

    PostgreSQL runs a query on one core, and rendering a page of 1,000 runs is most of a
    search's time there (it cannot run in parallel workers: the correlated subqueries
    restrict it to the leader). So the first half goes to a helper thread, on a connection of
    its own, while the caller's connection renders the second. The halves see different
    snapshots, as the page's ids and its rendering already do (read committed); each run is
    rendered from one. One helper serves the whole store: a page that finds it busy is
    rendered on the caller's connection alone, so a burst of searches takes at most one more
    connection from the pool and never waits for one.

    Args:
        engine: the store's engine.
        split_from: the smallest page rendered in halves.
    """

    def __init__(self, engine: sa.Engine, *, split_from: int = 200) -> None:
        self._engine = engine
        self._split_from = split_from
        self._helper: ThreadPoolExecutor | None = None
        self._idle = threading.Lock()  # held while the helper renders
        if engine.dialect.name == "postgresql":
            self._helper = ThreadPoolExecutor(1, thread_name_prefix="lockgate-render")

    def render(
        self, connection: sa.Connection, ids: Sequence[str], project_name: str
    ) -> list[RunJson]:
        """`render_runs`, in halves when the page is large and the helper is free."""
        helper = self._helper
        if helper is None or len(ids) < self._split_from or not self._idle.acquire(False):
            return render_runs(connection, ids, project_name)
        middle = len(ids) // 2
        try:
            first = helper.submit(self._render_alone, ids[:middle], project_name)
        except BaseException:
            self._idle.release()
            raise
        try:
            second = render_runs(connection, ids[middle:], project_name)
        finally:
            wait([first])  # the helper is free again only once its half is done
            self._idle.release()
        return first.result() + second

    def close(self) -> None:
        """Stop the helper thread (after the page it renders, if any)."""
        if self._helper is not None:
            self._helper.shutdown()

    def _render_alone(self, ids: Sequence[str], project_name: str) -> list[RunJson]:
        with self._engine.connect() as connection:
            return render_runs(connection, ids, project_name)


@functools.cache
def _query(dialect: str) -> sa.Select[str, str]:
    sql: _Sqlite | _Postgres = _Postgres() if dialect == "postgresql" else _Sqlite()
    run = runs
    document = sql.object(
        ("id", sql.string(run.c.id)),
        ("project", sql.string(sa.cast(sa.bindparam("project"), sa.Text))),
        ("name", sql.string(run.c.name)),
        ("status", sql.string(run.c.status)),
        ("started_at", sql.time(run.c.started_at)),
        ("ended_at", sql.nullable(run.c.ended_at, sql.time(run.c.ended_at))),
        ("created_by", sql.string(run.c.created_by)),
        ("environment", sql.stored(run.c.environment)),
        ("params", _key_values(sql, params, run)),
        ("metrics", _correlated(sql.metrics_object(latest_metrics), latest_metrics, run)),
        ("tags", _key_values(sql, tags, run)),
        ("inputs", _inputs(sql, run)),
    )
    return sa.select(run.c.id, sql.text(document)).where(
        run.c.id.in_(sa.bindparam("ids", expanding=True))
    )


def _correlated(aggregate: Json, table: sa.Table, run: sa.Table) -> Json:
    """The aggregate over the rows of `table` that belong to the run."""
    query = sa.select(aggregate).where(table.c.run_id == run.c.id).correlate(run)
    return query.scalar_subquery()


def _key_values(sql: _Sqlite | _Postgres, table: sa.Table, run: sa.Table) -> Json:
    return _correlated(sql.key_values(table), table, run)


def _inputs(sql: _Sqlite | _Postgres, run: sa.Table) -> Json:
    """Datasets in name, then fingerprint order, each with its schema as an object."""
    dataset = sql.object(
        ("name", sql.string(datasets.c.name)),
        ("fingerprint", sql.string(datasets.c.fingerprint)),
        ("row_count", sql.nullable(datasets.c.row_count, sql.integer(datasets.c.row_count))),
        ("schema", sql.schema_object(datasets.c.schema)),
        ("source", sql.nullable(datasets.c.source, sql.string(datasets.c.source))),
    )
    order = (datasets.c.name, datasets.c.fingerprint)
    read = run_inputs.join(datasets, datasets.c.id == run_inputs.c.dataset_id)
    return sql.aggregate_array(dataset, order, read, run_inputs.c.run_id == run.c.id, run)


class _Sqlite:
    """JSON values built by SQLite's json1 functions."""

    def string(self, value: sa.ColumnElement[Any]) -> Json:
        return value

    def integer(self, value: sa.ColumnElement[Any]) -> Json:
        return value

    def nullable(self, column: sa.ColumnElement[Any], rendered: Json) -> Json:
        return sa.case((column.is_(None), sa.null()), else_=rendered)

    def stored(self, text: sa.ColumnElement[str]) -> Json:
        """Stored JSON text as a JSON value."""
        return sa.func.json(text)

    def text(self, document: Json) -> sa.ColumnElement[str]:
        return document

    def object(self, *pairs: tuple[str, Json]) -> Json:
        return sa.func.json_object(*[part for key, value in pairs for part in (key, value)])

    def aggregate_object(self, key: sa.ColumnElement[str], value: Json) -> Json:
        return sa.func.json_group_object(key, value)

    def key_values(self, table: sa.Table) -> Json:
        return self.aggregate_object(table.c.key, table.c.value)

    def aggregate_array(
        self,
        value: Json,
        order: tuple[sa.ColumnElement[Any], ...],
        source: sa.FromClause,
        where: sa.ColumnElement[bool],
        outer: sa.Table,
    ) -> Json:
        """`[value, ...]` over the rows of `source` that match `where`, in `order`. SQLite
        before 3.44 has no ORDER BY inside an aggregate: it aggregates an ordered subquery,
        in that subquery's order."""
        rows = sa.select(value.label("value")).select_from(source).where(where)
        ordered = rows.order_by(*order).correlate(outer).subquery()
        array = sa.func.json_group_array(sa.func.json(ordered.c.value))
        return sa.select(array).correlate(outer).scalar_subquery()

    def schema_object(self, text: sa.ColumnElement[str]) -> Json:
        """A stored dataset schema, `[[column, type], ...]`, as `{column: type, ...}`."""
        pairs = sa.func.json_each(text).table_valued("value")
        aggregate = sa.func.json_group_object(
            sa.func.json_extract(pairs.c.value, "$[0]"),
            sa.func.json_extract(pairs.c.value, "$[1]"),
        )
        return sa.select(aggregate).scalar_subquery()

    def metrics_object(self, table: sa.Table) -> Json:
        """A run's latest metric values as `{key: {key, value, step, timestamp}}`."""
        columns = table.c
        text: sa.ColumnElement[str] = getattr(sa.func, JSON_METRICS)(
            columns.key, columns.value, columns.step, columns.timestamp
        )
        # Python's sqlite3 returns NULL for an aggregate over no rows.
        return sa.func.json(sa.func.coalesce(text, "{}"))

    def time(self, micros: sa.ColumnElement[int]) -> Json:
        """Microseconds since the epoch as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`."""
        fraction = _fraction(micros)
        whole = (micros - fraction) // _MICROS
        seconds = sa.func.strftime("%Y-%m-%dT%H:%M:%S", whole, "unixepoch")
        digits = sa.func.printf("%06d", fraction)
        return seconds + sa.case((fraction == 0, ""), else_="." + digits) + "Z"


class _Postgres:
    """JSON text built by concatenation, each value escaped by `to_json`."""

    def string(self, value: sa.ColumnElement[Any]) -> Json:
        return sa.cast(sa.func.to_json(value), sa.Text)

    def integer(self, value: sa.ColumnElement[Any]) -> Json:
        return sa.cast(value, sa.Text)

    def nullable(self, column: sa.ColumnElement[Any], rendered: Json) -> Json:
        return sa.case((column.is_(None), _text("null")), else_=rendered)

    def stored(self, text: sa.ColumnElement[str]) -> Json:
        """Stored JSON text, as written (compact and valid: the store wrote it)."""
        return text

    def text(self, document: Json) -> sa.ColumnElement[str]:
        return document

    def object(self, *pairs: tuple[str, Json]) -> Json:
        """Every value must be non-NULL text (`||` with NULL is NULL): `nullable` says null."""
        document: sa.ColumnElement[Any] = _text("{")
        for index, (key, value) in enumerate(pairs):
            document = document + _text(("," if index else "") + f'"{key}":') + value
        return document + _text("}")

    def aggregate_object(self, key: Json, value: Json) -> Json:
        """`{key: value, ...}` from JSON texts: `key` must render a string."""
        entry = key + _text(":") + value
        return _wrapped(sa.func.string_agg(entry, _text(",")), "{", "}")

    def key(self, key: sa.ColumnElement[str]) -> Json:
        """A param, metric or tag key as a JSON string. `check_key` admits no character that
        JSON escapes, so quoting is enough; `to_json` took about 7 of a page's 57 ms."""
        return _text('"') + key + _text('"')

    def key_values(self, table: sa.Table) -> Json:
        """`{key: value, ...}` of text values: PostgreSQL's own aggregate is the faster here."""
        aggregate = sa.func.json_object_agg(table.c.key, table.c.value)
        return sa.func.coalesce(sa.cast(aggregate, sa.Text), _text("{}"))

    def aggregate_array(
        self,
        value: Json,
        order: tuple[sa.ColumnElement[Any], ...],
        source: sa.FromClause,
        where: sa.ColumnElement[bool],
        outer: sa.Table,
    ) -> Json:
        """`[value, ...]` over the rows of `source` that match `where`, in `order`."""
        joined = sa.func.string_agg(value, _text(",")).aggregate_order_by(*order)
        query = sa.select(_wrapped(joined, "[", "]")).select_from(source).where(where)
        return query.correlate(outer).scalar_subquery()

    def schema_object(self, text: sa.ColumnElement[str]) -> Json:
        """A stored dataset schema, `[[column, type], ...]`, as `{column: type, ...}`."""
        pairs = sa.func.json_array_elements(sa.cast(text, sa.JSON)).table_valued("value")
        pair = pairs.c.value
        column, dtype = pair.op("->>")(0), pair.op("->>")(1)
        entries = self.aggregate_object(self.string(column), self.string(dtype))
        return sa.select(entries).scalar_subquery()

    def metrics_object(self, table: sa.Table) -> Json:
        """A run's latest metric values as `{key: {key, value, step, timestamp}}`."""
        columns = table.c
        key = self.key(columns.key)
        point = self.object(
            ("key", key),
            ("value", self._number(columns.value)),
            ("step", self.integer(columns.step)),
            ("timestamp", self.time(columns.timestamp)),
        )
        return self.aggregate_object(key, point)

    def _number(self, value: sa.ColumnElement[float]) -> Json:
        """A metric value as a JSON number that reads back as the same float, or the string
        NaN, Infinity or -Infinity."""
        text = sa.cast(value, sa.Text)
        is_integral = sa.and_(sa.func.strpos(text, ".") == 0, sa.func.strpos(text, "e") == 0)
        return sa.case(
            (value.is_(None), _text('"NaN"')),
            (value == sa.literal_column("'Infinity'::float8"), _text('"Infinity"')),
            (value == sa.literal_column("'-Infinity'::float8"), _text('"-Infinity"')),
            # PostgreSQL prints 5.0 as 5; the API writes 5.0, a float.
            (is_integral, text + _text(".0")),
            else_=text,
        )

    def time(self, micros: sa.ColumnElement[int]) -> Json:
        """Microseconds since the epoch as `"YYYY-MM-DDTHH:MM:SS[.ffffff]Z"` (quoted)."""
        fraction = _fraction(micros)
        microsecond: sa.ColumnElement[Any] = sa.literal_column("interval '1 microsecond'")
        moment: sa.ColumnElement[Any] = (
            sa.literal_column("timestamp 'epoch'") + micros * microsecond
        )
        seconds = sa.func.to_char(moment, _text('YYYY-MM-DD"T"HH24:MI:SS'))
        digits = _text(".") + sa.func.lpad(sa.cast(fraction, sa.Text), 6, "0")
        fractional = sa.case((fraction == 0, _text("")), else_=digits)
        return _text('"') + seconds + fractional + _text('Z"')


def _fraction(micros: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
    """The microseconds within the second, by floor division (also before 1970)."""
    return ((micros % _MICROS) + _MICROS) % _MICROS


def _wrapped(joined: sa.ColumnElement[Any], opening: str, closing: str) -> Json:
    """`opening joined closing`; the empty pair when nothing was joined (`concat` skips
    NULL)."""
    return sa.func.concat(_text(opening), joined, _text(closing))


def _text(constant: str) -> sa.ColumnElement[str]:
    """A constant as an SQL string literal: PostgreSQL cannot type a bound parameter in
    `concat` or in the branches of a CASE."""
    return sa.literal_column("'" + constant.replace("'", "''") + "'", sa.Text)
