"""What the lineage graph shows of each node: a label, times and attributes, read in bulk
(one query per kind of node, with IN lists) from the tables of the objects themselves."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa

from lockgate.domain.governance.lineage import LineageNode, LineageNodeInfo, NodeKind
from lockgate.store.sql.codec import from_json, from_micros, maybe_from_micros
from lockgate.store.sql.tables import (
    datasets,
    evaluation_comparisons,
    evaluations,
    model_versions,
    promotion_requests,
    registered_models,
    runs,
)

__all__ = ["describe_nodes"]

_CHUNK = 500
_SHORT = 12  # characters of a fingerprint shown in a label

_Depths = Mapping[LineageNode, int]
_Infos = dict[LineageNode, LineageNodeInfo]


def describe_nodes(connection: sa.Connection, depths: _Depths) -> list[LineageNodeInfo]:
    """The info of every node of `depths` (node -> depth); a node whose object is not found
    gets its stored form as label."""
    by_kind: dict[NodeKind, list[LineageNode]] = defaultdict(list)
    for node in depths:
        by_kind[node.kind].append(node)
    found: _Infos = {}
    for kind, nodes in by_kind.items():
        describe = _DESCRIBERS.get(kind)
        if describe is not None:
            found.update(describe(connection, nodes, depths))
    return [
        found.get(node) or LineageNodeInfo(node, _fallback_label(node), depth)
        for node, depth in depths.items()
    ]


def _fallback_label(node: LineageNode) -> str:
    if node.kind is NodeKind.DATASET:
        _, name, fingerprint = node.dataset_parts()
        return f"{name}@{fingerprint[:_SHORT]}"
    return f"{node.kind.value} {node.id}"


def _rows_in(
    connection: sa.Connection, query: sa.Select[Any], column: Any, values: Iterable[Any]
) -> list[sa.RowMapping]:
    """The rows of `query` whose `column` is in `values`, in chunks."""
    wanted = sorted(set(values))
    rows: list[sa.RowMapping] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows += connection.execute(query.where(column.in_(chunk))).mappings().all()
    return rows


def _runs(connection: sa.Connection, nodes: Sequence[LineageNode], depths: _Depths) -> _Infos:
    query = sa.select(runs.c.id, runs.c.name, runs.c.status, runs.c.started_at, runs.c.ended_at)
    infos: _Infos = {}
    for row in _rows_in(connection, query, runs.c.id, (n.id for n in nodes)):
        node = LineageNode.run(row["id"])
        infos[node] = LineageNodeInfo(
            node,
            row["name"],
            depths[node],
            from_micros(row["started_at"]),
            maybe_from_micros(row["ended_at"]),
            {"name": row["name"], "status": row["status"]},
        )
    return infos


def _model_versions(
    connection: sa.Connection, nodes: Sequence[LineageNode], depths: _Depths
) -> _Infos:
    query = sa.select(
        model_versions.c.model_id,
        model_versions.c.version,
        model_versions.c.created_at,
        registered_models.c.name,
    ).join(registered_models, registered_models.c.id == model_versions.c.model_id)
    key = sa.tuple_(model_versions.c.model_id, model_versions.c.version)
    infos: _Infos = {}
    for row in _rows_in(connection, query, key, (n.model_version_parts() for n in nodes)):
        node = LineageNode.model_version(row["model_id"], row["version"])
        infos[node] = LineageNodeInfo(
            node,
            f"{row['name']}/{row['version']}",
            depths[node],
            from_micros(row["created_at"]),
            attributes={"model": row["name"], "version": str(row["version"])},
        )
    return infos


def _evaluations(
    connection: sa.Connection, nodes: Sequence[LineageNode], depths: _Depths
) -> _Infos:
    e = evaluations
    query = sa.select(
        e.c.id,
        e.c.version,
        e.c.dataset_name,
        e.c.dataset_fingerprint,
        e.c.task,
        e.c.engine,
        e.c.created_at,
        registered_models.c.name,
    ).join(registered_models, registered_models.c.id == e.c.model_id)
    infos: _Infos = {}
    for row in _rows_in(connection, query, e.c.id, (n.id for n in nodes)):
        node = LineageNode.evaluation(row["id"])
        dataset = f"{row['dataset_name']}@{row['dataset_fingerprint'][:_SHORT]}"
        infos[node] = LineageNodeInfo(
            node,
            f"{row['name']}/{row['version']} on {dataset}",
            depths[node],
            from_micros(row["created_at"]),
            attributes={
                "model": row["name"],
                "version": str(row["version"]),
                "dataset": row["dataset_name"],
                "task": row["task"],
                "engine": row["engine"],
            },
        )
    return infos


def _comparisons(
    connection: sa.Connection, nodes: Sequence[LineageNode], depths: _Depths
) -> _Infos:
    c = evaluation_comparisons
    query = sa.select(
        c.c.id,
        c.c.candidate_version,
        c.c.baseline_version,
        c.c.baseline_alias,
        c.c.passed,
        c.c.created_at,
        registered_models.c.name,
    ).join(registered_models, registered_models.c.id == c.c.model_id)
    infos: _Infos = {}
    for row in _rows_in(connection, query, c.c.id, (n.id for n in nodes)):
        node = LineageNode.comparison(row["id"])
        verdict = "pass" if row["passed"] else "fail"
        attributes = {
            "model": row["name"],
            "candidate_version": str(row["candidate_version"]),
            "baseline_version": str(row["baseline_version"]),
            "passed": "true" if row["passed"] else "false",
        }
        if row["baseline_alias"] is not None:
            attributes["baseline_alias"] = row["baseline_alias"]
        infos[node] = LineageNodeInfo(
            node,
            f"{row['name']}/{row['candidate_version']} vs {row['baseline_version']}: {verdict}",
            depths[node],
            from_micros(row["created_at"]),
            attributes=attributes,
        )
    return infos


def _datasets(connection: sa.Connection, nodes: Sequence[LineageNode], depths: _Depths) -> _Infos:
    """A dataset version from `datasets` (what runs read), else from the evaluations that
    scored on it (they keep the dataset with them)."""
    parts = {node.dataset_parts(): node for node in nodes}
    d = datasets
    query = sa.select(
        d.c.project_id, d.c.name, d.c.fingerprint, d.c.row_count, d.c.schema, d.c.source
    )
    key = sa.tuple_(d.c.project_id, d.c.name, d.c.fingerprint)
    rows = _rows_in(connection, query, key, parts)
    found = {(r["project_id"], r["name"], r["fingerprint"]): r for r in rows}
    missing = [p for p in parts if p not in found]
    if missing:
        e = evaluations
        query = sa.select(
            e.c.project_id.label("project_id"),
            e.c.dataset_name.label("name"),
            e.c.dataset_fingerprint.label("fingerprint"),
            e.c.dataset_row_count.label("row_count"),
            e.c.dataset_schema.label("schema"),
            e.c.dataset_source.label("source"),
        )
        key = sa.tuple_(e.c.project_id, e.c.dataset_name, e.c.dataset_fingerprint)
        for row in _rows_in(connection, query, key, missing):
            found.setdefault((row["project_id"], row["name"], row["fingerprint"]), row)
    return {
        parts[key]: _dataset_info(parts[key], row, depths[parts[key]])
        for key, row in found.items()
        if key in parts
    }


def _dataset_info(node: LineageNode, row: sa.RowMapping, depth: int) -> LineageNodeInfo:
    attributes = {"name": row["name"], "fingerprint": row["fingerprint"]}
    if row["row_count"] is not None:
        attributes["row_count"] = str(row["row_count"])
    if row["source"] is not None:
        attributes["source"] = row["source"]
    schema = cast(list[list[str]], from_json(row["schema"]))
    return LineageNodeInfo(
        node,
        f"{row['name']}@{row['fingerprint'][:_SHORT]}",
        depth,
        attributes=attributes,
        columns=tuple((column, dtype) for column, dtype in schema),
    )


def _promotions(connection: sa.Connection, nodes: Sequence[LineageNode], depths: _Depths) -> _Infos:
    """A promotion by the id of its request; its time is when the request closed (when it
    promoted), or was made while it is open."""
    r = promotion_requests
    query = sa.select(
        r.c.id,
        r.c.environment,
        r.c.version,
        r.c.reason,
        r.c.status,
        sa.func.coalesce(r.c.closed_at, r.c.requested_at).label("at"),
        registered_models.c.name,
    ).join(registered_models, registered_models.c.id == r.c.model_id)
    infos: _Infos = {}
    for row in _rows_in(connection, query, r.c.id, (n.id for n in nodes)):
        node = LineageNode.promotion(row["id"])
        infos[node] = LineageNodeInfo(
            node,
            f"{row['name']}/{row['version']} -> {row['environment']}",
            depths[node],
            from_micros(row["at"]),
            attributes={
                "model": row["name"],
                "version": str(row["version"]),
                "environment": row["environment"],
                "reason": row["reason"],
                "request_status": row["status"],
            },
        )
    return infos


_Describer = Callable[[sa.Connection, Sequence[LineageNode], _Depths], _Infos]
_DESCRIBERS: Mapping[NodeKind, _Describer] = {
    NodeKind.DATASET: _datasets,
    NodeKind.RUN: _runs,
    NodeKind.MODEL_VERSION: _model_versions,
    NodeKind.EVALUATION: _evaluations,
    NodeKind.COMPARISON: _comparisons,
    NodeKind.PROMOTION: _promotions,
}
