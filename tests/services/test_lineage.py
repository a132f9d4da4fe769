"""Lineage through the real services on both dialects: edges appear as a run reads data, a
version is registered from it, and the version is evaluated and compared; walks go upstream
and downstream within a depth; a refused change leaves no edge; the OpenLineage export is
valid against the spec; reading needs project.read."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

from lockgate.domain.access import Caller, PrincipalKind, Role
from lockgate.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from lockgate.domain.governance.lineage import (
    LineageGraph,
    LineageNode,
    LineageRelation,
    NodeKind,
    has_complete_lineage,
)
from lockgate.domain.identity import Actor
from lockgate.domain.tracking import DatasetInput, RunEnvironment
from lockgate.server.composition import Platform
from lockgate.services import ScoredVersion
from lockgate.services.lineage import version_lineage_gaps
from tests.support.evaluations import HOLDOUT, binary_config, binary_report, pair
from tests.support.openlineage import validate_events

ALICE = Caller.local(Actor("user:alice"))
ENGINE = "test-engine 1.0"
TRAIN = DatasetInput("train", "e" * 64, 5000, (("tenure_months", "int64"),), "s3://data/train")


@dataclass(frozen=True)
class World:
    project_id: str
    model_id: str
    run_id: str
    comparison_id: str
    evaluation_id: str

    def version(self, number: int) -> LineageNode:
        return LineageNode.model_version(self.model_id, number)

    @property
    def train(self) -> LineageNode:
        return LineageNode.dataset(self.project_id, TRAIN.name, TRAIN.fingerprint)

    @property
    def holdout(self) -> LineageNode:
        return LineageNode.dataset(self.project_id, HOLDOUT.name, HOLDOUT.fingerprint)


@pytest.fixture
def world(platform: Platform) -> World:
    """A run that read `train` and produced versions 1 and 2 of `clf`; version 1 evaluated on
    `holdout`, then version 2 compared with it (the champion) there."""
    project = platform.tracking.create_project(ALICE, "churn")
    model = platform.registry.create_model(ALICE, "churn", "clf", "growth", "churn model", {})
    run_id = platform.tracking.start_run(ALICE, "churn", "train", {}, RunEnvironment()).run.id
    platform.tracking.log_input(ALICE, run_id, TRAIN)
    platform.tracking.log_input(ALICE, run_id, TRAIN)  # again: still one edge
    platform.artifacts.upload(ALICE, run_id, "model/m.json", io.BytesIO(b"{}"))
    for _ in range(2):
        platform.registry.create_version(ALICE, "clf", run_id, "model", None, "", {})
    platform.registry.set_alias(ALICE, "clf", "champion", 1)
    digests = {n: platform.packages.manifest(ALICE, "clf", n)[0].digest for n in (1, 2)}
    evaluation = platform.evaluations.record_evaluation(
        ALICE, "clf", 1, HOLDOUT, binary_config(), binary_report(), digests[1], ENGINE
    )
    comparison = platform.evaluations.compare(
        ALICE,
        "clf",
        HOLDOUT,
        binary_config(),
        ScoredVersion(2, digests[2]),
        ScoredVersion(1, digests[1]),
        pair(binary_report(0.81), binary_report(0.8)),
        "champion",
        None,
        ENGINE,
    )
    return World(project.id, model.id, run_id, comparison.id, evaluation.id)


def _nodes(graph: LineageGraph, kind: NodeKind | None = None) -> set[LineageNode]:
    return {i.node for i in graph.nodes if kind is None or i.node.kind is kind}


def _edges(graph: LineageGraph) -> set[tuple[LineageNode, LineageNode, LineageRelation]]:
    return {(e.source, e.target, e.relation) for e in graph.edges}


def test_upstream_from_a_version_reaches_its_run_and_dataset(
    platform: Platform, world: World
) -> None:
    graph = platform.lineage.version_graph(ALICE, "clf", 2, "upstream", 10)
    run = LineageNode.run(world.run_id)
    assert _edges(graph) == {
        (world.train, run, LineageRelation.INPUT),
        (run, world.version(2), LineageRelation.PRODUCED),
    }
    labels = {i.node: i.label for i in graph.nodes}
    assert labels == {world.version(2): "clf/2", run: "train", world.train: f"train@{'e' * 12}"}
    assert has_complete_lineage(graph, world.version(2))


def test_downstream_from_a_version_reaches_its_evaluations_and_comparison(
    platform: Platform, world: World
) -> None:
    graph = platform.lineage.version_graph(ALICE, "clf", 1, "downstream", 10)
    evaluations = _nodes(graph, NodeKind.EVALUATION)
    assert LineageNode.evaluation(world.evaluation_id) in evaluations
    assert len(evaluations) == 2  # its own, and the comparison's baseline side
    comparison = LineageNode.comparison(world.comparison_id)
    assert _nodes(graph, NodeKind.COMPARISON) == {comparison}
    assert {e.relation for e in graph.edges if e.target == comparison} == {LineageRelation.BASELINE}
    info = graph.info(comparison)
    assert info is not None
    assert info.label == "clf/2 vs 1: pass"


def test_downstream_from_a_dataset_reaches_versions_then_evaluations(
    platform: Platform, world: World
) -> None:
    graph = platform.lineage.dataset_graph(ALICE, "churn", "train", None, "downstream", 10)
    assert {world.version(1), world.version(2)} <= _nodes(graph)
    assert len(_nodes(graph, NodeKind.EVALUATION)) == 3
    assert _nodes(graph, NodeKind.COMPARISON) == {LineageNode.comparison(world.comparison_id)}
    shallow = platform.lineage.dataset_graph(
        ALICE, "churn", "train", TRAIN.fingerprint, "downstream", 2
    )
    assert _nodes(shallow) == {
        world.train,
        LineageNode.run(world.run_id),
        world.version(1),
        world.version(2),
    }
    holdout = platform.lineage.dataset_graph(ALICE, "churn", "holdout", None, "downstream", 1)
    assert len(_nodes(holdout, NodeKind.EVALUATION)) == 3


def test_both_directions_and_the_depth_limit(platform: Platform, world: World) -> None:
    graph = platform.lineage.version_graph(ALICE, "clf", 2, "both", 1)
    assert _nodes(graph, NodeKind.RUN) == {LineageNode.run(world.run_id)}
    assert len(_nodes(graph, NodeKind.EVALUATION)) == 1  # the comparison's candidate side
    assert not _nodes(graph, NodeKind.DATASET)
    assert not _nodes(graph, NodeKind.COMPARISON)


def test_a_refused_comparison_records_no_edge(platform: Platform, world: World) -> None:
    platform.registry.set_alias(ALICE, "clf", "champion", 2)
    digests = {n: platform.packages.manifest(ALICE, "clf", n)[0].digest for n in (1, 2)}
    before = platform.lineage.dataset_graph(ALICE, "churn", "holdout", None, "downstream", 5)
    with pytest.raises(ConflictError, match="alias moved"):
        platform.evaluations.compare(
            ALICE,
            "clf",
            HOLDOUT,
            binary_config(),
            ScoredVersion(2, digests[2]),
            ScoredVersion(1, digests[1]),
            pair(binary_report(0.81), binary_report(0.8)),
            "champion",
            None,
            ENGINE,
        )
    after = platform.lineage.dataset_graph(ALICE, "churn", "holdout", None, "downstream", 5)
    assert after.edges == before.edges


def test_complete_lineage_needs_a_run_that_read_data(platform: Platform, world: World) -> None:
    bare = platform.tracking.start_run(ALICE, "churn", "bare", {}, RunEnvironment()).run.id
    platform.artifacts.upload(ALICE, bare, "model/m.json", io.BytesIO(b"{}"))
    platform.registry.create_version(ALICE, "clf", bare, "model", None, "", {})
    with platform.store.unit_of_work() as uow:
        project_id = uow.projects.get_by_name("churn").id
        model_id = uow.models.get_model("clf").id
        assert version_lineage_gaps(uow, model_id, project_id, 2) == ()
        assert version_lineage_gaps(uow, model_id, project_id, 3) == (
            "the run that produced the version recorded no dataset input",
        )
    assert world.project_id == project_id
    # Nothing downstream of the new version yet: no activity, no event.
    assert platform.lineage.version_openlineage(ALICE, "clf", 3, "downstream", 5) == []


def test_the_openlineage_export_is_valid_and_complete(platform: Platform, world: World) -> None:
    events = platform.lineage.version_openlineage(ALICE, "clf", 2, "both", 10)
    assert validate_events(events) == 3  # the run, version 2's evaluation, the comparison
    kinds = [e["run"]["facets"]["lockgate"]["kind"] for e in events]
    assert sorted(kinds) == ["comparison", "evaluation", "run"]
    comparison = next(e for e in events if e["job"]["name"] == "models/clf/compare")
    names = sorted(d["name"] for d in comparison["inputs"])
    # Both sides, although the walk from version 2 never reached version 1.
    assert names == ["datasets/holdout", "models/clf", "models/clf"]
    from_data = platform.lineage.dataset_openlineage(
        ALICE, "churn", "train", None, "downstream", 10
    )
    assert validate_events(from_data) == 5


def test_bad_arguments_are_refused(platform: Platform, world: World) -> None:
    with pytest.raises(InvalidInputError, match="upstream, downstream or both") as raised:
        platform.lineage.version_graph(ALICE, "clf", 2, "sideways", 3)
    assert raised.value.field == "direction"
    for depth in (0, 51):
        with pytest.raises(InvalidInputError, match="depth must be 1 to 50"):
            platform.lineage.version_graph(ALICE, "clf", 2, "upstream", depth)
    with pytest.raises(InvalidInputError, match="fingerprint"):
        platform.lineage.dataset_graph(ALICE, "churn", "train", "not/hex", "upstream", 3)
    with pytest.raises(NotFoundError, match="version 9"):
        platform.lineage.version_graph(ALICE, "clf", 9, "upstream", 3)
    with pytest.raises(NotFoundError, match="no dataset nothing"):
        platform.lineage.dataset_graph(ALICE, "churn", "nothing", None, "upstream", 3)
    with pytest.raises(NotFoundError, match="no dataset train version"):
        platform.lineage.dataset_graph(ALICE, "churn", "train", "0" * 64, "upstream", 3)


def test_reading_lineage_needs_project_read(platform: Platform, world: World) -> None:
    platform.principals.create(ALICE, PrincipalKind.USER, "vic")
    platform.principals.grant(ALICE, "churn", "user:vic", Role.VIEWER)
    viewer = platform.credentials.authenticate_token(
        platform.credentials.issue_token(ALICE, "user:vic", "t").secret
    )
    platform.principals.create(ALICE, PrincipalKind.USER, "eve")
    stranger = platform.credentials.authenticate_token(
        platform.credentials.issue_token(ALICE, "user:eve", "t").secret
    )
    assert platform.lineage.version_graph(viewer, "clf", 2, "upstream", 3).nodes
    assert platform.lineage.dataset_graph(viewer, "churn", "train", None, "downstream", 3)
    reads = (
        lambda: platform.lineage.version_graph(stranger, "clf", 2, "upstream", 3),
        lambda: platform.lineage.version_openlineage(stranger, "clf", 2, "upstream", 3),
        lambda: platform.lineage.dataset_graph(stranger, "churn", "train", None, "both", 3),
        lambda: platform.lineage.dataset_openlineage(stranger, "churn", "train", None, "both", 3),
    )
    for read in reads:
        with pytest.raises(PermissionDeniedError, match=r"project\.read"):
            read()


def test_a_promotion_joins_the_graph_with_its_label(platform: Platform, world: World) -> None:
    platform.environments.set_tier(ALICE, "clf", "low", None)
    detail = platform.promotions.request_promotion(ALICE, "clf", 2, "dev", "first try")
    graph = platform.lineage.version_graph(ALICE, "clf", 2, "downstream", 1)
    (promotion,) = [i for i in graph.nodes if i.node.kind is NodeKind.PROMOTION]
    assert promotion.node == LineageNode.promotion(detail.request.id)
    assert promotion.label == "clf/2 -> dev"
    assert promotion.attributes["request_status"] == "promoted"
    events = platform.lineage.version_openlineage(ALICE, "clf", 2, "downstream", 1)
    assert "models/clf/promote" in [e["job"]["name"] for e in events]
    assert validate_events(events) == 2  # the evaluation and the promotion
