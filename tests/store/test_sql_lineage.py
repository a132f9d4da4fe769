"""Contract of SqlLineageRepository on every dialect: edges are recorded once, walks follow them
upstream and downstream within one project and a depth, stop at a node budget, and label every
node from the tables of the objects it stands for."""

from __future__ import annotations

import pytest

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.governance.lineage import (
    LineageDirection,
    LineageEdge,
    LineageGraph,
    LineageNode,
    LineageRelation,
)
from lockgate.domain.registry import RegisteredModel
from lockgate.domain.tracking import DatasetInput, Project, Run
from tests.store.sql_builders import (
    UowFactory,
    add_project,
    at,
    make_model,
    make_run,
    make_version,
)

TRAIN = DatasetInput("train", "a" * 64, 1000, (("age", "int64"), ("churned", "bool")), "s3://b/t")
UP = LineageDirection.UPSTREAM
DOWN = LineageDirection.DOWNSTREAM


class Chain:
    """A dataset version read by a run that produced version 1 of a model (real rows)."""

    def __init__(self, uow_factory: UowFactory, project: Project) -> None:
        self.project = project
        self.run: Run = make_run(project, "train-run")
        self.model: RegisteredModel = make_model(project)
        self.dataset = LineageNode.dataset(project.id, TRAIN.name, TRAIN.fingerprint)
        self.version = LineageNode.model_version(self.model.id, 1)
        with uow_factory() as uow:
            uow.runs.add(self.run, {})
            uow.runs.add_input(self.run, TRAIN)
            uow.models.add_model(self.model)
            uow.models.add_version(
                make_version(self.model, uow.models.allocate_version(self.model.id), self.run)
            )
            uow.lineage.add_edge(self.edge(self.dataset, self.run_node, LineageRelation.INPUT))
            uow.lineage.add_edge(
                self.edge(self.run_node, self.version, LineageRelation.PRODUCED, 2)
            )
            uow.commit()

    @property
    def run_node(self) -> LineageNode:
        return LineageNode.run(self.run.id)

    def edge(
        self,
        source: LineageNode,
        target: LineageNode,
        relation: LineageRelation,
        seconds: float = 1,
    ) -> LineageEdge:
        return LineageEdge(source, target, relation, at(seconds), self.project.id)


@pytest.fixture
def chain(uow_factory: UowFactory) -> Chain:
    return Chain(uow_factory, add_project(uow_factory))


def _walk(
    uow_factory: UowFactory,
    chain: Chain,
    starts: list[LineageNode],
    direction: LineageDirection,
    depth: int = 10,
    **options: int,
) -> LineageGraph:
    with uow_factory() as uow:
        return uow.lineage.walk(
            starts, direction, project_id=chain.project.id, max_depth=depth, **options
        )


def _nodes(graph: LineageGraph) -> set[LineageNode]:
    return {info.node for info in graph.nodes}


def test_an_edge_is_recorded_once(uow_factory: UowFactory, chain: Chain) -> None:
    with uow_factory() as uow:
        again = chain.edge(chain.dataset, chain.run_node, LineageRelation.INPUT, 99)
        assert uow.lineage.add_edge(again) is False
        uow.commit()
    graph = _walk(uow_factory, chain, [chain.run_node], UP)
    assert [(e.source, e.relation, e.created_at) for e in graph.edges] == [
        (chain.dataset, LineageRelation.INPUT, at(1))
    ]


def test_an_edge_not_committed_is_not_kept(uow_factory: UowFactory, chain: Chain) -> None:
    promotion = LineageNode.promotion("f" * 32)
    with uow_factory() as uow:
        assert uow.lineage.add_edge(chain.edge(chain.version, promotion, LineageRelation.PROMOTED))
    assert _nodes(_walk(uow_factory, chain, [chain.version], DOWN)) == {chain.version}


def test_upstream_reaches_the_dataset_with_labels_and_schema(
    uow_factory: UowFactory, chain: Chain
) -> None:
    graph = _walk(uow_factory, chain, [chain.version], UP)
    assert graph.roots == (chain.version,)
    assert [(i.node, i.depth) for i in graph.nodes] == [
        (chain.version, 0),
        (chain.run_node, 1),
        (chain.dataset, 2),
    ]
    version, run, dataset = graph.nodes
    assert version.label == f"{chain.model.name}/1"
    assert version.attributes == {"model": chain.model.name, "version": "1"}
    assert version.created_at == at(1)
    assert run.label == "train-run"
    assert run.attributes == {"name": "train-run", "status": "running"}
    assert run.created_at == chain.run.started_at
    assert run.ended_at is None
    assert dataset.label == f"train@{'a' * 12}"
    assert dataset.attributes == {
        "name": "train",
        "fingerprint": "a" * 64,
        "row_count": "1000",
        "source": "s3://b/t",
    }
    assert dataset.columns == TRAIN.schema
    assert [e.relation for e in graph.edges] == [
        LineageRelation.INPUT,
        LineageRelation.PRODUCED,
    ]


