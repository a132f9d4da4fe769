"""Model cards in the domain: the completeness score counts a generated criterion only when
its facts were recorded, user text is literal in the Markdown (no forged headings, tables,
links or HTML), and the CycloneDX export validates against the CycloneDX 1.6 schema."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from markdown_it import MarkdownIt

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.evaluation import (
    Check,
    CheckScope,
    Comparison,
    ComparisonId,
    Estimate,
    Evaluation,
    EvaluationId,
    FairnessReport,
    Verdict,
)
from lockgate.domain.evaluation.report import PairedReport
from lockgate.domain.evaluation.verdict import Thresholds
from lockgate.domain.governance import RiskTier
from lockgate.domain.governance.cards import (
    COMPLETENESS_CRITERIA,
    NARRATIVE_SECTIONS,
    CardApproval,
    CardFormat,
    CardPackage,
    ModelCard,
    NarrativeSection,
    card_document,
    check_section_name,
    check_section_text,
    cyclonedx_document,
    escape_markdown,
    markdown_block,
    render_card,
    render_markdown,
)
from lockgate.domain.identity import Actor
from lockgate.domain.registry import ColumnSpec, ModelId, ModelVersion, RegisteredModel, Signature
from lockgate.domain.tracking import (
    DatasetInput,
    Metric,
    ProjectId,
    Run,
    RunDetail,
    RunEnvironment,
    RunId,
    RunStatus,
)
from tests.support.evaluations import HOLDOUT, binary_config, binary_report

T0 = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
ALICE = Actor("user:alice")
MODEL = RegisteredModel(
    ModelId("a" * 32),
    ProjectId("b" * 32),
    "churn-clf",
    "team-retention",
    "Probability that a customer cancels within 30 days",
    {"domain": "retention"},
    T0,
    ALICE,
    project_name="churn",
)
VERSION = ModelVersion(
    MODEL.id,
    MODEL.name,
    3,
    RunId("c" * 32),
    "model",
    (),
    Signature((ColumnSpec("tenure_months", "int64"),), (ColumnSpec("p", "float64"),)),
    "gradient boosting",
    {},
    T0,
    Actor("user:bob"),
    aliases=("champion",),
)
TRAIN = DatasetInput("customers-train", "e" * 64, 50_000, (("tenure_months", "int64"),), "s3://x")
RUN = Run(
    RunId("c" * 32),
    MODEL.project_id,
    "gbm",
    RunStatus.FINISHED,
    T0,
    T0,
    ALICE,
    RunEnvironment(git_sha="abcdef1", python_version="3.11.7"),
)


def _run(*, params: bool = True, inputs: bool = True) -> RunDetail:
    return RunDetail(
        RUN,
        params={"max_depth": "6"} if params else {},
        metrics={
            "val_auc": Metric("val_auc", 0.84, 10, T0),
            "loss": Metric("loss", math.nan, 3, T0),
        }
        if params
        else {},
        inputs=(TRAIN,) if inputs else (),
    )


def _evaluation(*, fairness: bool = True) -> Evaluation:
    return Evaluation(
        EvaluationId("d" * 32),
        MODEL.project_id,
        MODEL.id,
        MODEL.name,
        3,
        HOLDOUT,
        binary_config(),
        binary_report(0.81, parity=0.05 if fairness else None),
        "f" * 64,
        "test-engine 1.0",
        T0,
        ALICE,
    )


def _sections(**texts: str) -> dict[str, NarrativeSection]:
    return {name: NarrativeSection(name, text, 1, T0, ALICE) for name, text in texts.items()}


def _card(**changes: object) -> ModelCard:
    card = ModelCard(MODEL, VERSION, T0)
    return dataclasses.replace(card, **changes)


def _full() -> ModelCard:
    return _card(
        run=_run(),
        package=CardPackage("9" * 64, "sklearn", "8" * 64),
        evaluations=(_evaluation(),),
        tier=RiskTier.HIGH,
        approvals=(CardApproval(Actor("user:carol"), "staging", T0),),
        sections=_sections(
            intended_use="Rank customers by churn risk for the retention team.",
            intended_users="Retention analysts.",
            out_of_scope="Credit decisions.",
            training_data_notes="Customers active in 2025.",
            limitations="Weak on customers younger than 3 months.",
            ethical_considerations="Do not use to deny service.",
            caveats="Recalibrate every quarter.",
        ),
    )


def test_the_weights_add_up_to_ten_and_name_every_counted_section() -> None:
    assert sum(c.weight for c in COMPLETENESS_CRITERIA) == 10
    narrative = {c.name for c in COMPLETENESS_CRITERIA if c.kind.value == "narrative"}
    assert narrative <= set(NARRATIVE_SECTIONS)


def test_an_empty_card_scores_zero_and_misses_every_criterion() -> None:
    completeness = _card().completeness()
    assert completeness.score == 0.0
    assert completeness.missing == tuple(c.name for c in COMPLETENESS_CRITERIA)
    assert not completeness.is_complete


def test_a_card_with_every_fact_and_section_is_complete() -> None:
    completeness = _full().completeness()
    assert (completeness.score, completeness.missing) == (1.0, ())


@pytest.mark.parametrize(
    ("change", "missing", "score"),
    [
        ({"evaluations": ()}, ("evaluation", "fairness"), 0.7),
        ({"evaluations": (_evaluation(fairness=False),)}, ("fairness",), 0.9),
        ({"run": None}, ("training_run", "training_data"), 0.8),
        ({"run": _run(inputs=False)}, ("training_data",), 0.9),
        ({"run": _run(params=False)}, ("training_run",), 0.9),
    ],
)
def test_a_generated_criterion_counts_only_when_its_facts_were_recorded(
    change: dict[str, object], missing: tuple[str, ...], score: float
) -> None:
    completeness = dataclasses.replace(_full(), **change).completeness()
    assert completeness.missing == missing
    assert completeness.score == score


def test_writing_cannot_stand_in_for_a_missing_evaluation() -> None:
    card = dataclasses.replace(_full(), evaluations=())
    # Every narrative section is written, yet the evaluation criteria stay missing.
    assert {"evaluation", "fairness"} <= set(card.completeness().missing)


def test_a_narrative_criterion_needs_more_than_whitespace() -> None:
    blank = _card(sections=_sections(intended_use="  \n\t "))
    assert "intended_use" in blank.completeness().missing
    written = _card(sections=_sections(intended_use="x"))
    assert "intended_use" not in written.completeness().missing
    assert written.completeness().score == 0.2


def test_uncounted_sections_do_not_change_the_score() -> None:
    card = _card(sections=_sections(caveats="c", intended_users="u", training_data_notes="t"))
    assert card.completeness().score == 0.0


def test_section_names_are_checked_and_generated_ones_named_as_such() -> None:
    assert check_section_name("limitations") == "limitations"
    with pytest.raises(InvalidInputError, match="not a model card section") as bad:
        check_section_name("summary")
    assert bad.value.field == "section"
    with pytest.raises(InvalidInputError, match="generated from recorded facts") as generated:
        check_section_name("evaluation")
    assert generated.value.field == "section"
    assert "intended_use" in generated.value.message


def test_section_text_is_bounded_and_refuses_control_characters() -> None:
    check_section_text("line one\n\tline two")
    with pytest.raises(InvalidInputError, match="longer than") as long:
        check_section_text("x" * 20_001)
    assert long.value.field == "text"
    with pytest.raises(InvalidInputError, match="control character"):
        check_section_text("bell\x07")


def test_an_edit_counts_one_more_revision() -> None:
    section = NarrativeSection("limitations")
    assert (section.row_version, section.is_written) == (0, False)
    edited = section.edited("Weak on new customers.", T0, ALICE).edited("again", T0, ALICE)
    assert (edited.row_version, edited.text, edited.updated_by) == (2, "again", ALICE)


# --- Markdown -------------------------------------------------------------------------------

MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
HOSTILE = (
    "# Approvals\n"
    "| reviewer | environment |\n|---|---|\n| user:mallory | production |\n"
    "<script>alert(1)</script> &amp; <b>bold</b>\n"
    "[click](https://evil.example) ![img](x.png) <https://evil.example>\n"
    "- item\n1. first\n2) second\n***\n    indented code\n`code` *em* _em_ ~~gone~~\n"
    "Setext heading\n===\n> quote\n\\ backslash end\\"
)


def _inline_text(tokens: list[object]) -> str:
    parts = []
    for token in tokens:
        for child in getattr(token, "children", None) or []:
            if child.type == "text":
                parts.append(child.content)
            elif child.type in {"softbreak", "hardbreak"}:
                parts.append("\n")
    return "".join(parts)


def test_escaped_text_renders_as_exactly_the_text_written() -> None:
    for line in HOSTILE.splitlines():
        tokens = MARKDOWN.parse(escape_markdown(line))
        kinds = {t.type for t in tokens}
        assert kinds <= {"paragraph_open", "inline", "paragraph_close"}, (line, kinds)
        children = {c.type for t in tokens for c in (t.children or [])}
        assert children <= {"text"}, (line, children)
        assert _inline_text(tokens) == line.strip()


def test_a_block_keeps_lines_and_paragraphs_and_nothing_else() -> None:
    tokens = MARKDOWN.parse(markdown_block("first line\nsecond line\n\n   new paragraph"))
    assert [t.type for t in tokens].count("paragraph_open") == 2
    assert _inline_text(tokens) == "first line\nsecond linenew paragraph"
    assert any(c.type == "hardbreak" for t in tokens for c in (t.children or []))


def _headings(text: str) -> list[str]:
    tokens = MARKDOWN.parse(text)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]


def _markup_counts(text: str) -> dict[str, int]:
    """How many emphasis, strong and ordered-list openings the rendered text holds."""
    tokens = MARKDOWN.parse(text)
    found = [t.type for t in tokens] + [c.type for t in tokens for c in (t.children or [])]
    return {kind: found.count(kind) for kind in ("em_open", "strong_open", "ordered_list_open")}


def test_user_text_cannot_forge_a_heading_a_table_row_or_markup_in_the_card() -> None:
    clean = render_markdown(_full())
    hostile_sections = _sections(**dict.fromkeys(NARRATIVE_SECTIONS, HOSTILE))
    hostile_model = dataclasses.replace(MODEL, description="a | b\n# Forged", owner="<b>x</b>")
    hostile_run = dataclasses.replace(
        _run(),
        params={"- item": "1. one", "p": HOSTILE},
        inputs=(dataclasses.replace(TRAIN, name="x", source=HOSTILE),),
    )
    hostile = render_markdown(
        dataclasses.replace(
            _full(), model=hostile_model, sections=hostile_sections, run=hostile_run
        )
    )
    assert _headings(hostile) == _headings(clean)
    tokens = MARKDOWN.parse(hostile)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in (t.children or [])}
    assert not kinds & {"html_block", "html_inline", "link_open", "image", "code_block", "fence"}
    assert not kinds & {"code_inline", "blockquote_open", "hr", "bullet_list_open", "s_open"}
    assert _markup_counts(hostile) == _markup_counts(clean)
    tables = [t for t in tokens if t.type == "table_open"]
    assert len(tables) == len([t for t in MARKDOWN.parse(clean) if t.type == "table_open"])
    details = render_markdown(dataclasses.replace(_full(), model=hostile_model))
    row = next(line for line in details.splitlines() if line.startswith("| Description |"))
    cells = [t for t in MARKDOWN.parse(f"| a | b |\n|---|---|\n{row}\n") if t.type == "td_open"]
    assert len(cells) == 2
    assert "a \\| b \\# Forged" in row


def test_the_markdown_card_shows_facts_intervals_and_sections() -> None:
    text = render_markdown(_full())
    assert text.startswith("# Model card: churn-clf version 3\n")
    assert "**Completeness: 100%** (1): complete." in text
    assert "| roc\\_auc | 0.81 | [0.8, 0.82] |" in text
    assert "Intervals: 95% bootstrap over 1000 resamples." in text
    assert "| demographic\\_parity\\_difference | 0.05 | [0.04, 0.06] |" in text
    assert "| customers-train | " + "e" * 64 + " | 50000 | s3://x |" in text
    assert "| loss | nan | 3 |" in text
    assert "Risk tier: high." in text
    assert "| user:carol | staging | 2026-11-24T09:30:00Z |" in text
    assert "Rank customers by churn risk for the retention team." in text
    assert "*Edited by user:alice at 2026-11-24T09:30:00Z (revision 1).*" in text


def test_a_bare_card_says_what_is_missing() -> None:
    text = render_markdown(_card())
    assert "missing: intended\\_use, out\\_of\\_scope" in text
    assert "No evaluation of this version was recorded." in text
    assert "No fairness results were recorded for this version." in text
    assert "The version was not made from a recorded run." in text
    assert "Risk tier: not recorded." in text
    assert text.count("*Not written yet.*") == len(NARRATIVE_SECTIONS)


# --- JSON and CycloneDX ---------------------------------------------------------------------


def test_the_json_document_is_standard_json_with_every_member() -> None:
    document = json.loads(render_card(_full(), CardFormat.JSON, tool_version="1.0"))
    assert document["format"] == "lockgate.model_card/1"
    assert document["training"]["metrics"] == {"loss": "NaN", "val_auc": 0.84}
    assert document["completeness"] == card_document(_full())["completeness"]
    assert document["completeness"]["score"] == 1.0
    assert list(document["sections"]) == list(NARRATIVE_SECTIONS)
    assert document["evaluations"][0]["metrics"]["roc_auc"] == {
        "value": 0.81,
        "lower": 0.8,
        "upper": 0.8200000000000001,
    }
    assert document["evaluations"][0]["confidence"] == 0.95
    bare = card_document(_card())
    assert (bare["training"], bare["training_data"], bare["tier"], bare["package"]) == (
        None,
        [],
        None,
        None,
    )


def _validate(document: dict[str, object]) -> None:
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document))
    assert errors is None, errors


def test_the_cyclonedx_export_is_a_valid_ml_bom_with_the_model_card() -> None:
    document = cyclonedx_document(_full(), tool_version="1.0")
    _validate(document)
    (component,) = document["components"]  # type: ignore[misc]
    assert component["type"] == "machine-learning-model"
    card = component["modelCard"]
    parameters = card["modelParameters"]
    assert parameters["task"] == "binary_classification"
    assert parameters["approach"] == {"type": "supervised"}
    roles = {
        (d["name"], p["value"])
        for d in parameters["datasets"]
        for p in d["contents"]["properties"]
        if p["name"] == "lockgate:role"
    }
    assert roles == {("customers-train", "training"), ("holdout", "evaluation")}
    metrics = card["quantitativeAnalysis"]["performanceMetrics"]
    auc = next(m for m in metrics if m["type"] == "roc_auc" and "segment" not in m["slice"])
    assert auc["value"] == "0.81"
    assert auc["confidenceInterval"] == {"lowerBound": "0.8", "upperBound": "0.8200000000000001"}
    accuracy = next(m for m in metrics if m["type"] == "accuracy")
    assert "confidenceInterval" not in accuracy  # recorded without an interval
    considerations = card["considerations"]
    assert considerations["useCases"] == ["Rank customers by churn risk for the retention team."]
    assert considerations["users"] == ["Retention analysts."]
    assert considerations["technicalLimitations"] == [
        "Weak on customers younger than 3 months.",
        "Out of scope: Credit decisions.",
    ]
    assert considerations["ethicalConsiderations"] == [{"name": "Do not use to deny service."}]
    (assessment,) = considerations["fairnessAssessments"]
    assert assessment["groupAtRisk"] == "sex (groups: f, m)"
    assert "demographic_parity_difference 0.05" in assessment["harms"]


def test_a_bare_card_exports_a_valid_ml_bom_too() -> None:
    document = cyclonedx_document(_card(), tool_version="1.0")
    _validate(document)
    card = document["components"][0]["modelCard"]  # type: ignore[index]
    assert card["considerations"] == {}
    assert card["quantitativeAnalysis"] == {"performanceMetrics": []}


def test_the_serial_number_follows_the_content() -> None:
    first = cyclonedx_document(_full(), tool_version="1.0")["serialNumber"]
    again = cyclonedx_document(_full(), tool_version="1.0")["serialNumber"]
    later = cyclonedx_document(
        dataclasses.replace(_full(), generated_at=T0.replace(hour=10)), tool_version="1.0"
    )["serialNumber"]
    assert first == again != later


def _failed_check(message: str) -> Check:
    return Check(
        CheckScope.SEGMENT,
        "roc_auc",
        "plan=pro",
        0.7,
        0.72,
        -0.02,
        -0.03,
        -0.01,
        0.01,
        True,
        False,
        message,
    )


def test_a_comparison_shows_its_verdict_and_reasons() -> None:
    evaluation = _evaluation()
    baseline = dataclasses.replace(evaluation, id=EvaluationId("e" * 32), version=2)
    comparison = Comparison(
        ComparisonId("1" * 32),
        MODEL.project_id,
        MODEL.id,
        MODEL.name,
        evaluation,
        baseline,
        "champion",
        PairedReport(evaluation.report, baseline.report, ()),
        Thresholds(()),
        Verdict(False, (_failed_check("roc_auc fell by 0.02 on plan=pro"),)),
        T0,
        ALICE,
    )
    text = render_markdown(_card(evaluations=(evaluation,), comparison=comparison))
    assert "**FAIL** against version 2 (@champion) on holdout" in text
    assert "- roc\\_auc fell by 0.02 on plan=pro" in text
    assert card_document(_card(comparison=comparison))["comparison"] == {
        "id": "1" * 32,
        "baseline_version": 2,
        "baseline_alias": "champion",
        "dataset": "holdout",
        "passed": False,
        "reasons": ["roc_auc fell by 0.02 on plan=pro"],
        "created_at": "2026-11-24T09:30:00Z",
    }


def test_sparse_facts_render_in_every_format() -> None:
    """A version without a run id, a run that logged nothing, an evaluation without intervals,
    segments or calibration, a fairness attribute without measures, a passing comparison
    without an alias, and numbers at the extremes."""
    report = dataclasses.replace(
        binary_report(0.81, segments={}),
        metrics={"roc_auc": Estimate(1e-7), "log_loss": Estimate(2.5e7)},
        calibration=None,
        fairness=(FairnessReport("age", (), {}),),
    )
    evaluation = dataclasses.replace(
        _evaluation(),
        report=report,
        config=binary_config(resamples=0),
        dataset=dataclasses.replace(HOLDOUT, row_count=None),
    )
    comparison = Comparison(
        ComparisonId("1" * 32),
        MODEL.project_id,
        MODEL.id,
        MODEL.name,
        evaluation,
        dataclasses.replace(evaluation, version=2),
        None,
        PairedReport(report, report, ()),
        Thresholds(()),
        Verdict(True, ()),
        T0,
        ALICE,
    )
    run = RunDetail(dataclasses.replace(RUN, name="", environment=RunEnvironment()), metrics={})
    card = _card(
        version=dataclasses.replace(VERSION, run_id=None, signature=None),
        run=dataclasses.replace(run, metrics={"loss": Metric("loss", math.inf, 1, T0)}, params={}),
        evaluations=(evaluation,),
        comparison=comparison,
        sections={"caveats": NarrativeSection("caveats", "\n\n  \nkept", 1)},
    )
    text = render_markdown(card)
    assert "No parameters were logged." in text
    assert "| loss | inf | 1 |" in text
    assert "No intervals (computed without resampling)." in text
    assert "| roc\\_auc | 1e-07 |  |" in text
    assert "| log\\_loss | 2.5e+07 |  |" in text
    assert "**PASS** against version 2 on holdout" in text
    assert "Worst segment" not in text
    assert "### age on holdout" in text
    assert "\n\nkept\n\n" in text
    assert "No metrics were logged." in render_markdown(_card(run=run))
    assert card_document(card)["training"]["metrics"] == {"loss": "Infinity"}  # type: ignore[index]
    document = cyclonedx_document(card, tool_version="1.0")
    _validate(document)
    names = [p["name"] for p in document["components"][0]["properties"]]  # type: ignore[index]
    assert "lockgate:run_id" not in names
    assert "lockgate:manifest_sha256" not in names
