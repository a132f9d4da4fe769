"""`client.lineage` against the real app on both dialects: a version's and a dataset's graph
both ways, the depth, OpenLineage events valid against the spec, and errors by class."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgate.domain.errors import InvalidInputError, NotFoundError
from lockgate.sdk import Client
from tests.support.lineage import TRAIN_FINGERPRINT, Seeded, seed_lineage
from tests.support.openlineage import validate_events


@pytest.fixture
def seeded(client: Client, project: str, tmp_path: Path) -> Seeded:
    return seed_lineage(client, project, tmp_path)


def test_a_version_upstream_reaches_the_data_its_run_read(client: Client, seeded: Seeded) -> None:
    graph = client.lineage.version("churn-clf", 2, direction="upstream")
    assert graph.direction == "upstream"
    assert [(n.kind, n.label, n.depth) for n in graph.nodes] == [
        ("model_version", "churn-clf/2", 0),
        ("run", "train", 1),
        ("dataset", f"train@{'e' * 12}", 2),
    ]
    dataset = graph.nodes[2]
    assert dataset.columns == {"tenure": "int64"}
    assert dataset.attributes["row_count"] == "50"
    assert [(e.source.split(":")[0], e.relation) for e in graph.edges] == [
        ("dataset", "input"),
        ("run", "produced"),
    ]
    assert graph.roots == [graph.nodes[0].node]


def test_a_dataset_downstream_reaches_versions_and_evaluations(
    client: Client, seeded: Seeded
) -> None:
    graph = client.lineage.dataset("churn", "train", direction="downstream", depth=3)
    kinds = sorted(n.kind.value for n in graph.nodes)
    assert kinds == [
        "dataset",
        "evaluation",
        "evaluation",
        "evaluation",
        "model_version",
        "model_version",
        "run",
    ]
    one = client.lineage.dataset(
        "churn", "train", fingerprint=TRAIN_FINGERPRINT, direction="downstream", depth=1
    )
    assert [n.kind.value for n in one.nodes] == ["dataset", "run"]


def test_openlineage_events_validate(client: Client, seeded: Seeded) -> None:
    events = client.lineage.version_openlineage("churn-clf", 1, direction="both")
    assert validate_events(events) == 4  # the run, two evaluations, the comparison
    run = next(e for e in events if e["job"]["name"] == "runs/train")
    assert run["inputs"][0]["name"] == "datasets/train"
    from_data = client.lineage.dataset_openlineage("churn", "holdout", direction="downstream")
    assert validate_events(from_data) == 4  # three evaluations and the comparison


def test_errors_come_back_as_lockgate_errors(client: Client, seeded: Seeded) -> None:
    with pytest.raises(InvalidInputError):
        client.lineage.version("churn-clf", 1, direction="sideways")
    with pytest.raises(InvalidInputError):
        client.lineage.version("churn-clf", 1, depth=51)
    with pytest.raises(NotFoundError, match="version 7"):
        client.lineage.version("churn-clf", 7)
    with pytest.raises(NotFoundError, match="no dataset nothing"):
        client.lineage.dataset("churn", "nothing")
