"""The lineage graph's domain: node ids in one format, only the edges the graph allows, merged
walks, and the rule for complete lineage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.governance.lineage import (
    ALLOWED_EDGES,
    LineageDirection,
    LineageEdge,
    LineageGraph,
    LineageNode,
    LineageNodeInfo,
    LineageRelation,
    NodeKind,
    has_complete_lineage,
    lineage_gaps,
)
from lockgate.domain.tracking import ProjectId

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PROJECT = ProjectId("p" * 32)
DATASET = LineageNode.dataset("0" * 32, "train.v2", "ab12" * 16)
RUN = LineageNode.run("1" * 32)
VERSION = LineageNode.model_version("2" * 32, 7)


def _edge(
    source: LineageNode, target: LineageNode, relation: LineageRelation, minutes: int = 0
) -> LineageEdge:
    return LineageEdge(source, target, relation, T0 + timedelta(minutes=minutes), PROJECT)


def _graph(*edges: LineageEdge, depths: dict[LineageNode, int] | None = None) -> LineageGraph:
    nodes = {n for e in edges for n in (e.source, e.target)} | {VERSION}
    depths = depths or {}
    infos = tuple(LineageNodeInfo(n, str(n), depths.get(n, 0)) for n in sorted(nodes))
    return LineageGraph((VERSION,), LineageDirection.UPSTREAM, 5, infos, edges)


def test_nodes_print_and_parse_in_one_format() -> None:
    assert str(DATASET) == f"dataset:{'0' * 32}/train.v2@{'ab12' * 16}"
    assert str(VERSION) == f"model_version:{'2' * 32}/7"
    for node in (DATASET, RUN, VERSION, LineageNode.promotion("x" * 32)):
        assert LineageNode.parse(str(node)) == node
    assert DATASET.dataset_parts() == ("0" * 32, "train.v2", "ab12" * 16)
    assert VERSION.model_version_parts() == ("2" * 32, 7)


@pytest.mark.parametrize("text", ["run", "job:abc", ":abc", "run:", "run:a:b", ""])
def test_a_node_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(InvalidInputError, match=r"lineage node|without ':'"):
        LineageNode.parse(text)


def test_a_node_id_is_bounded() -> None:
    with pytest.raises(InvalidInputError, match="1-300 characters"):
        LineageNode.run("a" * 301)


def test_parts_are_only_for_their_kind() -> None:
    with pytest.raises(InvalidInputError, match="not a dataset node"):
        RUN.dataset_parts()
    with pytest.raises(InvalidInputError, match="not a model version node"):
        RUN.model_version_parts()


def test_only_the_allowed_edges_can_be_built() -> None:
    for (source_kind, target_kind), relations in ALLOWED_EDGES.items():
        for relation in relations:
            _edge(LineageNode(source_kind, "a"), LineageNode(target_kind, "b"), relation)
    with pytest.raises(InvalidInputError, match="a run cannot be 'input' of a dataset"):
        _edge(RUN, DATASET, LineageRelation.INPUT)
    with pytest.raises(InvalidInputError, match="cannot be 'evaluated'"):
        _edge(DATASET, RUN, LineageRelation.EVALUATED)


def test_activities_are_everything_but_datasets_and_versions() -> None:
    assert {k for k in NodeKind if not k.is_activity} == {
        NodeKind.DATASET,
        NodeKind.MODEL_VERSION,
    }


def test_lineage_is_complete_with_a_run_that_read_data() -> None:
    produced = _edge(RUN, VERSION, LineageRelation.PRODUCED)
    read = _edge(DATASET, RUN, LineageRelation.INPUT)
    assert lineage_gaps(_graph(produced, read), VERSION) == ()
    assert has_complete_lineage(_graph(produced, read), VERSION)


def test_lineage_without_a_run_or_without_data_is_incomplete() -> None:
    assert lineage_gaps(_graph(), VERSION) == ("no run produced the version",)
    produced = _edge(RUN, VERSION, LineageRelation.PRODUCED)
    assert lineage_gaps(_graph(produced), VERSION) == (
        "the run that produced the version recorded no dataset input",
    )
    assert not has_complete_lineage(_graph(produced), VERSION)


def test_a_merge_keeps_each_node_once_at_its_nearest_depth() -> None:
    first = _graph(_edge(RUN, VERSION, LineageRelation.PRODUCED, 2), depths={RUN: 3})
    second = _graph(
        _edge(RUN, VERSION, LineageRelation.PRODUCED, 2),
        _edge(DATASET, RUN, LineageRelation.INPUT, 1),
        depths={RUN: 1, DATASET: 2},
    )
    merged = first.merge(second)
    assert [(i.node, i.depth) for i in merged.nodes] == [(VERSION, 0), (RUN, 1), (DATASET, 2)]
    assert [e.relation for e in merged.edges] == [
        LineageRelation.INPUT,
        LineageRelation.PRODUCED,
    ]
    assert merged.edges_into(RUN) == (merged.edges[0],)
    assert merged.edges_out_of(RUN) == (merged.edges[1],)
    assert merged.info(LineageNode.run("9" * 32)) is None
