"""The runs every system is searched over, and the two ways they are written.

Run `i` has params p0..p19 and metrics m0..m19, the same for every system. Exactly the even runs
match the search filter (`metrics.m0 > 0.5 and params.p0 = '3'`).

- `seed_api` writes runs through the system's REST API from a pool of client threads.
- `seed_bulk` writes many more runs straight into the system's database: it reads the rows the
  API wrote for one seeded run and copies them with each new run's id, name, start time, params
  and metrics, so the bulk rows have exactly the columns and defaults the API writes.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from _api import TrackingApi
from _peers import Database

PARAMS = 20
METRICS = 20
BASE_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
SEED_THREADS = 8
CHUNK = 2_000  # runs per bulk transaction


def run_name(index: int) -> str:
    return f"run-{index:06d}"


def run_data(index: int) -> tuple[dict[str, str], dict[str, float]]:
    """Params and metrics of run `index`; even runs match the search filter, odd ones do not."""
    rng = random.Random(index)
    params = {f"p{j}": str(rng.randrange(10)) for j in range(PARAMS)}
    metrics = {f"m{j}": round(rng.random(), 6) for j in range(METRICS)}
    if index % 2 == 0:
        params["p0"] = "3"
        metrics["m0"] = round(0.51 + 0.49 * rng.random(), 6)
    else:
        metrics["m0"] = round(0.5 * rng.random(), 6)
    return params, metrics


def seed_api(
    api: TrackingApi,
    base_url: str,
    container: str,
    indexes: range,
    *,
    deadline_s: float,
) -> list[str]:
    """Create runs `indexes` through the API (create, then params and metrics); returns ids."""
    limits = httpx.Limits(max_connections=SEED_THREADS, max_keepalive_connections=SEED_THREADS)
    stop_at = time.monotonic() + deadline_s

    with httpx.Client(base_url=base_url, timeout=120, limits=limits) as client:

        def seed_one(index: int) -> str:
            if time.monotonic() > stop_at:
                raise TimeoutError(f"API seeding took longer than {deadline_s:.0f} s")
            start_ms = BASE_MS + index * 1000
            run_id = api.create_run(client, container, run_name(index), start_ms)
            params, metrics = run_data(index)
            api.log_run(client, run_id, params, metrics, start_ms)
            return run_id

        with ThreadPoolExecutor(SEED_THREADS) as pool:
            return list(pool.map(seed_one, indexes))


@dataclass(frozen=True)
class BulkSpec:
    """Where a system keeps runs, and which columns a copy of a template run must change."""

    runs_table: str
    run_id_column: str
    name_column: str
    start_column: str
    start_value: Callable[[int], Any]  # run index -> the start column's value
    new_run_id: Callable[[int], str]  # run index -> a new id
    param_tables: dict[str, tuple[str, str]]  # table -> (key column, value column)
    metric_tables: dict[str, tuple[str, str]]
    copy_tables: tuple[str, ...] = ()  # copied as they are, with the run's id and name
    run_id_columns: dict[str, str] = field(default_factory=dict)  # table -> column, if not run's
    serial_columns: dict[str, str] = field(default_factory=dict)  # table -> column the db fills
    sequence_column: str | None = None  # a per-run counter the server assigns (max + 1)
    time_columns: dict[str, str] = field(default_factory=dict)  # table -> column = start time


def _mlflow_like(sequence_column: str | None, param_value: str) -> BulkSpec:
    return BulkSpec(
        runs_table="runs",
        run_id_column="run_uuid",
        name_column="name",
        start_column="start_time",
        start_value=lambda index: BASE_MS + index * 1000,
        new_run_id=lambda index: uuid.uuid4().hex,
        param_tables={"params": ("key", param_value)},
        metric_tables={"metrics": ("key", "value"), "latest_metrics": ("key", "value")},
        copy_tables=("tags",),
        sequence_column=sequence_column,
        time_columns={"metrics": "timestamp", "latest_metrics": "timestamp"},
    )


def _uuid7(millis: int) -> str:
    """A time-ordered id like Lockgate's (UUIDv7 as 32 hex characters)."""
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | 0b10 << 62
    value |= int.from_bytes(os.urandom(10), "big") & ((0xFFF << 64) | ((1 << 62) - 1))
    return f"{value:032x}"


def _lockgate() -> BulkSpec:
    children = ("params", "tags", "metrics", "latest_metrics")
    return BulkSpec(
        runs_table="runs",
        run_id_column="id",
        name_column="name",
        start_column="started_at",
        start_value=lambda index: (BASE_MS + index * 1000) * 1000,  # microseconds
        new_run_id=lambda index: _uuid7(BASE_MS + index * 1000),
        param_tables={"params": ("key", "value")},
        metric_tables={"metrics": ("key", "value"), "latest_metrics": ("key", "value")},
        copy_tables=("tags",),
        run_id_columns=dict.fromkeys(children, "run_id"),
        serial_columns={"metrics": "id"},
        time_columns={"metrics": "timestamp", "latest_metrics": "timestamp"},
    )


