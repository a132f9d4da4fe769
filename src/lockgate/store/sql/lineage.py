"""SqlLineageRepository: the edges of the lineage graph in `lineage_edges`, and bounded walks
over them (breadth first, one query per level and direction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from lockgate.domain.governance.lineage import (
    MAX_NODES,
    LineageDirection,
    LineageEdge,
    LineageGraph,
    LineageNode,
    LineageRelation,
    NodeKind,
    sort_edges,
    sort_infos,
)
from lockgate.domain.tracking import ProjectId
from lockgate.store.sql.codec import dialect_insert, from_micros, to_micros
from lockgate.store.sql.lineage_nodes import describe_nodes
from lockgate.store.sql.tables import lineage_edges

__all__ = ["SqlLineageRepository"]

# Nodes per IN list: far below every dialect's bound-parameter limit.
_CHUNK = 500


@dataclass
class _Walk:
    """What one direction of a walk has found so far."""

    depths: dict[LineageNode, int]
    edges: dict[tuple[str, str, str], LineageEdge] = field(default_factory=dict)
    truncated: bool = False


class SqlLineageRepository:
    """Edges in `lineage_edges`, keyed by (source, target, relation).

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add_edge(self, edge: LineageEdge) -> bool:
        row = {
            "source": str(edge.source),
            "target": str(edge.target),
            "relation": edge.relation.value,
            "project_id": edge.project_id,
            "created_at": to_micros(edge.created_at),
        }
        # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT.
        insert = (
            dialect_insert(self._connection, lineage_edges)
            .on_conflict_do_nothing()
            .returning(lineage_edges.c.relation)
        )
        return self._connection.execute(insert, row).first() is not None

    def dataset_versions(self, project_id: str, name: str) -> list[LineageNode]:
        # Every key from `dataset:<project>/<name>@` up to (excluded) the same text with '@'
        # raised by one: a range scan of the primary key (code-point order on both dialects).
        low = f"{NodeKind.DATASET.value}:{project_id}/{name}@"
        high = f"{low[:-1]}{chr(ord('@') + 1)}"
        source = lineage_edges.c.source
        query = (
            sa.select(source)
            .where(source >= low, source < high, lineage_edges.c.project_id == project_id)
            .distinct()
            .order_by(source)
        )
        return [LineageNode.parse(text) for text in self._connection.execute(query).scalars()]

    def walk(
        self,
        starts: Sequence[LineageNode],
        direction: LineageDirection,
        *,
        project_id: str,
        max_depth: int,
        max_nodes: int = MAX_NODES,
    ) -> LineageGraph:
        both = direction is LineageDirection.BOTH
        ways = [True, False] if both else [direction is LineageDirection.UPSTREAM]
        found = [self._walk_one_way(starts, up, project_id, max_depth, max_nodes) for up in ways]
        depths: dict[LineageNode, int] = {}
        edges: dict[tuple[str, str, str], LineageEdge] = {}
        for walk in found:
            for node, depth in walk.depths.items():
                depths[node] = min(depth, depths.get(node, depth))
            edges.update(walk.edges)
        infos = describe_nodes(self._connection, depths)
        return LineageGraph(
            roots=tuple(dict.fromkeys(starts)),
            direction=direction,
            max_depth=max_depth,
            nodes=sort_infos(infos),
            edges=sort_edges(edges.values()),
            truncated=any(w.truncated for w in found),
        )

    def _walk_one_way(
        self,
        starts: Sequence[LineageNode],
        upstream: bool,
        project_id: str,
        max_depth: int,
        max_nodes: int,
    ) -> _Walk:
        walk = _Walk(depths=dict.fromkeys(starts, 0))
        frontier = list(walk.depths)
        for depth in range(1, max_depth + 1):
            if not frontier:
                break
            reached: list[LineageNode] = []
            for edge in self._edges_at(frontier, upstream, project_id):
                other = edge.source if upstream else edge.target
                if other not in walk.depths:
                    if len(walk.depths) >= max_nodes:
                        walk.truncated = True
                        continue
                    walk.depths[other] = depth
                    reached.append(other)
                key = (str(edge.source), str(edge.target), edge.relation.value)
                walk.edges[key] = edge
            frontier = reached
        return walk

    def _edges_at(
        self, nodes: Sequence[LineageNode], upstream: bool, project_id: str
    ) -> list[LineageEdge]:
        """Edges into (upstream) or out of (downstream) any of `nodes`, in one project."""
        column = lineage_edges.c.target if upstream else lineage_edges.c.source
        names = sorted(str(node) for node in nodes)
        found: list[LineageEdge] = []
        for start in range(0, len(names), _CHUNK):
            query = sa.select(lineage_edges).where(
                column.in_(names[start : start + _CHUNK]),
                lineage_edges.c.project_id == project_id,
            )
            found += [_edge(row) for row in self._connection.execute(query).mappings()]
        return found


def _edge(row: sa.RowMapping) -> LineageEdge:
    return LineageEdge(
        source=LineageNode.parse(row["source"]),
        target=LineageNode.parse(row["target"]),
        relation=LineageRelation(row["relation"]),
        created_at=from_micros(row["created_at"]),
        project_id=ProjectId(row["project_id"]),
    )
