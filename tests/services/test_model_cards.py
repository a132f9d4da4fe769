"""ModelCardService on both dialects: the card is generated from what was recorded, a section
edit is audited in its own transaction, a stale or malformed edit changes nothing, and
`card_completeness` reads through the caller's unit of work."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from lockgate.domain.access import Caller, PrincipalKind, Role
from lockgate.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from lockgate.domain.governance import RiskTier
from lockgate.domain.governance.cards import CardFormat, NarrativeSection
from lockgate.domain.governance.promotions import (
    Approval,
    ModelGovernance,
    PromotionRequest,
    PromotionRequestId,
    RequestKind,
    RequestStatus,
)
from lockgate.domain.identity import Actor
from lockgate.domain.tracking import DatasetInput, RunEnvironment
from lockgate.server.composition import Platform
from lockgate.services import MetricPoint
from lockgate.services.model_cards import build_card, card_completeness
from tests.support.evaluations import HOLDOUT, binary_config, binary_report

ALICE = Caller.local(Actor("user:alice"))
TRAIN = DatasetInput("customers-train", "a1" * 32, 5000, (("tenure_months", "int64"),))


@pytest.fixture
def platform_with_version(platform: Platform) -> Platform:
    """Project `churn`, model `clf`: version 1 from a run with params, metrics and a training
    dataset; version 2 from a run that logged nothing."""
    platform.tracking.create_project(ALICE, "churn")
    platform.registry.create_model(ALICE, "churn", "clf", "growth", "churn model", {})
    run_id = platform.tracking.start_run(ALICE, "churn", "gbm", {}, RunEnvironment()).run.id
    platform.tracking.log_params(ALICE, run_id, {"max_depth": "6"})
    platform.tracking.log_metrics(ALICE, run_id, [MetricPoint("val_auc", 0.84)])
    platform.tracking.log_input(ALICE, run_id, TRAIN)
    platform.artifacts.upload(ALICE, run_id, "model/m.json", io.BytesIO(b"{}"))
    platform.registry.create_version(ALICE, "clf", run_id, "model", None, "", {})
    bare = platform.tracking.start_run(ALICE, "churn", "bare", {}, RunEnvironment()).run.id
    platform.artifacts.upload(ALICE, bare, "model/m.json", io.BytesIO(b"{}"))
    platform.registry.create_version(ALICE, "clf", bare, "model", None, "", {})
    return platform


def _record_evaluation(platform: Platform, version: int = 1, *, fairness: bool = True) -> None:
    digest = platform.packages.manifest(ALICE, "clf", version)[0].digest
    report = binary_report(0.81, parity=0.05 if fairness else None)
    platform.evaluations.record_evaluation(
        ALICE, "clf", version, HOLDOUT, binary_config(), report, digest, "test-engine 1.0"
    )


def _events(platform: Platform) -> int:
    return platform.audit.verify(ALICE).checked


def test_the_card_is_generated_from_what_was_recorded(platform_with_version: Platform) -> None:
    platform = platform_with_version
    card = platform.model_cards.get_card(ALICE, "clf", 1)
    assert (card.model.name, card.model.project_name, card.version.version) == ("clf", "churn", 1)
    assert card.run is not None
    assert card.run.params == {"max_depth": "6"}
    assert card.run.inputs == (TRAIN,)
    assert card.package is not None
    assert card.package.flavor == "unknown"
    assert (card.evaluations, card.comparison, card.tier, card.approvals) == ((), None, None, ())
    assert card.completeness().missing == (
        "intended_use",
        "out_of_scope",
        "limitations",
        "ethical_considerations",
        "evaluation",
        "fairness",
    )
    assert card.completeness().score == 0.2
    _record_evaluation(platform)
    card = platform.model_cards.get_card(ALICE, "clf", 1)
    assert [e.dataset.name for e in card.evaluations] == ["holdout"]
    assert card.completeness().score == 0.5
    bare = platform.model_cards.get_card(ALICE, "clf", 2)
    assert bare.completeness().score == 0.0  # the evaluation of version 1 is not version 2's


def test_a_section_edit_is_audited_and_counts_one_revision(
    platform_with_version: Platform,
) -> None:
    platform = platform_with_version
    before = _events(platform)
    first = platform.model_cards.set_section(
        ALICE, "clf", 1, "intended_use", "Rank customers by churn risk.", 0
    )
    assert (first.row_version, first.updated_by) == (1, "user:alice")
    second = platform.model_cards.set_section(ALICE, "clf", 1, "intended_use", "Rank them.", 1)
    assert second.row_version == 2
    assert _events(platform) == before + 2
    events = platform.audit.list_events(ALICE, 0, 1000, "model_version", "clf/1")
    edits = [e for e in events if e.action == "model_card.section_set"]
    assert [e.details["row_version"] for e in edits] == [1, 2]
    assert edits[-1].details["section"] == "intended_use"
    assert edits[-1].details["characters"] == len("Rank them.")
    assert edits[-1].actor == "user:alice"
    card = platform.model_cards.get_card(ALICE, "clf", 1)
    assert card.section("intended_use").text == "Rank them."
    assert "intended_use" not in card.completeness().missing
    assert platform.model_cards.get_card(ALICE, "clf", 2).section("intended_use").row_version == 0


def test_the_same_text_again_changes_and_records_nothing(platform_with_version: Platform) -> None:
    platform = platform_with_version
    written = platform.model_cards.set_section(ALICE, "clf", 1, "caveats", "Quarterly.", 0)
    before = _events(platform)
    again = platform.model_cards.set_section(ALICE, "clf", 1, "caveats", "Quarterly.", 1)
    assert again == written
    assert _events(platform) == before


def test_a_stale_edit_is_a_conflict_and_changes_nothing(platform_with_version: Platform) -> None:
    platform = platform_with_version
    platform.model_cards.set_section(ALICE, "clf", 1, "limitations", "Mine.", 0)
    platform.model_cards.set_section(ALICE, "clf", 1, "limitations", "Theirs.", 1)
    before = _events(platform)
    with pytest.raises(ConflictError, match="revision 2, not 1") as stale:
        platform.model_cards.set_section(ALICE, "clf", 1, "limitations", "Stale.", 1)
    assert stale.value.field == "row_version"
    with pytest.raises(ConflictError, match="revision 2, not 3"):
        platform.model_cards.set_section(ALICE, "clf", 1, "limitations", "Ahead.", 3)
    section = platform.model_cards.get_card(ALICE, "clf", 1).section("limitations")
    assert (section.text, section.row_version) == ("Theirs.", 2)
    assert _events(platform) == before


@pytest.mark.parametrize(
    ("section", "text", "row_version", "field"),
    [
        ("summary", "x", 0, "section"),
        ("evaluation", "x", 0, "section"),
        ("limitations", "bell\x07", 0, "text"),
        ("limitations", "x" * 20_001, 0, "text"),
        ("limitations", "x", -1, "row_version"),
    ],
)
def test_a_bad_edit_names_the_field_and_changes_nothing(
    platform_with_version: Platform, section: str, text: str, row_version: int, field: str
) -> None:
    platform = platform_with_version
    before = _events(platform)
    with pytest.raises(InvalidInputError) as refused:
        platform.model_cards.set_section(ALICE, "clf", 1, section, text, row_version)
    assert refused.value.field == field
    card = platform.model_cards.get_card(ALICE, "clf", 1)
    assert all(s.row_version == 0 for s in (card.section(n) for n in card.sections))
    assert card.sections == {}
    assert _events(platform) == before


def test_a_missing_model_or_version_is_not_found(platform_with_version: Platform) -> None:
    platform = platform_with_version
    with pytest.raises(NotFoundError):
        platform.model_cards.get_card(ALICE, "clf", 9)
    with pytest.raises(NotFoundError):
        platform.model_cards.set_section(ALICE, "clf", 9, "caveats", "x", 0)
    with pytest.raises(NotFoundError):
        platform.model_cards.export(ALICE, "nope", 1, CardFormat.JSON)


def test_a_viewer_reads_the_card_but_cannot_edit_it(platform_with_version: Platform) -> None:
    platform = platform_with_version
    platform.principals.create(ALICE, PrincipalKind.USER, "vic")
    platform.principals.grant(ALICE, "churn", "user:vic", Role.VIEWER)
    viewer = platform.credentials.authenticate_token(
        platform.credentials.issue_token(ALICE, "user:vic", "t").secret
    )
    assert platform.model_cards.get_card(viewer, "clf", 1).version.version == 1
    with pytest.raises(PermissionDeniedError, match=r"model\.write"):
        platform.model_cards.set_section(viewer, "clf", 1, "caveats", "x", 0)
    assert platform.model_cards.get_card(ALICE, "clf", 1).sections == {}


def test_every_export_format_renders_the_same_card(platform_with_version: Platform) -> None:
    platform = platform_with_version
    _record_evaluation(platform)
    platform.model_cards.set_section(ALICE, "clf", 1, "intended_use", "Retention.", 0)
    document = json.loads(platform.model_cards.export(ALICE, "clf", 1, CardFormat.JSON))
    assert document["completeness"] == {
        **document["completeness"],
        "score": 0.7,
        "missing": ["out_of_scope", "limitations", "ethical_considerations"],
    }
    markdown = platform.model_cards.export(ALICE, "clf", 1, CardFormat.MARKDOWN)
    assert markdown.startswith("# Model card: clf version 1\n")
    assert "Retention." in markdown
    bom = platform.model_cards.export(ALICE, "clf", 1, CardFormat.CYCLONEDX)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(bom) is None
    component = json.loads(bom)["components"][0]
    assert component["modelCard"]["considerations"]["useCases"] == ["Retention."]
    tool = json.loads(bom)["metadata"]["tools"]["components"][0]
    assert tool["name"] == "lockgate"


def test_card_completeness_reads_through_the_callers_unit_of_work(
    platform_with_version: Platform,
) -> None:
    platform = platform_with_version
    _record_evaluation(platform)
    with platform.store.unit_of_work() as uow:
        model = uow.models.get_model("clf")
        score, missing = card_completeness(uow, model, 1)
        assert (score, missing) == (
            0.5,
            ["intended_use", "out_of_scope", "limitations", "ethical_considerations"],
        )
        # An uncommitted edit of the caller's own transaction is what the gate sees.
        edited = NarrativeSection("intended_use").edited("x", model.created_at, Actor("user:a"))
        uow.model_cards.save_section(model.id, 1, edited)
        assert card_completeness(uow, model, 1)[0] == 0.7
        with pytest.raises(NotFoundError):
            card_completeness(uow, model, 9)
    # Never committed: nothing changed.
    assert platform.model_cards.get_card(ALICE, "clf", 1).completeness().score == 0.5


def test_the_card_shows_the_recorded_tier_and_approvals(platform_with_version: Platform) -> None:
    platform = platform_with_version
    now = platform.model_cards.get_card(ALICE, "clf", 1).generated_at
    with platform.store.unit_of_work() as uow:
        model = uow.models.get_model("clf")
        uow.environments.save_governance(
            ModelGovernance(model.id, model.name, RiskTier.HIGH, None, now, ALICE.actor, 1)
        )
        for environment, reviewer, minutes in (
            ("staging", "user:carol", 1),
            ("production", "user:dan", 2),
        ):
            request = PromotionRequest(
                PromotionRequestId(f"{minutes:032x}"),
                model.project_id,
                model.id,
                model.name,
                1,
                environment,
                RequestKind.PROMOTION,
                RequestStatus.OPEN,
                "ship it",
                ALICE.actor,
                now,
            )
            uow.promotions.add_request(request)
            uow.promotions.put_approval(
                Approval(
                    f"{minutes + 10:032x}",
                    request.id,
                    Actor(reviewer),
                    now + timedelta(minutes=minutes),
                    now + timedelta(days=7),
                )
            )
        uow.commit()
    with platform.store.unit_of_work(read_only=True) as uow:
        card = build_card(uow, uow.models.get_model("clf"), 1, at=now)
    assert card.tier is RiskTier.HIGH
    assert [(a.reviewer, a.environment) for a in card.approvals] == [
        ("user:carol", "staging"),
        ("user:dan", "production"),
    ]
    assert platform.model_cards.get_card(ALICE, "clf", 2).approvals == ()


def test_a_version_registered_before_manifests_has_no_package(
    platform_with_version: Platform,
) -> None:
    platform = platform_with_version
    signed = platform.registry.get_version(ALICE, "clf", 1)
    with platform.store.unit_of_work() as uow:
        model = uow.models.get_model("clf")
        number = uow.models.allocate_version(model.id)
        uow.models.add_version(replace(signed, version=number, aliases=()))
        uow.commit()
    card = platform.model_cards.get_card(ALICE, "clf", number)
    assert card.package is None
    named = platform.registry.get_model(ALICE, "clf")  # its project name filled in
    with platform.store.unit_of_work(read_only=True) as uow:
        assert build_card(uow, named, number, at=card.generated_at).model == named