BULK_SPECS: dict[str, BulkSpec] = {
    "mlflow": _mlflow_like(None, "value"),
    "fasttrackml": _mlflow_like("row_num", "value_str"),
    "lockgate": _lockgate(),
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Template:
    """The rows one API-written run has in one table."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def _select(conn: Any, backend: str, table: str, column: str, value: str) -> _Template:
    marker = "%s" if backend == "postgresql" else "?"
    cur = conn.cursor()
    cur.execute(f"SELECT * FROM {_quote(table)} WHERE {_quote(column)} = {marker}", (value,))
    return _Template([d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()])


def _insert(
    conn: Any, backend: str, table: str, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    names = ", ".join(_quote(c) for c in columns)
    if backend == "postgresql":
        with conn.cursor() as cur, cur.copy(f"COPY {_quote(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        conn.executemany(f"INSERT INTO {_quote(table)} ({names}) VALUES ({marks})", rows)


def seed_bulk(
    system: str, database: Database, template_run_id: str, template_index: int, indexes: range
) -> None:
    """Insert runs `indexes` directly into the database, shaped like the template run."""
    spec = BULK_SPECS[system]
    conn = database.connect()
    try:
        templates = _load_templates(conn, database.backend, spec, template_run_id)
        copier = _RunCopier(spec, templates, template_run_id, run_name(template_index))
        copier.sequence = _next_sequence(conn, spec)
        for chunk in _chunks(indexes, CHUNK):
            batches: dict[str, list[tuple[Any, ...]]] = {t: [] for t in templates}
            for index in chunk:
                copier.copy(index, batches)
            for table, rows in batches.items():
                _insert(conn, database.backend, table, copier.columns[table], rows)
            conn.commit()
    finally:
        conn.close()
    database.vacuum_analyze()


def _chunks(indexes: range, size: int) -> Iterator[range]:
    for start in range(indexes.start, indexes.stop, size):
        yield range(start, min(start + size, indexes.stop))


def _load_templates(conn: Any, backend: str, spec: BulkSpec, run_id: str) -> dict[str, _Template]:
    tables = [spec.runs_table, *spec.param_tables, *spec.metric_tables, *spec.copy_tables]
    templates = {}
    for table in tables:
        column = spec.run_id_columns.get(table, spec.run_id_column)
        template = _select(conn, backend, table, column, run_id)
        if template.rows:
            templates[table] = template
        elif table not in spec.copy_tables:
            raise RuntimeError(f"template run {run_id} has no rows in {table}")
    return templates


def _next_sequence(conn: Any, spec: BulkSpec) -> int | None:
    if spec.sequence_column is None:
        return None
    cur = conn.cursor()
    cur.execute(f"SELECT MAX({_quote(spec.sequence_column)}) FROM {_quote(spec.runs_table)}")
    return int(cur.fetchone()[0] or 0) + 1


class _RunCopier:
    """Turns the template run's rows into the rows of run `index`, as tuples in the order of
    `columns[table]` (a table's serial column is left to the database)."""

    def __init__(
        self, spec: BulkSpec, templates: dict[str, _Template], template_id: str, template_name: str
    ) -> None:
        self.spec = spec
        self.template_id = template_id
        self.template_name = template_name
        self.sequence: int | None = None
        self.columns: dict[str, list[str]] = {}
        self.rows: dict[str, list[list[Any]]] = {}
        for table, template in templates.items():
            serial = spec.serial_columns.get(table)
            keep = [i for i, c in enumerate(template.columns) if c != serial]
            self.columns[table] = [template.columns[i] for i in keep]
            self.rows[table] = [[row[i] for i in keep] for row in template.rows]

    def _at(self, table: str, column: str) -> int:
        return self.columns[table].index(column)

    def _renamed(self, row: list[Any], new_id: str, name: str) -> list[Any]:
        return [
            v.replace(self.template_id, new_id).replace(self.template_name, name)
            if isinstance(v, str)
            else v
            for v in row
        ]

    def copy(self, index: int, batches: dict[str, list[tuple[Any, ...]]]) -> None:
        spec = self.spec
        new_id, name = spec.new_run_id(index), run_name(index)
        runs = spec.runs_table
        run = self._renamed(self.rows[runs][0], new_id, name)
        start = spec.start_value(index)
        run[self._at(runs, spec.start_column)] = start
        if spec.sequence_column and self.sequence is not None:
            run[self._at(runs, spec.sequence_column)] = self.sequence
            self.sequence += 1
        batches[runs].append(tuple(run))
        params, metrics = run_data(index)
        for tables, values in ((spec.param_tables, params), (spec.metric_tables, metrics)):
            for table, (key_column, value_column) in tables.items():
                base = list(self.rows[table][0])
                base[self._at(table, spec.run_id_columns.get(table, spec.run_id_column))] = new_id
                if table in spec.time_columns:
                    base[self._at(table, spec.time_columns[table])] = start
                at_key, at_value = self._at(table, key_column), self._at(table, value_column)
                for key, value in values.items():
                    base[at_key], base[at_value] = key, value
                    batches[table].append(tuple(base))
        for table in spec.copy_tables:
            for row in self.rows.get(table, []):
                batches[table].append(tuple(self._renamed(row, new_id, name)))
