"""The lineage graph as OpenLineage RunEvents: one event per activity (run, evaluation,
comparison, promotion, deployment), whose inputs and outputs are the dataset versions and
model versions around it.

Mapping (see docs/howto/lineage.md):
- namespace: `lockgate://<project>` for every job and dataset of a project;
- a dataset version is the dataset `datasets/<name>` with a `version` facet (the
  fingerprint) and, when recorded, a `schema` facet; a model version is the dataset
  `models/<model>` with a `version` facet (the version number);
- a run is the job `runs/<run name>`; an evaluation, comparison, promotion or deployment is
  the job `models/<model>/evaluate|compare|promote|deploy`;
- `run.runId` is the object's id as a UUID (Lockgate ids are UUIDv7 hex); an id that is not
  one gets a name-based UUID (v5) of its node;
- eventType: a run's status (running → RUNNING, finished → COMPLETE, failed → FAIL, killed →
  ABORT); COMPLETE for the others, which are recorded only once done;
- every event carries the `lockgate` run facet (LOCKGATE_FACET_SCHEMA): the node, its label,
  its attributes, and its Lockgate neighbours with their relations (what OpenLineage's
  dataset lists cannot say, e.g. a comparison's two evaluations).
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from lockgate.domain.audit import JsonValue
from lockgate.domain.governance.lineage import (
    LineageEdge,
    LineageGraph,
    LineageNode,
    LineageNodeInfo,
    NodeKind,
)

__all__ = [
    "FACET_SCHEMA_URL",
    "LOCKGATE_FACET_SCHEMA",
    "SCHEMA_URL",
    "openlineage_events",
    "producer_uri",
]

# The core spec the events are validated against (tests/fixtures/openlineage).
SCHEMA_URL = "https://openlineage.io/spec/1-0-3/OpenLineage.json#/$defs/RunEvent"
_JOB_TYPE_URL = (
    "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
)
_VERSION_URL = (
    "https://openlineage.io/spec/facets/1-0-0/DatasetVersionDatasetFacet.json"
    "#/$defs/DatasetVersionDatasetFacet"
)
_SCHEMA_FACET_URL = (
    "https://openlineage.io/spec/facets/1-0-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
)
FACET_SCHEMA_URL = "urn:lockgate:openlineage:facets:1-0-0#/$defs/LockgateRunFacet"

# The JSON Schema of the `lockgate` run facet; its `$id` is FACET_SCHEMA_URL's document.
LOCKGATE_FACET_SCHEMA: Mapping[str, JsonValue] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:lockgate:openlineage:facets:1-0-0",
    "$defs": {
        "Neighbour": {
            "type": "object",
            "properties": {"node": {"type": "string"}, "relation": {"type": "string"}},
            "required": ["node", "relation"],
            "additionalProperties": False,
        },
        "LockgateRunFacet": {
            "type": "object",
            "properties": {
                "_producer": {"type": "string", "format": "uri"},
                "_schemaURL": {"type": "string", "format": "uri"},
                "node": {"type": "string", "description": "`<kind>:<id>`"},
                "kind": {"type": "string"},
                "label": {"type": "string"},
                "project": {"type": "string"},
                "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
                "upstream": {"type": "array", "items": {"$ref": "#/$defs/Neighbour"}},
                "downstream": {"type": "array", "items": {"$ref": "#/$defs/Neighbour"}},
            },
            "required": ["_producer", "_schemaURL", "node", "kind", "label", "project"],
        },
    },
    "$ref": "#/$defs/LockgateRunFacet",
}

_HEX_ID = re.compile(r"[0-9a-f]{32}")
_THINGS = frozenset({NodeKind.DATASET, NodeKind.MODEL_VERSION})
_RUN_EVENT_TYPES = {
    "running": "RUNNING",
    "finished": "COMPLETE",
    "failed": "FAIL",
    "killed": "ABORT",
}
_JOB_TYPES = {
    NodeKind.RUN: "RUN",
    NodeKind.EVALUATION: "EVALUATION",
    NodeKind.COMPARISON: "COMPARISON",
    NodeKind.PROMOTION: "PROMOTION",
    NodeKind.DEPLOYMENT: "DEPLOYMENT",
}
_VERBS = {
    NodeKind.EVALUATION: "evaluate",
    NodeKind.COMPARISON: "compare",
    NodeKind.PROMOTION: "promote",
    NodeKind.DEPLOYMENT: "deploy",
}


def producer_uri(version: str) -> str:
    """The `producer` of Lockgate's events: a URN naming Lockgate and its version."""
    return f"urn:lockgate:{version}"


def openlineage_events(
    activities: Iterable[LineageNode],
    context: LineageGraph,
    *,
    project: str,
    producer: str,
) -> list[dict[str, JsonValue]]:
    """One RunEvent per activity, oldest first.

    Args:
        activities: The activity nodes to render (other kinds are skipped).
        context: A graph holding each activity's neighbours: upstream to depth 2 (a
            comparison's inputs are those of its evaluations) and downstream to depth 1.
        project: The project's name, which makes the namespace `lockgate://<project>`.
        producer: The events' producer URI (`producer_uri`).
    """
    renderer = _Renderer(context, f"lockgate://{project}", project, producer)
    events = [renderer.event(node) for node in dict.fromkeys(activities) if node.kind.is_activity]
    found = [event for event in events if event is not None]
    return [event for _, event in sorted(found, key=lambda pair: pair[0])]


