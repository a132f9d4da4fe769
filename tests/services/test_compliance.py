"""ComplianceService on both dialects, on a small fixture with known answers.

Project `churn`: `clf` reached production with carol's approvals, its run read a dataset
(lineage complete); `clf2` reached production with its approvals gate waived by an active
exception, and its run read nothing (lineage incomplete). Project `fraud`: `det` reached
production properly; `idle` is only in dev, with an exception requested but never approved.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from lockgate.domain.errors import NotFoundError, PermissionDeniedError
from lockgate.domain.governance.compliance import ComplianceReport, Share
from lockgate.domain.identity import Uuid7Factory
from lockgate.server.composition import Platform
from lockgate.services import ComplianceService, ServiceContext
from tests.services.test_evidence import (
    ALICE,
    GovernanceWorld,
    StepClock,
    build_world,
    clock,
    platform,
)

__all__ = ["clock", "platform"]  # fixtures, imported for pytest


@pytest.fixture
def world(platform: Platform, clock: StepClock) -> GovernanceWorld:
    built = build_world(platform, clock, ("churn", "fraud"))
    built.model("churn", "clf", metadata={"intended_use": "retention offers"})
    built.to_production("clf")
    built.model("churn", "clf2", dataset=False)
    built.promote("clf2", "dev")
    built.promote("clf2", "staging")
    exception = platform.exceptions.request(
        built.bob, "clf2", 1, "production", "approvals", "hotfix", clock.now() + timedelta(days=7)
    )
    platform.exceptions.approve(built.carol, exception.id, "ok for a week")
    built.promote("clf2", "production", approve=False)
    built.model("fraud", "det")
    built.to_production("det")
    built.model("fraud", "idle")
    built.promote("idle", "dev")
    platform.exceptions.request(
        built.bob, "idle", 1, "staging", "approvals", "please", clock.now() + timedelta(days=7)
    )
    clock.advance(hours=1)
    return built


def shares(report: ComplianceReport) -> dict[str, tuple[int, int]]:
    return {
        "lineage": _pair(report.lineage_complete),
        "metadata": _pair(report.metadata_complete),
        "card": _pair(report.card_complete),
        "approvals": _pair(report.approvals_per_policy),
        "policy": _pair(report.policy_compliant),
    }


def _pair(share: Share) -> tuple[int, int]:
    return share.count, share.total


def test_a_projects_report_counts_its_production_models(world: GovernanceWorld) -> None:
    report = world.platform.compliance.report(world.erin, "churn")
    assert report.project == "churn"
    assert report.environment == "production"
    assert shares(report) == {
        "lineage": (1, 2),
        "metadata": (2, 2),
        "card": (0, 2),
        "approvals": (1, 2),
        "policy": (1, 2),
    }
    assert report.policy_compliant.ratio == 0.5
    rows = {m.model: m for m in report.models}
    assert set(rows) == {"clf", "clf2"}
    clf, clf2 = rows["clf"], rows["clf2"]
    assert (clf.version, clf.tier.value, clf.project) == (1, "low", "churn")
    assert clf.lineage_complete
    assert clf.approvals_per_policy
    assert clf.policy_compliant
    assert clf.decision_id is not None
    assert clf2.lineage_gaps == ("the run that produced the version recorded no dataset input",)
    assert not clf2.approvals_per_policy
    assert not clf2.policy_compliant
    assert clf2.active_exceptions == 1
    # card: training_run (1) + training_data (1) of 10 for clf; clf2 read no data
    assert clf.card_completeness == pytest.approx(0.2)
    assert clf2.card_completeness == pytest.approx(0.1)
    assert [(e.model_name, e.gate) for e in report.active_exceptions] == [("clf2", "approvals")]


def test_the_platform_report_spans_every_project(world: GovernanceWorld) -> None:
    report = world.platform.compliance.report(world.dana)
    assert report.project is None
    assert shares(report) == {
        "lineage": (2, 3),
        "metadata": (3, 3),
        "card": (0, 3),
        "approvals": (2, 3),
        "policy": (2, 3),
    }
    assert sorted(m.model for m in report.models) == ["clf", "clf2", "det"]
    # idle is in dev only, and its exception was never approved
    assert len(report.active_exceptions) == 1


def test_an_exception_stops_counting_once_it_expires(world: GovernanceWorld) -> None:
    world.clock.advance(days=8)
    report = world.platform.compliance.report(world.dana)
    assert report.active_exceptions == ()
    assert {m.model: m.active_exceptions for m in report.models}["clf2"] == 0
    # the promotion it allowed still was not by the policy
    assert _pair(report.policy_compliant) == (2, 3)


def test_required_metadata_follows_the_tier_requirements(world: GovernanceWorld) -> None:
    platform = world.platform
    context = ServiceContext(platform.store.unit_of_work, world.clock, Uuid7Factory())
    strict = ComplianceService(
        context, requirements=lambda tier: {"production": {"metadata": ["intended_use"]}}
    )
    report = strict.report(world.dana)
    assert _pair(report.metadata_complete) == (1, 3)
    missing = {m.model: m.metadata_missing for m in report.models}
    assert missing == {"clf": (), "clf2": ("intended_use",), "det": ("intended_use",)}


def test_a_report_with_nothing_in_production_has_no_ratios(world: GovernanceWorld) -> None:
    world.platform.tracking.create_project(ALICE, "empty")
    report = world.platform.compliance.report(ALICE, "empty")
    assert report.models == ()
    assert report.lineage_complete == Share(0, 0)
    assert report.lineage_complete.ratio is None


def test_reading_a_report_needs_the_right_permission(world: GovernanceWorld) -> None:
    platform = world.platform
    with pytest.raises(PermissionDeniedError, match=r"audit\.read"):
        platform.compliance.report(world.erin)  # a project viewer: not the platform's
    with pytest.raises(PermissionDeniedError, match=r"project\.read"):
        platform.compliance.report(world.erin, "fraud")
    assert platform.compliance.report(world.dana, "fraud").project == "fraud"
    with pytest.raises(NotFoundError):
        platform.compliance.report(world.dana, "nowhere")
