"""Rows to runs, and the bulk loading of what runs recorded (one query per kind, with IN)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa

from lockgate.domain.identity import Actor
from lockgate.domain.tracking import (
    DatasetInput,
    Metric,
    ProjectId,
    Run,
    RunDetail,
    RunEnvironment,
    RunId,
    RunStatus,
)
from lockgate.store.sql.codec import (
    decode_float,
    from_json,
    from_micros,
    maybe_from_micros,
    to_json,
)
from lockgate.store.sql.tables import datasets, latest_metrics, params, run_inputs, tags

__all__ = ["environment_json", "load_details", "run_from_row", "schema_json"]


def environment_json(environment: RunEnvironment) -> str:
    """A run environment as stored JSON text."""
    return to_json(
        {
            "git_sha": environment.git_sha,
            "git_dirty": environment.git_dirty,
            "python_version": environment.python_version,
            "packages": list(environment.packages),
            "seed": environment.seed,
        }
    )


def schema_json(schema: tuple[tuple[str, str], ...]) -> str:
    """A dataset schema (column, type pairs) as stored JSON text."""
    return to_json([[column, dtype] for column, dtype in schema])


def run_from_row(row: sa.RowMapping) -> Run:
    """The run of a `runs` row."""
    environment = cast(dict[str, Any], from_json(row["environment"]))
    return Run(
        id=RunId(row["id"]),
        project_id=ProjectId(row["project_id"]),
        name=row["name"],
        status=RunStatus(row["status"]),
        started_at=from_micros(row["started_at"]),
        ended_at=maybe_from_micros(row["ended_at"]),
        created_by=Actor(row["created_by"]),
        environment=RunEnvironment(
            git_sha=environment.get("git_sha"),
            git_dirty=environment.get("git_dirty"),
            python_version=environment.get("python_version"),
            packages=tuple(environment.get("packages", ())),
            seed=environment.get("seed"),
        ),
    )


def load_details(connection: sa.Connection, runs: Sequence[Run]) -> list[RunDetail]:
    """Each run with its params, latest metrics, tags and inputs, in the order given."""
    if not runs:
        return []
    ids = [run.id for run in runs]
    found_params = _key_values(connection, params, ids)
    found_tags = _key_values(connection, tags, ids)
    found_metrics = _latest_metrics(connection, ids)
    found_inputs = _inputs(connection, ids)
    return [
        RunDetail(
            run=run,
            params=found_params.get(run.id, {}),
            metrics=found_metrics.get(run.id, {}),
            tags=found_tags.get(run.id, {}),
            inputs=tuple(found_inputs.get(run.id, ())),
        )
        for run in runs
    ]


def _json_object(
    dialect: str, key: sa.ColumnElement[str], value: sa.ColumnElement[Any]
) -> sa.ColumnElement[Any]:
    """One JSON object per group, `{key: value}`: many values arrive as one row per run
    that the JSON parser (C) unpacks, instead of a row each built in Python."""
    if dialect == "postgresql":
        return sa.func.json_object_agg(key, value)
    return sa.func.json_group_object(key, value)


def _parse_object(document: Any) -> dict[str, Any]:
    # psycopg parses json itself; SQLite hands back the text.
    parsed = document if isinstance(document, dict) else json.loads(document)
    return cast(dict[str, Any], parsed)


def _key_values(
    connection: sa.Connection, table: sa.Table, ids: list[RunId]
) -> dict[str, dict[str, str]]:
    aggregate = _json_object(connection.dialect.name, table.c.key, table.c.value)
    query = (
        sa.select(table.c.run_id, aggregate).where(table.c.run_id.in_(ids)).group_by(table.c.run_id)
    )
    return {
        run_id: dict(sorted(_parse_object(document).items()))
        for run_id, document in connection.execute(query).all()
    }


def _latest_metrics(connection: sa.Connection, ids: list[RunId]) -> dict[str, dict[str, Metric]]:
    # Plain rows, not JSON: SQLite's JSON prints a REAL with 15 significant digits, which
    # does not round-trip (0.30000000000000004 would come back as 0.3).
    table = latest_metrics
    query = (
        sa.select(table.c.run_id, table.c.key, table.c.value, table.c.step, table.c.timestamp)
        .where(table.c.run_id.in_(ids))
        .order_by(table.c.run_id, table.c.key)
    )
    found: dict[str, dict[str, Metric]] = {}
    # Points logged in one batch share a timestamp: convert each distinct one once.
    moments: dict[int, datetime] = {}
    for run_id, key, value, step, timestamp in connection.execute(query):
        moment = moments.get(timestamp)
        if moment is None:
            moment = moments[timestamp] = from_micros(timestamp)
        found.setdefault(run_id, {})[key] = Metric(key, decode_float(value), step, moment)
    return found


def _inputs(connection: sa.Connection, ids: list[RunId]) -> dict[str, list[DatasetInput]]:
    query = (
        sa.select(run_inputs.c.run_id, datasets)
        .join(datasets, datasets.c.id == run_inputs.c.dataset_id)
        .where(run_inputs.c.run_id.in_(ids))
        .order_by(run_inputs.c.run_id, datasets.c.name, datasets.c.fingerprint)
    )
    found: dict[str, list[DatasetInput]] = {}
    for row in connection.execute(query).mappings():
        schema = cast(list[list[str]], from_json(row["schema"]))
        found.setdefault(row["run_id"], []).append(
            DatasetInput(
                name=row["name"],
                fingerprint=row["fingerprint"],
                row_count=row["row_count"],
                schema=tuple((column, dtype) for column, dtype in schema),
                source=row["source"],
            )
        )
    return found
