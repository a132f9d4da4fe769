"""The SDK's registry calls against the real app: models, versions, refs and alias history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lockgate.domain.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from lockgate.sdk import Client, ColumnSpecIO, SignatureIO

SIGNATURE = SignatureIO(
    inputs=[
        ColumnSpecIO(name="tenure", type="int64"),
        ColumnSpecIO(name="charges", type="float64"),
    ],
    outputs=[ColumnSpecIO(name="churn_probability", type="float64")],
)


@pytest.fixture
def model(client: Client, project: str, tmp_path: Path) -> str:
    """A model with three versions, each from its own run."""
    client.models.create(
        "churn-clf",
        project=project,
        owner="team-retention",
        description="churn",
        metadata={"task": "binary"},
    )
    (tmp_path / "model.json").write_text("{}")
    for index in range(3):
        with client.start_run(project, f"r{index}", capture_environment=False) as run:
            run.log_artifact(tmp_path / "model.json", "model")
            run.register_model("churn-clf", "model", SIGNATURE, description=f"v{index + 1}")
    return "churn-clf"


def test_versions_are_numbered_listed_newest_first_and_keep_their_signature(
    client: Client, model: str
) -> None:
    versions = list(client.models.list_versions(model, page_size=2))
    assert [v.version for v in versions] == [3, 2, 1]
    first = client.models.get_version(model, 1)
    assert first.signature == SIGNATURE
    assert first.description == "v1"
    assert client.models.get(model).metadata == {"task": "binary"}


def test_resolve_takes_a_number_an_alias_or_nothing(client: Client, model: str) -> None:
    client.models.set_alias(model, "champion", 2)
    assert client.models.resolve(f"{model}/1").version == 1
    assert client.models.resolve(f"{model}@champion").version == 2
    assert client.models.resolve(model).version == 3
    assert client.models.resolve(f"{model}@champion").aliases == ["champion"]
    with pytest.raises(InvalidInputError) as bad:
        client.models.resolve("churn clf@@x")
    assert bad.value.field == "ref"
    with pytest.raises(NotFoundError):
        client.models.resolve(f"{model}@nobody")
    with pytest.raises(NotFoundError):
        client.models.resolve(f"{model}/9")


def test_alias_moves_are_kept_and_queryable_in_time(client: Client, model: str) -> None:
    first = client.models.set_alias(model, "champion", 1)
    second = client.models.set_alias(model, "champion", 2)
    client.models.set_alias(model, "challenger", 3)
    assert (second.previous_version, second.version) == (1, 2)
    assert client.models.alias_at(model, "champion", first.moved_at).version == 1
    assert client.models.alias_at(model, "champion", second.moved_at).version == 2
    with pytest.raises(NotFoundError):
        client.models.alias_at(model, "champion", first.moved_at - timedelta(days=1))
    removed = client.models.delete_alias(model, "champion")
    assert (removed.previous_version, removed.version) == (2, None)
    champion = client.models.alias_history(model, "champion")
    assert [(m.previous_version, m.version) for m in champion] == [(None, 1), (1, 2), (2, None)]
    assert len(client.models.alias_history(model)) == 4
    with pytest.raises(InvalidInputError) as naive:
        client.models.alias_at(model, "champion", datetime(2026, 1, 1))  # noqa: DTZ001
    assert naive.value.field == "at"
    later = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(NotFoundError):
        client.models.alias_at(model, "champion", later)


def test_model_rules_come_back_with_the_field(client: Client, project: str) -> None:
    with pytest.raises(InvalidInputError) as no_owner:
        client.models.create("m1", project=project, owner=" ", description="d")
    assert no_owner.value.field == "owner"
    client.models.create("m1", project=project, owner="o", description="d")
    with pytest.raises(AlreadyExistsError):
        client.models.create("m1", project=project, owner="o", description="d")
    with pytest.raises(NotFoundError):
        client.models.create("m2", project="nope", owner="o", description="d")


def test_models_list_filters_by_project_and_pages(client: Client, project: str) -> None:
    client.projects.create("other")
    for name in ("a1", "a2", "a3"):
        client.models.create(name, project=project, owner="o", description="d")
    client.models.create("b1", project="other", owner="o", description="d")
    assert [m.name for m in client.models.list(page_size=2)] == ["a1", "a2", "a3", "b1"]
    assert [m.name for m in client.models.list(project="other")] == ["b1"]
