"""OpenLineage rendering: one RunEvent per activity, with the datasets and model versions
around it as inputs and outputs, valid against the official spec schema (formats checked)."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest

from lockgate.domain.governance.lineage import (
    LineageDirection,
    LineageEdge,
    LineageGraph,
    LineageNode,
    LineageNodeInfo,
    LineageRelation,
)
from lockgate.domain.governance.openlineage import (
    FACET_SCHEMA_URL,
    SCHEMA_URL,
    openlineage_events,
    producer_uri,
)
from lockgate.domain.tracking import ProjectId
from tests.support.openlineage import EVENT_VALIDATOR, SPEC, validate_events

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PROJECT = ProjectId("a" * 32)
PRODUCER = producer_uri("1.2.3")
MODEL = "b" * 32
DATASET = LineageNode.dataset(PROJECT, "holdout", "f" * 64)
RUN = LineageNode.run("0190a1b2c3d4e5f60718293a4b5c6d7e")
V1 = LineageNode.model_version(MODEL, 1)
V2 = LineageNode.model_version(MODEL, 2)
EVAL_1 = LineageNode.evaluation("1" * 32)
EVAL_2 = LineageNode.evaluation("2" * 32)
COMPARISON = LineageNode.comparison("3" * 32)
PROMOTION = LineageNode.promotion("not-a-hex-id")


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _edge(source: LineageNode, target: LineageNode, relation: LineageRelation, minutes: int):
    return LineageEdge(source, target, relation, _at(minutes), PROJECT)


def _context(run_status: str = "finished") -> LineageGraph:
    model = {"model": "churn"}
    infos = (
        LineageNodeInfo(
            DATASET,
            "holdout@ffffffffffff",
            2,
            attributes={"name": "holdout", "fingerprint": "f" * 64},
            columns=(("age", "int64"), ("churned", "bool")),
        ),
        LineageNodeInfo(RUN, "train", 1, _at(0), _at(9), {"name": "train", "status": run_status}),
        LineageNodeInfo(V1, "churn/1", 1, _at(5), attributes={**model, "version": "1"}),
        LineageNodeInfo(V2, "churn/2", 0, _at(10), attributes={**model, "version": "2"}),
        LineageNodeInfo(EVAL_1, "churn/1 on holdout", 1, _at(20), attributes=model),
        LineageNodeInfo(EVAL_2, "churn/2 on holdout", 1, _at(20), attributes=model),
        LineageNodeInfo(COMPARISON, "churn/2 vs 1: pass", 2, _at(21), attributes=model),
        LineageNodeInfo(PROMOTION, f"promotion {PROMOTION.id}", 1),
    )
    edges = (
        _edge(DATASET, RUN, LineageRelation.INPUT, 1),
        _edge(RUN, V2, LineageRelation.PRODUCED, 10),
        _edge(V1, EVAL_1, LineageRelation.EVALUATED, 20),
        _edge(V2, EVAL_2, LineageRelation.EVALUATED, 20),
        _edge(DATASET, EVAL_1, LineageRelation.INPUT, 20),
        _edge(DATASET, EVAL_2, LineageRelation.INPUT, 20),
        _edge(EVAL_2, COMPARISON, LineageRelation.CANDIDATE, 21),
        _edge(EVAL_1, COMPARISON, LineageRelation.BASELINE, 21),
        _edge(V2, PROMOTION, LineageRelation.PROMOTED, 30),
        _edge(COMPARISON, PROMOTION, LineageRelation.EVIDENCE, 30),
    )
    return LineageGraph((V2,), LineageDirection.BOTH, 5, infos, edges)


def _events(context: LineageGraph | None = None) -> list[dict[str, Any]]:
    context = context or _context()
    activities = [i.node for i in context.nodes]  # the renderer skips the non-activities
    return openlineage_events(activities, context, project="churn", producer=PRODUCER)


def _by_job(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["job"]["name"]: e for e in events}


def _names(datasets: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(d["name"], d["facets"]["version"]["datasetVersion"]) for d in datasets]


def test_every_activity_becomes_one_valid_run_event_oldest_first() -> None:
    events = _events()
    assert validate_events(events) == 5
    assert [e["job"]["name"] for e in events] == [
        "runs/train",
        "models/churn/evaluate",
        "models/churn/evaluate",
        "models/churn/compare",
        "models/churn/promote",
    ]
    assert {e["job"]["namespace"] for e in events} == {"lockgate://churn"}
    assert {e["producer"] for e in events} == {PRODUCER}
    assert {e["schemaURL"] for e in events} == {SCHEMA_URL}
    assert SCHEMA_URL.startswith(SPEC["$id"])


def test_a_run_reads_datasets_and_outputs_the_versions_it_produced() -> None:
    run = _by_job(_events())["runs/train"]
    assert run["eventType"] == "COMPLETE"
    assert run["eventTime"] == "2026-03-01T12:09:00.000000Z"  # when it ended
    assert run["run"]["runId"] == "0190a1b2-c3d4-e5f6-0718-293a4b5c6d7e"
    assert _names(run["inputs"]) == [("datasets/holdout", "f" * 64)]
    assert run["inputs"][0]["facets"]["schema"]["fields"] == [
        {"name": "age", "type": "int64"},
        {"name": "churned", "type": "bool"},
    ]
    assert _names(run["outputs"]) == [("models/churn", "2")]
    assert run["job"]["facets"]["jobType"]["jobType"] == "RUN"


@pytest.mark.parametrize(
    ("status", "event_type"),
    [("running", "RUNNING"), ("failed", "FAIL"), ("killed", "ABORT")],
)
def test_a_run_event_says_how_the_run_ended(status: str, event_type: str) -> None:
    run = _by_job(_events(_context(status)))["runs/train"]
    assert run["eventType"] == event_type


def test_a_comparison_reads_what_its_evaluations_read() -> None:
    comparison = _by_job(_events())["models/churn/compare"]
    assert comparison["eventType"] == "COMPLETE"
    assert _names(comparison["inputs"]) == [
        ("datasets/holdout", "f" * 64),
        ("models/churn", "1"),
        ("models/churn", "2"),
    ]
    assert comparison["outputs"] == []
    facet = comparison["run"]["facets"]["lockgate"]
    assert facet["_schemaURL"] == FACET_SCHEMA_URL
    assert facet["node"] == str(COMPARISON)
    assert facet["label"] == "churn/2 vs 1: pass"
    assert facet["project"] == "churn"
    assert facet["upstream"] == [
        {"node": str(EVAL_2), "relation": "candidate"},
        {"node": str(EVAL_1), "relation": "baseline"},
    ]
    assert facet["downstream"] == [{"node": str(PROMOTION), "relation": "evidence"}]


def test_an_activity_without_its_own_time_takes_its_latest_edge() -> None:
    promotion = _by_job(_events())["models/churn/promote"]
    assert promotion["eventTime"] == "2026-03-01T12:30:00.000000Z"
    # Not a UUID: a name-based UUID of the node, the same every time.
    expected = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:lockgate:{PROMOTION}")
    assert promotion["run"]["runId"] == str(expected)
    assert _names(promotion["inputs"]) == [("models/churn", "2")]


def test_an_activity_with_no_time_at_all_is_left_out() -> None:
    lonely = LineageNode.deployment("d" * 32)
    context = LineageGraph((lonely,), LineageDirection.UPSTREAM, 1, (), ())
    assert openlineage_events([lonely, V1], context, project="p", producer=PRODUCER) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("run", "runId"), "0190a1b2c3d4e5f60718293a4b5c6d7e"),  # hex, not a UUID
        (("eventTime",), "2026-03-01 12:09"),  # not RFC 3339
        (("producer",), "lockgate 1.2.3"),  # not a URI
        (("job", "namespace"), None),  # required
    ],
)
def test_the_schema_check_refuses_a_broken_event(path: tuple[str, ...], value: Any) -> None:
    event = copy.deepcopy(_by_job(_events())["runs/train"])
    target = event
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        EVENT_VALIDATOR.validate(event)


def test_a_model_name_comes_from_a_neighbour_or_is_unknown() -> None:
    deployment = LineageNode.deployment("d" * 32)
    bare = LineageNode.model_version(MODEL, 9)  # no info: no model name known
    infos = (
        LineageNodeInfo(V1, "churn/1", 1, _at(5), attributes={"model": "churn"}),
        LineageNodeInfo(deployment, "deployment", 0, _at(40)),
        LineageNodeInfo(LineageNode.deployment("e" * 32), "deployment", 0, _at(41)),
    )
    edges = (
        _edge(bare, deployment, LineageRelation.DEPLOYED, 39),
        _edge(V1, deployment, LineageRelation.DEPLOYED, 40),
        _edge(bare, infos[2].node, LineageRelation.DEPLOYED, 41),
    )
    context = LineageGraph((V1,), LineageDirection.DOWNSTREAM, 1, infos, edges)
    events = openlineage_events(
        [i.node for i in infos], context, project="churn", producer=PRODUCER
    )
    assert validate_events(events) == 2
    assert [e["job"]["name"] for e in events] == [
        "models/churn/deploy",
        "models/unknown/deploy",
    ]
    assert _names(events[1]["inputs"]) == [(f"models/{MODEL}", "9")]


def test_a_dataset_without_a_recorded_schema_has_no_schema_facet() -> None:
    context = _context()
    infos = tuple(
        LineageNodeInfo(i.node, i.label, i.depth, i.created_at, i.ended_at, i.attributes)
        for i in context.nodes
    )
    bare = LineageGraph(context.roots, context.direction, 5, infos, context.edges)
    run = _by_job(_events(bare))["runs/train"]
    assert set(run["inputs"][0]["facets"]) == {"version"}
