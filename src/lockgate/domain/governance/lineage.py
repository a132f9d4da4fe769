"""The lineage graph: which dataset versions a run read, which run produced a model version,
what evaluated and compared it, and where it was promoted and deployed.

Edges are recorded as the objects are created, in the same transaction (rows older than
migration 0008 got theirs from its backfill). A node is written `<kind>:<id>`, with an id per
kind:

| kind | id |
|---|---|
| `dataset` | `<project_id>/<dataset name>@<fingerprint>` (a dataset version) |
| `run` | the run id |
| `model_version` | `<model_id>/<version number>` |
| `evaluation`, `comparison` | their ids |
| `promotion` | the id of the promotion request that moved the version into an environment |
| `deployment` | the deployment id |

Ids are the stable ones (a model's id, not its name), so a renamed model keeps its lineage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.tracking import ProjectId

__all__ = [
    "ALLOWED_EDGES",
    "DEFAULT_DEPTH",
    "MAX_DEPTH",
    "MAX_NODES",
    "LineageDirection",
    "LineageEdge",
    "LineageGraph",
    "LineageNode",
    "LineageNodeInfo",
    "LineageRelation",
    "NodeKind",
    "has_complete_lineage",
    "lineage_gaps",
    "sort_edges",
    "sort_infos",
]

DEFAULT_DEPTH = 10
MAX_DEPTH = 50
# A walk stops adding nodes past this many and says the graph is truncated.
MAX_NODES = 10_000


class NodeKind(StrEnum):
    """What a lineage node stands for. Datasets and model versions are things; the others
    are activities that read and produce them (jobs, in OpenLineage terms)."""

    DATASET = "dataset"
    RUN = "run"
    MODEL_VERSION = "model_version"
    EVALUATION = "evaluation"
    COMPARISON = "comparison"
    PROMOTION = "promotion"
    DEPLOYMENT = "deployment"

    @property
    def is_activity(self) -> bool:
        """True for runs, evaluations, comparisons, promotions and deployments."""
        return self not in {NodeKind.DATASET, NodeKind.MODEL_VERSION}


class LineageRelation(StrEnum):
    """How the source of an edge relates to its target."""

    INPUT = "input"  # a dataset version was read by a run or an evaluation
    PRODUCED = "produced"  # a run produced a model version
    EVALUATED = "evaluated"  # a model version was scored by an evaluation
    CANDIDATE = "candidate"  # an evaluation is the candidate side of a comparison
    BASELINE = "baseline"  # an evaluation is the baseline side of a comparison
    PROMOTED = "promoted"  # a model version was moved into an environment by a promotion
    EVIDENCE = "evidence"  # a comparison was evidence a promotion's gates relied on
    DEPLOYED = "deployed"  # a model version (or a promotion) was deployed


class LineageDirection(StrEnum):
    """Which way a walk follows edges: towards sources, towards targets, or both."""

    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"
    BOTH = "both"


# Every edge the graph may hold: (source kind, target kind) -> the relations allowed.
ALLOWED_EDGES: Mapping[tuple[NodeKind, NodeKind], frozenset[LineageRelation]] = MappingProxyType(
    {
        (NodeKind.DATASET, NodeKind.RUN): frozenset({LineageRelation.INPUT}),
        (NodeKind.RUN, NodeKind.MODEL_VERSION): frozenset({LineageRelation.PRODUCED}),
        (NodeKind.MODEL_VERSION, NodeKind.EVALUATION): frozenset({LineageRelation.EVALUATED}),
        (NodeKind.DATASET, NodeKind.EVALUATION): frozenset({LineageRelation.INPUT}),
        (NodeKind.EVALUATION, NodeKind.COMPARISON): frozenset(
            {LineageRelation.CANDIDATE, LineageRelation.BASELINE}
        ),
        (NodeKind.MODEL_VERSION, NodeKind.PROMOTION): frozenset({LineageRelation.PROMOTED}),
        (NodeKind.COMPARISON, NodeKind.PROMOTION): frozenset({LineageRelation.EVIDENCE}),
        (NodeKind.MODEL_VERSION, NodeKind.DEPLOYMENT): frozenset({LineageRelation.DEPLOYED}),
        (NodeKind.PROMOTION, NodeKind.DEPLOYMENT): frozenset({LineageRelation.DEPLOYED}),
    }
)

MAX_NODE_ID_LENGTH = 300
_KINDS = frozenset(kind.value for kind in NodeKind)


@dataclass(frozen=True, slots=True, order=True)
class LineageNode:
    """One node: a kind and the kind's id (see the module docstring). `str(node)` is the
    stored form `<kind>:<id>`; `LineageNode.parse` reads it back."""

    kind: NodeKind
    id: str

    def __post_init__(self) -> None:
        if not self.id or len(self.id) > MAX_NODE_ID_LENGTH or ":" in self.id:
            raise InvalidInputError(
                f"a {self.kind} node id is 1-{MAX_NODE_ID_LENGTH} characters without ':'",
                field="node",
            )

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> LineageNode:
        """The node of its stored form `<kind>:<id>`; InvalidInputError otherwise."""
        kind, sep, node_id = text.partition(":")
        if not sep or kind not in _KINDS:
            raise InvalidInputError(f"{text!r} is not a lineage node", field="node")
        return cls(NodeKind(kind), node_id)

    @classmethod
    def dataset(cls, project_id: str, name: str, fingerprint: str) -> LineageNode:
        """A dataset version of a project, by name and content fingerprint."""
        return cls(NodeKind.DATASET, f"{project_id}/{name}@{fingerprint}")

    @classmethod
    def run(cls, run_id: str) -> LineageNode:
        return cls(NodeKind.RUN, run_id)

    @classmethod
    def model_version(cls, model_id: str, version: int) -> LineageNode:
        return cls(NodeKind.MODEL_VERSION, f"{model_id}/{version}")

    @classmethod
    def evaluation(cls, evaluation_id: str) -> LineageNode:
        return cls(NodeKind.EVALUATION, evaluation_id)

    @classmethod
    def comparison(cls, comparison_id: str) -> LineageNode:
        return cls(NodeKind.COMPARISON, comparison_id)

    @classmethod
    def promotion(cls, promotion_id: str) -> LineageNode:
        return cls(NodeKind.PROMOTION, promotion_id)

    @classmethod
    def deployment(cls, deployment_id: str) -> LineageNode:
        return cls(NodeKind.DEPLOYMENT, deployment_id)

    def dataset_parts(self) -> tuple[str, str, str]:
        """(project id, name, fingerprint) of a dataset node."""
        if self.kind is not NodeKind.DATASET:
            raise InvalidInputError(f"{self} is not a dataset node", field="node")
        project_id, _, rest = self.id.partition("/")
        name, _, fingerprint = rest.rpartition("@")
        return project_id, name, fingerprint

    def model_version_parts(self) -> tuple[str, int]:
        """(model id, version number) of a model version node."""
        if self.kind is not NodeKind.MODEL_VERSION:
            raise InvalidInputError(f"{self} is not a model version node", field="node")
        model_id, _, number = self.id.rpartition("/")
        return model_id, int(number)


@dataclass(frozen=True, slots=True)
class LineageEdge:
    """`source` flowed into `target`: e.g. a dataset version was an `input` of a run. Only
    the pairs of ALLOWED_EDGES may be built (InvalidInputError otherwise)."""

    source: LineageNode
    target: LineageNode
    relation: LineageRelation
    created_at: datetime
    project_id: ProjectId

    def __post_init__(self) -> None:
        allowed = ALLOWED_EDGES.get((self.source.kind, self.target.kind), frozenset())
        if self.relation not in allowed:
            raise InvalidInputError(
                f"a {self.source.kind} cannot be {self.relation.value!r} of a {self.target.kind}",
                field="edge",
            )


@dataclass(frozen=True, slots=True)
class LineageNodeInfo:
    """A node as a walk found it: a label for people (`customers@3f2a9c1b2d4e`, a run's name,
    `churn/3`…), how many edges it is from the nearest start, when its object was created
    and (a run) ended (None when unknown), and what else is known of it (`attributes`,
    strings by name: a dataset's `name`, `fingerprint`, `row_count`, `source`; a version's
    `model` and `version`; a run's `name` and `status`; a comparison's `passed`…).
    `columns` is a dataset's schema when it was recorded."""

    node: LineageNode
    label: str
    depth: int
    created_at: datetime | None = None
    ended_at: datetime | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    columns: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class LineageGraph:
    """What a walk from `roots` found: every node (with its info) and every edge between
    them that was followed. `truncated` is True when the walk stopped at MAX_NODES."""

    roots: tuple[LineageNode, ...]
    direction: LineageDirection
    max_depth: int
    nodes: tuple[LineageNodeInfo, ...]
    edges: tuple[LineageEdge, ...]
    truncated: bool = False

    def info(self, node: LineageNode) -> LineageNodeInfo | None:
        """The info of a node of this graph, or None."""
        return next((i for i in self.nodes if i.node == node), None)

    def edges_into(self, node: LineageNode) -> tuple[LineageEdge, ...]:
        """The edges whose target is `node`."""
        return tuple(e for e in self.edges if e.target == node)

    def edges_out_of(self, node: LineageNode) -> tuple[LineageEdge, ...]:
        """The edges whose source is `node`."""
        return tuple(e for e in self.edges if e.source == node)

    def merge(self, other: LineageGraph) -> LineageGraph:
        """This graph with the nodes and edges of `other` (a node keeps its smaller depth)."""
        infos = {i.node: i for i in other.nodes}
        for info in self.nodes:
            known = infos.get(info.node)
            if known is None or info.depth <= known.depth:
                infos[info.node] = info
        edges = {(e.source, e.target, e.relation): e for e in (*self.edges, *other.edges)}
        return LineageGraph(
            self.roots,
            self.direction,
            self.max_depth,
            sort_infos(infos.values()),
            sort_edges(edges.values()),
            self.truncated or other.truncated,
        )


