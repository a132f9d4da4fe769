"""`client.model_cards` and `lockgate card` against the real app: reading the card, editing a
section with row_version concurrency, and exporting Markdown, JSON and CycloneDX."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from lockgate.api.model_cards import ModelCardOut
from lockgate.domain.errors import ConflictError, InvalidInputError, NotFoundError
from lockgate.sdk import Client
from tests.clients.conftest import CliInvoke
from tests.support.evaluations import HOLDOUT, binary_config, binary_report


@pytest.fixture
def model(client: Client, project: str, tmp_path: Path) -> str:
    """`churn-clf` version 1 from a run with a param, a metric and a training dataset,
    evaluated once with fairness results; `champion` points to it."""
    (tmp_path / "model.json").write_text("{}")
    train = tmp_path / "train.csv"
    train.write_text("tenure_months,churned\n3,true\n40,false\n")
    with client.start_run(project, "train", capture_environment=False) as run:
        run.log_param("max_depth", 6)
        run.log_metric("val_auc", 0.84)
        run.log_input_file("customers-train", train)
        run.log_artifact(tmp_path / "model.json", "model")
    client.models.create("churn-clf", project=project, owner="ml", description="churn")
    client.models.create_version("churn-clf", run_id=run.id, artifact_path="model")
    client.models.set_alias("churn-clf", "champion", 1)
    client.evaluations.record(
        "churn-clf",
        1,
        dataset=HOLDOUT,
        config=binary_config(),
        report=binary_report(0.81),
        package_digest=client.models.manifest("churn-clf", 1).manifest_sha256,
        engine="test 1.0",
    )
    return "churn-clf"


def test_the_sdk_reads_edits_and_exports_a_card(client: Client, model: str) -> None:
    card = client.model_cards.get(model, 1)
    assert isinstance(card, ModelCardOut)
    assert card.completeness.score == 0.5
    assert [d.name for d in card.training_data] == ["customers-train"]
    edited = client.model_cards.set_section(
        model, 1, "limitations", "Weak on new customers.", row_version=0
    )
    assert edited.row_version == 1
    with pytest.raises(ConflictError, match="reload the card") as stale:
        client.model_cards.set_section(model, 1, "limitations", "Stale.", row_version=0)
    assert stale.value.field == "row_version"
    with pytest.raises(InvalidInputError) as bad:
        client.model_cards.set_section(model, 1, "evaluation", "x", row_version=0)
    assert bad.value.field == "section"
    assert client.model_cards.get(model, 1).completeness.score == 0.6
    markdown = client.model_cards.export(model, 1)
    assert "Weak on new customers." in markdown
    document = json.loads(client.model_cards.export(model, 1, "json"))
    assert ModelCardOut.model_validate(document).sections["limitations"].row_version == 1
    bom = client.model_cards.export(model, 1, "cyclonedx")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(bom) is None
    with pytest.raises(InvalidInputError, match="not a card format") as unknown:
        client.model_cards.export(model, 1, "pdf")
    assert unknown.value.field == "format"
    with pytest.raises(NotFoundError):
        client.model_cards.get(model, 5)


def test_card_show_renders_the_card_and_its_json(invoke: CliInvoke, model: str) -> None:
    shown = invoke("card", "show", f"{model}@champion")
    assert shown.exit_code == 0, shown.output
    assert "Model card: churn-clf version 1" in shown.output
    assert "Completeness: 50%" in shown.output
    as_json = invoke("card", "show", f"{model}/1", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["completeness"]["score"] == 0.5


def test_card_edit_writes_a_section_from_text_or_a_file(
    invoke: CliInvoke, client: Client, model: str, tmp_path: Path
) -> None:
    edited = invoke("card", "edit", f"{model}/1", "intended_use", "--text", "Retention outreach.")
    assert edited.exit_code == 0, edited.output
    assert "intended_use of churn-clf/1 is at revision 1; completeness 0.7" in edited.output
    draft = tmp_path / "limits.md"
    draft.write_text("Weak on customers younger than 3 months.\n", encoding="utf-8")
    from_file = invoke("card", "edit", f"{model}/1", "limitations", "--file", str(draft))
    assert from_file.exit_code == 0, from_file.output
    card = client.model_cards.get(model, 1)
    assert card.sections["limitations"].text == "Weak on customers younger than 3 months.\n"
    stale = invoke(
        "card", "edit", f"{model}/1", "intended_use", "--text", "x", "--row-version", "0"
    )
    assert stale.exit_code == 1
    assert "edited meanwhile" in stale.output
    assert client.model_cards.get(model, 1).sections["intended_use"].row_version == 1
    neither = invoke("card", "edit", f"{model}/1", "caveats")
    assert neither.exit_code == 2
    assert "--text or --file" in neither.output
    unknown = invoke("card", "edit", f"{model}/1", "summary", "--text", "x")
    assert unknown.exit_code == 2


def test_card_export_writes_each_format(invoke: CliInvoke, model: str, tmp_path: Path) -> None:
    target = tmp_path / "card.md"
    written = invoke("card", "export", f"{model}/1", "-o", str(target))
    assert written.exit_code == 0, written.output
    assert target.read_text(encoding="utf-8").startswith("# Model card: churn-clf version 1\n")
    bom = tmp_path / "card.cdx.json"
    result = invoke("card", "export", f"{model}/1", "--format", "cyclonedx", "-o", str(bom))
    assert result.exit_code == 0, result.output
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(bom.read_text()) is None
    printed = invoke("card", "export", f"{model}/1", "--format", "json")
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output)["format"] == "lockgate.model_card/1"
