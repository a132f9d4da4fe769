"""Wire schemas of the lineage graph (nodes with labels, edges) and of its OpenLineage export."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lockgate.api.common import ApiModel, UtcDatetime
from lockgate.domain.governance.lineage import (
    LineageDirection,
    LineageEdge,
    LineageGraph,
    LineageNodeInfo,
    LineageRelation,
    NodeKind,
)

__all__ = [
    "LineageEdgeOut",
    "LineageFormat",
    "LineageGraphOut",
    "LineageNodeOut",
    "OpenLineageOut",
]

LineageFormat = Literal["graph", "openlineage"]


class LineageNodeOut(ApiModel):
    """A node: `node` is its stored form `<kind>:<id>` (docs/howto/lineage.md), `depth` its
    distance in edges from the nearest start."""

    node: str
    kind: NodeKind
    id: str
    label: str
    depth: int
    created_at: UtcDatetime | None
    ended_at: UtcDatetime | None
    attributes: dict[str, str]
    columns: dict[str, str] = Field(description="A dataset version's schema, column to type.")

    @classmethod
    def from_domain(cls, info: LineageNodeInfo) -> LineageNodeOut:
        return cls(
            node=str(info.node),
            kind=info.node.kind,
            id=info.node.id,
            label=info.label,
            depth=info.depth,
            created_at=info.created_at,
            ended_at=info.ended_at,
            attributes=dict(info.attributes),
            columns=dict(info.columns),
        )


class LineageEdgeOut(ApiModel):
    """`source` flowed into `target` (both `<kind>:<id>`), recorded at `created_at`."""

    source: str
    target: str
    relation: LineageRelation
    created_at: UtcDatetime

    @classmethod
    def from_domain(cls, edge: LineageEdge) -> LineageEdgeOut:
        return cls(
            source=str(edge.source),
            target=str(edge.target),
            relation=edge.relation,
            created_at=edge.created_at,
        )


class LineageGraphOut(ApiModel):
    """What a walk found: nodes nearest first, edges oldest first; `truncated` when the walk
    stopped at its node budget (10,000) before its depth."""

    roots: list[str]
    direction: LineageDirection
    depth: int
    nodes: list[LineageNodeOut]
    edges: list[LineageEdgeOut]
    truncated: bool

    @classmethod
    def from_domain(cls, graph: LineageGraph) -> LineageGraphOut:
        return cls(
            roots=[str(root) for root in graph.roots],
            direction=graph.direction,
            depth=graph.max_depth,
            nodes=[LineageNodeOut.from_domain(info) for info in graph.nodes],
            edges=[LineageEdgeOut.from_domain(edge) for edge in graph.edges],
            truncated=graph.truncated,
        )


class OpenLineageOut(ApiModel):
    """OpenLineage RunEvents, oldest first: one per run, evaluation, comparison, promotion
    and deployment of the graph (the spec's JSON, as is)."""

    events: list[dict[str, Any]]