def sort_infos(infos: Iterable[LineageNodeInfo]) -> tuple[LineageNodeInfo, ...]:
    """Nodes nearest first, then by kind (in NodeKind order) and id."""
    order = {kind: index for index, kind in enumerate(NodeKind)}
    return tuple(sorted(infos, key=lambda i: (i.depth, order[i.node.kind], i.node.id)))


def sort_edges(edges: Iterable[LineageEdge]) -> tuple[LineageEdge, ...]:
    """Edges oldest first, then by source, target and relation."""
    return tuple(
        sorted(edges, key=lambda e: (e.created_at, str(e.source), str(e.target), e.relation))
    )


def lineage_gaps(graph: LineageGraph, version: LineageNode) -> tuple[str, ...]:
    """Why a model version's lineage is incomplete, or () when it is complete.

    The rule: a version has complete lineage when a run `produced` it and that run read at
    least one dataset version (an `input` edge into the run). `graph` must hold the
    version's upstream to depth 2 at least (a walk upstream from the version).
    """
    runs = [e.source for e in graph.edges_into(version) if e.relation is LineageRelation.PRODUCED]
    if not runs:
        return ("no run produced the version",)
    for run in runs:
        if any(e.relation is LineageRelation.INPUT for e in graph.edges_into(run)):
            return ()
    return ("the run that produced the version recorded no dataset input",)


def has_complete_lineage(graph: LineageGraph, version: LineageNode) -> bool:
    """True when `lineage_gaps` finds nothing: a run produced the version and read data."""
    return not lineage_gaps(graph, version)
