"""`lockgate lineage` against the real app: a tree upstream and downstream of a version or a
dataset, the graph as JSON, and OpenLineage events valid against the spec."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lockgate.api.lineage import LineageEdgeOut, LineageGraphOut
from lockgate.cli.lineage import print_graph
from lockgate.domain.governance.lineage import LineageDirection, LineageRelation
from lockgate.sdk import Client
from tests.clients.conftest import CliInvoke
from tests.support.lineage import TRAIN_FINGERPRINT, Seeded, seed_lineage
from tests.support.openlineage import validate_events


@pytest.fixture
def seeded(client: Client, project: str, tmp_path: Path) -> Seeded:
    return seed_lineage(client, project, tmp_path)


def test_upstream_prints_a_tree_down_to_the_dataset(invoke: CliInvoke, seeded: Seeded) -> None:
    result = invoke("lineage", "churn-clf/2", "--upstream")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "model_version churn-clf/2" in lines[0]
    assert "upstream" in lines[0]
    assert "run train" in lines[1]
    assert "produced" in lines[1]
    assert f"dataset train@{'e' * 12}" in lines[2]
    assert "input" in lines[2]
    assert "downstream" not in result.output


def test_an_alias_and_downstream_show_evaluations_and_the_comparison(
    invoke: CliInvoke, seeded: Seeded
) -> None:
    result = invoke("lineage", "churn-clf@champion", "--downstream", "--depth", "2")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "model_version churn-clf/1" in out
    assert out.count("evaluation churn-clf/1 on holdout@") == 2
    assert "comparison churn-clf/2 vs 1: pass" in out
    assert "baseline" in out
    assert "run train" not in out


def test_both_ways_by_default(invoke: CliInvoke, seeded: Seeded) -> None:
    result = invoke("lineage", "churn-clf/1")
    assert result.exit_code == 0, result.output
    assert "upstream" in result.output
    assert "downstream" in result.output


def test_a_dataset_downstream_as_json(invoke: CliInvoke, seeded: Seeded) -> None:
    result = invoke(
        "lineage",
        f"dataset:train@{TRAIN_FINGERPRINT}",
        "--project",
        "churn",
        "--downstream",
        "--depth",
        "2",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    graph = json.loads(result.output)
    assert graph["direction"] == "downstream"
    assert sorted(n["kind"] for n in graph["nodes"]) == [
        "dataset",
        "model_version",
        "model_version",
        "run",
    ]


def test_openlineage_events_on_stdout(invoke: CliInvoke, seeded: Seeded) -> None:
    result = invoke("lineage", "churn-clf/2", "--format", "openlineage")
    assert result.exit_code == 0, result.output
    assert validate_events(json.loads(result.output)) == 3
    from_data = invoke(
        "lineage", "dataset:holdout", "--project", "churn", "--format", "openlineage"
    )
    assert from_data.exit_code == 0, from_data.output
    assert validate_events(json.loads(from_data.output)) == 4


def test_a_dataset_needs_its_project(invoke: CliInvoke, seeded: Seeded) -> None:
    result = invoke("lineage", "dataset:train")
    assert result.exit_code == 1
    assert "needs --project" in result.output


def test_a_missing_version_is_one_red_line(invoke: CliInvoke, seeded: Seeded) -> None:
    result = invoke("lineage", "churn-clf/9")
    assert result.exit_code == 1
    assert "version 9" in result.output


def test_a_node_met_twice_is_shown_but_not_expanded_again(
    invoke: CliInvoke, seeded: Seeded
) -> None:
    result = invoke("lineage", "dataset:train", "--project", "churn", "--downstream")
    assert result.exit_code == 0, result.output
    assert result.output.count("comparison churn-clf/2 vs 1: pass") == 2
    assert result.output.count("(shown above)") == 1


def test_a_truncated_graph_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    graph = LineageGraphOut(
        roots=["run:r"],
        direction=LineageDirection.DOWNSTREAM,
        depth=1,
        nodes=[],
        edges=[
            LineageEdgeOut(
                source="run:r",
                target="model_version:m/1",
                relation=LineageRelation.PRODUCED,
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        ],
        truncated=True,
    )
    print_graph(graph)
    out = capsys.readouterr().out
    assert "run:r downstream" in out  # a node the graph does not describe: its id
    assert "produced model_version:m/1" in out
    assert "truncated" in out