def test_downstream_from_the_dataset_reaches_the_version(
    uow_factory: UowFactory, chain: Chain
) -> None:
    graph = _walk(uow_factory, chain, [chain.dataset], DOWN)
    assert _nodes(graph) == {chain.dataset, chain.run_node, chain.version}
    assert _nodes(_walk(uow_factory, chain, [chain.dataset], UP)) == {chain.dataset}


def test_the_depth_bounds_the_walk(uow_factory: UowFactory, chain: Chain) -> None:
    graph = _walk(uow_factory, chain, [chain.version], UP, depth=1)
    assert _nodes(graph) == {chain.version, chain.run_node}
    assert [e.source for e in graph.edges] == [chain.run_node]
    assert not graph.truncated


def test_both_directions_meet_at_the_start(uow_factory: UowFactory, chain: Chain) -> None:
    graph = _walk(uow_factory, chain, [chain.run_node], LineageDirection.BOTH, depth=1)
    assert {(i.node, i.depth) for i in graph.nodes} == {
        (chain.run_node, 0),
        (chain.dataset, 1),
        (chain.version, 1),
    }
    assert len(graph.edges) == 2


def test_a_node_without_a_known_object_is_labelled_by_its_id(
    uow_factory: UowFactory, chain: Chain
) -> None:
    deployment = LineageNode.deployment("d" * 32)
    with uow_factory() as uow:
        uow.lineage.add_edge(chain.edge(chain.version, deployment, LineageRelation.DEPLOYED, 5))
        uow.commit()
    graph = _walk(uow_factory, chain, [chain.version], DOWN)
    info = graph.info(deployment)
    assert info is not None
    assert info.label == f"deployment {'d' * 32}"
    assert info.created_at is None


def test_walks_stay_in_their_project(uow_factory: UowFactory, chain: Chain) -> None:
    other = add_project(uow_factory, "other")
    stranger = LineageNode.run(make_run(other).id)
    with uow_factory() as uow:
        edge = LineageEdge(stranger, chain.version, LineageRelation.PRODUCED, at(3), other.id)
        uow.lineage.add_edge(edge)
        uow.commit()
    assert stranger not in _nodes(_walk(uow_factory, chain, [chain.version], UP))


def test_a_walk_stops_at_its_node_budget(uow_factory: UowFactory, chain: Chain) -> None:
    graph = _walk(uow_factory, chain, [chain.version], UP, max_nodes=2)
    assert graph.truncated
    assert _nodes(graph) == {chain.version, chain.run_node}
    assert all(e.source in _nodes(graph) and e.target in _nodes(graph) for e in graph.edges)


def test_the_versions_of_a_dataset_are_found_by_name(uow_factory: UowFactory, chain: Chain) -> None:
    project = chain.project
    run = chain.run_node
    names = {"train": "b" * 64, "train2": "c" * 64, "tr_in": "d" * 64}
    with uow_factory() as uow:
        for name, fingerprint in names.items():
            node = LineageNode.dataset(project.id, name, fingerprint)
            uow.lineage.add_edge(chain.edge(node, run, LineageRelation.INPUT))
        uow.commit()
    with uow_factory() as uow:
        found = uow.lineage.dataset_versions(project.id, "train")
        assert found == [
            chain.dataset,
            LineageNode.dataset(project.id, "train", "b" * 64),
        ]
        assert uow.lineage.dataset_versions(project.id, "tr_in") == [
            LineageNode.dataset(project.id, "tr_in", "d" * 64)
        ]
        assert uow.lineage.dataset_versions(project.id, "tr") == []
    # Known to lineage only (no datasets row, no evaluation): labelled from the node itself.
    graph = _walk(uow_factory, chain, [run], UP)
    info = graph.info(LineageNode.dataset(project.id, "train2", "c" * 64))
    assert info is not None
    assert (info.label, info.attributes, info.columns) == (f"train2@{'c' * 12}", {}, ())


def test_an_edge_the_graph_does_not_allow_cannot_be_built(chain: Chain) -> None:
    with pytest.raises(InvalidInputError, match="cannot be 'produced' of a dataset"):
        chain.edge(chain.run_node, chain.dataset, LineageRelation.PRODUCED)