class _Renderer:
    def __init__(self, graph: LineageGraph, namespace: str, project: str, producer: str) -> None:
        # Edges by target and by source: a graph may hold thousands of them.
        self._into: dict[LineageNode, list[LineageEdge]] = defaultdict(list)
        self._out_of: dict[LineageNode, list[LineageEdge]] = defaultdict(list)
        for edge in graph.edges:
            self._into[edge.target].append(edge)
            self._out_of[edge.source].append(edge)
        self._infos = {info.node: info for info in graph.nodes}
        self._namespace = namespace
        self._project = project
        self._producer = producer

    def event(self, node: LineageNode) -> tuple[tuple[str, str], dict[str, JsonValue]] | None:
        info = self._info(node)
        moment = self._moment(info)
        if moment is None:
            return None
        status = info.attributes.get("status", "")
        event_type = _RUN_EVENT_TYPES.get(status, "COMPLETE")
        event: dict[str, JsonValue] = {
            "eventType": event_type,
            "eventTime": _rfc3339(moment),
            "producer": self._producer,
            "schemaURL": SCHEMA_URL,
            "run": {"runId": _run_uuid(node), "facets": {"lockgate": self._facet(info)}},
            "job": {
                "namespace": self._namespace,
                "name": self._job_name(info),
                "facets": {"jobType": self._job_type(node.kind)},
            },
            "inputs": [self._dataset(n) for n in self._inputs(node)],
            "outputs": [self._dataset(n) for n in self._outputs(node)],
        }
        return (_rfc3339(moment), str(node)), event

    def _info(self, node: LineageNode) -> LineageNodeInfo:
        known = self._infos.get(node)
        return known if known is not None else LineageNodeInfo(node, str(node), 0)

    def _moment(self, info: LineageNodeInfo) -> datetime | None:
        if info.ended_at is not None:
            return info.ended_at
        if info.created_at is not None:
            return info.created_at
        touching = [e.created_at for e in (*self._into[info.node], *self._out_of[info.node])]
        return max(touching, default=None)

    def _base(self, schema_url: str) -> dict[str, JsonValue]:
        return {"_producer": self._producer, "_schemaURL": schema_url}

    def _facet(self, info: LineageNodeInfo) -> dict[str, JsonValue]:
        upstream: list[JsonValue] = [
            {"node": str(e.source), "relation": e.relation.value} for e in self._into[info.node]
        ]
        downstream: list[JsonValue] = [
            {"node": str(e.target), "relation": e.relation.value} for e in self._out_of[info.node]
        ]
        return {
            **self._base(FACET_SCHEMA_URL),
            "node": str(info.node),
            "kind": info.node.kind.value,
            "label": info.label,
            "project": self._project,
            "attributes": dict(sorted(info.attributes.items())),
            "upstream": upstream,
            "downstream": downstream,
        }

    def _job_type(self, kind: NodeKind) -> dict[str, JsonValue]:
        return {
            **self._base(_JOB_TYPE_URL),
            "processingType": "BATCH",
            "integration": "LOCKGATE",
            "jobType": _JOB_TYPES[kind],
        }

    def _job_name(self, info: LineageNodeInfo) -> str:
        if info.node.kind is NodeKind.RUN:
            return f"runs/{info.attributes.get('name', info.node.id)}"
        return f"models/{self._model_name(info)}/{_VERBS[info.node.kind]}"

    def _model_name(self, info: LineageNodeInfo) -> str:
        if "model" in info.attributes:
            return info.attributes["model"]
        for edge in self._into[info.node]:
            source = self._infos.get(edge.source)
            if source is not None and "model" in source.attributes:
                return source.attributes["model"]
        return "unknown"

    def _inputs(self, node: LineageNode) -> list[LineageNode]:
        found = [e.source for e in self._into[node]]
        if node.kind is NodeKind.COMPARISON:  # a comparison reads what its evaluations read
            found += [e.source for n in list(found) for e in self._into[n]]
        return self._things(found)

    def _outputs(self, node: LineageNode) -> list[LineageNode]:
        return self._things(e.target for e in self._out_of[node])

    @staticmethod
    def _things(nodes: Iterable[LineageNode]) -> list[LineageNode]:
        return sorted({n for n in nodes if n.kind in _THINGS})

    def _dataset(self, node: LineageNode) -> dict[str, JsonValue]:
        info = self._info(node)
        if node.kind is NodeKind.DATASET:
            _, name, fingerprint = node.dataset_parts()
            facets: dict[str, JsonValue] = {
                "version": {**self._base(_VERSION_URL), "datasetVersion": fingerprint}
            }
            if info.columns:
                fields: list[JsonValue] = [{"name": c, "type": t} for c, t in info.columns]
                facets["schema"] = {**self._base(_SCHEMA_FACET_URL), "fields": fields}
            return {"namespace": self._namespace, "name": f"datasets/{name}", "facets": facets}
        model_id, number = node.model_version_parts()
        model = info.attributes.get("model", model_id)
        version = {**self._base(_VERSION_URL), "datasetVersion": str(number)}
        return {
            "namespace": self._namespace,
            "name": f"models/{model}",
            "facets": {"version": version},
        }


def _run_uuid(node: LineageNode) -> str:
    """The node's id as a UUID when it is one (32 hex), else a UUIDv5 of the node."""
    if _HEX_ID.fullmatch(node.id):
        return str(uuid.UUID(hex=node.id))
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:lockgate:{node}"))


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
