"""SqlRunRepository: runs and what they record (params, metrics, tags, inputs)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from lockgate.domain.errors import ConflictError, InvalidInputError, NotFoundError
from lockgate.domain.identity import IdFactory, Uuid7Factory
from lockgate.domain.pagination import Page, decode_cursor
from lockgate.domain.tracking import (
    Comparison,
    DatasetInput,
    Metric,
    OrderBy,
    Project,
    ProjectId,
    Run,
    RunDetail,
    RunId,
    RunJson,
    RunStatus,
)
from lockgate.store.sql.codec import (
    decode_float,
    dialect_insert,
    dialect_insert_for,
    encode_float,
    from_micros,
    maybe_micros,
    page_of,
    to_micros,
    translate_integrity,
)
from lockgate.store.sql.engine import DriverStatement
from lockgate.store.sql.run_details import environment_json, load_details, run_from_row, schema_json
from lockgate.store.sql.run_json import PageRenderer, render_runs
from lockgate.store.sql.run_search import runs_by_id, search_run_ids
from lockgate.store.sql.tables import datasets, latest_metrics, run_inputs, runs
from lockgate.store.sql.tables import metrics as metrics_table
from lockgate.store.sql.tables import params as params_table
from lockgate.store.sql.tables import tags as tags_table

__all__ = ["SqlRunRepository"]


class SqlRunRepository:
    """Runs in `runs`, with `params`, `metrics`, `latest_metrics`, `tags` and `run_inputs`.

    Args:
        connection: the unit of work's connection, inside its transaction.
        ids: makes ids for dataset versions seen for the first time.
        renderer: renders search pages (the store's); on `connection` alone when not given.
    """

    def __init__(
        self,
        connection: sa.Connection,
        ids: IdFactory | None = None,
        renderer: PageRenderer | None = None,
    ) -> None:
        self._connection = connection
        self._ids = ids or Uuid7Factory()
        self._renderer = renderer

    def add(self, run: Run, tags: dict[str, str]) -> None:
        row = {
            "id": run.id,
            "project_id": run.project_id,
            "name": run.name,
            "status": run.status.value,
            "started_at": to_micros(run.started_at),
            "ended_at": maybe_micros(run.ended_at),
            "created_by": run.created_by,
            "environment": environment_json(run.environment),
        }
        with translate_integrity(
            self._connection,
            duplicate=f"run {run.id} already exists",
            missing=f"project {run.project_id} does not exist",
        ):
            self._connection.execute(runs.insert(), row)
        if tags:
            self.set_tags(run, tags)

    def get(self, run_id: RunId) -> Run:
        cursor = _SELECT_RUN.execute(self._connection, {"run_id": run_id})
        row = cursor.fetchone()
        if row is None:
            raise NotFoundError(f"run {run_id} does not exist")
        # run_from_row only reads columns by name, which a dict of the row answers too. (The
        # names are the table's: psycopg makes a Column object per column to describe a row.)
        return run_from_row(cast(sa.RowMapping, dict(zip(_RUN_COLUMNS, row, strict=True))))

    def save_status(self, run: Run, *, expected: RunStatus) -> None:
        result = self._connection.execute(
            runs.update()
            .where(runs.c.id == run.id, runs.c.status == expected.value)
            .values(status=run.status.value, ended_at=maybe_micros(run.ended_at))
        )
        if result.rowcount == 0:
            current = self.get(run.id)  # NotFoundError when the run is gone
            raise ConflictError(
                f"run {run.id} is {current.status}, not {expected}: another writer changed it",
                field="status",
            )

    def add_params(self, run: Run, params: dict[str, str]) -> None:
        if not params:
            return
        rows = [
            {"run_id": run.id, "key": key, "value": value, "project_id": run.project_id}
            for key, value in params.items()
        ]
        insert = dialect_insert(self._connection, params_table).on_conflict_do_nothing(
            index_elements=[params_table.c.run_id, params_table.c.key]
        )
        self._connection.execute(insert, rows)
        stored = self._connection.execute(
            sa.select(params_table.c.key, params_table.c.value).where(
                params_table.c.run_id == run.id, params_table.c.key.in_(list(params))
            )
        )
        for key, value in stored:
            if params[key] != value:
                raise ConflictError(
                    f"param {key!r} of run {run.id} is already {value!r}; params are write-once",
                    field=f"params.{key}",
                )

    def add_metrics(self, run: Run, metrics: Sequence[Metric]) -> None:
        if not metrics:
            return
        if len(metrics) == 1:  # one point per request is how training loops log
            row = {**_metric_row(run, metrics[0]), "project_id": run.project_id}
            if self._connection.dialect.name == "postgresql":
                _INSERT_POINT_AND_LATEST.execute(self._connection, row)
                return
            _INSERT_METRIC.execute(self._connection, row)
            _UPSERT_LATEST.execute(self._connection, row)
            return
        _insert_points(self._connection, run, metrics)
        # One upsert row per key: later points win ties, as in the history order (step,
        # timestamp, insertion).
        latest: dict[str, Metric] = {}
        for metric in metrics:
            current = latest.get(metric.key)
            if current is None or (metric.step, metric.timestamp) >= (
                current.step,
                current.timestamp,
            ):
                latest[metric.key] = metric
        self._connection.execute(
            _latest_metrics_upsert(self._connection.dialect.name),
            [{**_metric_row(run, m), "project_id": run.project_id} for m in latest.values()],
        )

    def set_tags(self, run: Run, tags: dict[str, str]) -> None:
        if not tags:
            return
        insert = dialect_insert(self._connection, tags_table)
        upsert = insert.on_conflict_do_update(
            index_elements=[tags_table.c.run_id, tags_table.c.key],
            set_={"value": insert.excluded.value},
        )
        self._connection.execute(
            upsert,
            [
                {"run_id": run.id, "key": key, "value": value, "project_id": run.project_id}
                for key, value in tags.items()
            ],
        )

    def add_input(self, run: Run, dataset: DatasetInput) -> None:
        row = {
            "id": self._ids.new_id(),
            "project_id": run.project_id,
            "name": dataset.name,
            "fingerprint": dataset.fingerprint,
            "row_count": dataset.row_count,
            "schema": schema_json(dataset.schema),
            "source": dataset.source,
        }
        key = (datasets.c.project_id, datasets.c.name, datasets.c.fingerprint)
        self._connection.execute(
            dialect_insert(self._connection, datasets).on_conflict_do_nothing(index_elements=key),
            row,
        )
        dataset_id = self._connection.execute(
            sa.select(datasets.c.id).where(
                datasets.c.project_id == run.project_id,
                datasets.c.name == dataset.name,
                datasets.c.fingerprint == dataset.fingerprint,
            )
        ).scalar_one()
        self._connection.execute(
            dialect_insert(self._connection, run_inputs).on_conflict_do_nothing(),
            {"run_id": run.id, "dataset_id": dataset_id},
        )

    def detail(self, run_id: RunId) -> RunDetail:
        (found,) = load_details(self._connection, [self.get(run_id)])
        return found

    def metric_history(
        self, run_id: RunId, key: str, page_size: int, cursor: str | None
    ) -> Page[Metric]:
        params: dict[str, object] = {"run_id": run_id, "key": key, "limit": page_size + 1}
        statement = _HISTORY
        if cursor is not None:
            after = decode_cursor(cursor, arity=3)
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in after):
                raise InvalidInputError("page_token does not fit this query", field="page_token")
            params |= dict(zip(("after_step", "after_timestamp", "after_id"), after, strict=True))
            statement = _HISTORY_AFTER
        rows = statement.execute(self._connection, params).fetchall()
        page = page_of(rows, page_size, lambda row: [row[1], row[2], row[3]])
        items = [
            Metric(key, decode_float(v), step, from_micros(ts)) for v, step, ts, _ in page.items
        ]
        return Page(items, page.next_cursor)

    def search(
        self,
        project_id: ProjectId,
        filters: Sequence[Comparison],
        order: OrderBy,
        page_size: int,
        cursor: str | None,
    ) -> Page[RunDetail]:
        ids, next_cursor = search_run_ids(
            self._connection, project_id, filters, order, page_size, cursor
        )
        found = runs_by_id(self._connection, ids)
        return Page(load_details(self._connection, found), next_cursor)

    def search_json(
        self,
        project: Project,
        filters: Sequence[Comparison],
        order: OrderBy,
        page_size: int,
        cursor: str | None,
    ) -> Page[RunJson]:
        ids, next_cursor = search_run_ids(
            self._connection, project.id, filters, order, page_size, cursor
        )
        if self._renderer is None:
            return Page(render_runs(self._connection, ids, project.name), next_cursor)
        return Page(self._renderer.render(self._connection, ids, project.name), next_cursor)


def _metric_row(run: Run, metric: Metric) -> dict[str, object]:
    return {
        "run_id": run.id,
        "key": metric.key,
        "value": encode_float(metric.value),
        "step": metric.step,
        "timestamp": to_micros(metric.timestamp),
    }


# Hot-path statements are built once: constructing them (ON CONFLICT's `excluded` columns
# especially) costs more CPU than executing them from SQLAlchemy's compiled cache, and the
# single-point path skips even that (see DriverStatement: every column here is a string, an
# integer or a float).
_SELECT_RUN = DriverStatement(lambda _: sa.select(runs).where(runs.c.id == sa.bindparam("run_id")))
_RUN_COLUMNS = tuple(column.name for column in runs.columns)
_METRIC_COLUMNS = ("run_id", "key", "value", "step", "timestamp")


def _history_query(*, after: bool) -> sa.Select[tuple[float | None, int, int, int]]:
    """One key's points in order, a page at a time (`limit` is the page size plus one); with
    `after`, those past a page's last (step, timestamp, id)."""
    columns = metrics_table.c
    query = (
        sa.select(columns.value, columns.step, columns.timestamp, columns.id)
        .where(columns.run_id == sa.bindparam("run_id"), columns.key == sa.bindparam("key"))
        .order_by(columns.step, columns.timestamp, columns.id)
        .limit(sa.bindparam("limit", type_=sa.Integer()))
    )
    if after:
        position = sa.tuple_(columns.step, columns.timestamp, columns.id)
        bound = ("after_step", "after_timestamp", "after_id")
        query = query.where(position > sa.tuple_(*(sa.bindparam(name) for name in bound)))
    return query


# A 20,000-point history is 20,000 rows: SQLAlchemy's result rows would cost more CPU than
# the query.
_HISTORY = DriverStatement(lambda _: _history_query(after=False))
_HISTORY_AFTER = DriverStatement(lambda _: _history_query(after=True))
_INSERT_METRIC = DriverStatement(lambda _: metrics_table.insert(), _METRIC_COLUMNS)


@functools.cache
def _latest_metrics_upsert(dialect_name: str) -> sa.Insert:
    """Keep each key's latest point: the highest step, then the newest timestamp."""
    insert = dialect_insert_for(dialect_name, latest_metrics)
    excluded = insert.excluded
    newer = sa.or_(
        excluded.step > latest_metrics.c.step,
        sa.and_(
            excluded.step == latest_metrics.c.step,
            excluded.timestamp >= latest_metrics.c.timestamp,
        ),
    )
    return insert.on_conflict_do_update(
        index_elements=[latest_metrics.c.run_id, latest_metrics.c.key],
        set_={"value": excluded.value, "step": excluded.step, "timestamp": excluded.timestamp},
        where=newer,
    )


_UPSERT_LATEST = DriverStatement(
    lambda dialect_name: _latest_metrics_upsert(dialect_name), (*_METRIC_COLUMNS, "project_id")
)


def _point_and_latest() -> sa.Insert:
    """One point and its key's latest value in one statement: the point's INSERT rides in a
    data-modifying CTE of the upsert (PostgreSQL only). A statement fewer per point is CPU
    saved on both ends of the connection."""
    values: dict[str, sa.BindParameter[object]] = {
        name: sa.bindparam(name) for name in (*_METRIC_COLUMNS, "project_id")
    }
    point = (
        metrics_table.insert().values({name: values[name] for name in _METRIC_COLUMNS}).cte("point")
    )
    return _latest_metrics_upsert("postgresql").values(values).add_cte(point)


_INSERT_POINT_AND_LATEST = DriverStatement(lambda _: _point_and_latest())


def _insert_points(connection: sa.Connection, run: Run, metrics: Sequence[Metric]) -> None:
    """Insert a batch of points, in order (ids follow the batch). On PostgreSQL it is one
    statement over arrays: an executemany sends a Bind and an Execute per point, which cost
    the server and the client about as much as the insert itself (see _INSERT_POINT_ARRAYS)."""
    if connection.dialect.name != "postgresql":
        connection.execute(metrics_table.insert(), [_metric_row(run, m) for m in metrics])
        return
    _INSERT_POINT_ARRAYS.execute(
        connection,
        {
            "run_id": run.id,
            "keys": [m.key for m in metrics],
            "values": [encode_float(m.value) for m in metrics],
            "steps": [m.step for m in metrics],
            "timestamps": [to_micros(m.timestamp) for m in metrics],
        },
    )


def _point_arrays() -> sa.Insert:
    """INSERT INTO metrics SELECT ... FROM unnest(keys, values, steps, timestamps) WITH
    ORDINALITY, in the arrays' order (PostgreSQL only)."""
    points = (
        sa.func.unnest(
            sa.bindparam("keys", type_=postgresql.ARRAY(sa.Text())),
            sa.bindparam("values", type_=postgresql.ARRAY(sa.Double())),
            sa.bindparam("steps", type_=postgresql.ARRAY(sa.BigInteger())),
            sa.bindparam("timestamps", type_=postgresql.ARRAY(sa.BigInteger())),
        )
        .table_valued("key", "value", "step", "timestamp", with_ordinality="position")
        .render_derived(name="point")
    )
    select = sa.select(
        sa.bindparam("run_id", type_=sa.String()),
        *(points.c[name] for name in _METRIC_COLUMNS[1:]),
    ).order_by(points.c.position)
    return metrics_table.insert().from_select(list(_METRIC_COLUMNS), select)


# Every value is a string, or a list of strings, floats (NULL for NaN) or integers.
_INSERT_POINT_ARRAYS = DriverStatement(lambda _: _point_arrays())
