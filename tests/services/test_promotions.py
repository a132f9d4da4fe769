"""Governed promotion on both dialects: requests evaluated by Rego gates, approvals with
separation of duties and expiry, rejection, exceptions with expiry, the history of what was
live when, and refusals that change nothing."""

from __future__ import annotations

import dataclasses
import io
from datetime import timedelta

import pytest

from lockgate.domain.access import PlatformRole, PrincipalKind, Role
from lockgate.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from lockgate.domain.governance.promotions import (
    DecisionTrigger,
    GovernanceRules,
    PromotionDetail,
    PromotionRequest,
    PromotionRequestId,
    RequestKind,
    RequestStatus,
)
from lockgate.domain.identity import Actor
from lockgate.domain.tracking import RunEnvironment, RunId
from lockgate.server.composition import Platform
from lockgate.services.promotion_gates import authors_of
from tests.support.promotions import ALICE, Governed, build_governed, input_schema_errors


@pytest.fixture
def world(platform: Platform) -> Governed:
    return build_governed(platform)


def _events(world: Governed, action: str) -> list[dict[str, object]]:
    events = world.platform.audit.list_events(ALICE, 0, 1000)
    return [dict(e.details) for e in events if e.action == action]


def _blocking(detail: PromotionDetail) -> list[str]:
    assert detail.decision is not None
    return detail.decision.decision.deny_reasons()


def test_a_critical_promotion_waits_for_two_distinct_reviewers_and_a_passing_evaluation(
    world: Governed,
) -> None:
    world.environments.set_tier(world.caller("pat"), "clf", "critical", "grafana:churn")
    world.platform.registry.set_alias(ALICE, "clf", "champion", 1)
    erin, carol, dave = world.caller("erin"), world.caller("carol"), world.caller("dave")

    opened = world.promotions.request_promotion(erin, "clf", 2, "production", "beats v1")
    assert opened.request.status is RequestStatus.OPEN
    assert _blocking(opened) == [
        "approvals: 0 of 2 approvals",
        "evaluation: no passing comparison against the version to beat",
    ]
    request_id = opened.request.id

    first = world.promotions.approve(carol, request_id, "looks right")
    assert first.request.status is RequestStatus.OPEN
    assert "approvals: 1 of 2 approvals" in _blocking(first)
    with pytest.raises(ConflictError, match=r"approved request \w+ already"):
        world.promotions.approve(carol, request_id)

    second = world.promotions.approve(dave, request_id)
    assert second.request.status is RequestStatus.OPEN
    assert _blocking(second) == ["evaluation: no passing comparison against the version to beat"]
    assert [a.reviewer for a in second.approvals] == ["user:carol", "user:dave"]

    comparison_id = world.pass_comparison(candidate=2, baseline=1)
    promoted = world.promotions.check(erin, request_id)
    assert promoted.request.status is RequestStatus.PROMOTED
    assert promoted.request.closed_by == "user:erin"
    assert promoted.decision is not None
    assert promoted.decision.allowed
    document = promoted.decision.input_document
    assert document["evaluation"] == {
        "verdict": "pass",
        "comparison_id": comparison_id,
        "baseline_version": 1,
        "baseline_is_current": True,
        "reasons": [],
    }
    assert [a["reviewer"] for a in document["approvals"]] == ["user:carol", "user:dave"]  # type: ignore[index, union-attr]
    assert document["model"]["tier"] == "critical"  # type: ignore[index, call-overload]
    assert document["model"]["monitor"] == "grafana:churn"  # type: ignore[index, call-overload]

    current = world.environments.current_versions(erin, "clf")
    assert [(c.environment, c.version, c.request_id) for c in current] == [
        ("production", 2, request_id)
    ]
    assert world.platform.registry.resolve(erin, "clf@production").version == 2
    (change,) = world.environments.history(erin, "clf", "production")
    assert (change.version, change.previous_version) == (2, None)
    assert (change.requested_by, change.changed_by, change.reason) == (
        "user:erin",
        "user:erin",
        "beats v1",
    )
    assert change.request_id == request_id
    assert change.decision_id == promoted.decision.id

    decisions = world.promotions.decisions(erin, request_id)
    assert [d.trigger for d in decisions] == [
        DecisionTrigger.OPENED,
        DecisionTrigger.APPROVED,
        DecisionTrigger.APPROVED,
        DecisionTrigger.CHECKED,
    ]
    assert [d.allowed for d in decisions] == [False, False, False, True]
    assert len(_events(world, "promotion.promoted")) == 1
    assert len(_events(world, "promotion.checked")) == 4
    assert len(_events(world, "promotion.approved")) == 2
    assert world.platform.audit.verify(ALICE).ok
    with pytest.raises(ConflictError, match="not open"):
        world.promotions.approve(world.caller("rita"), request_id)
    assert len(world.gates.seen) == 4
    for seen in world.gates.seen:
        assert input_schema_errors(seen) == []


def test_the_built_in_policies_decide_through_the_real_engine(world: Governed) -> None:
    """The platform's own service: P's built-in bundle for the default tier (medium)."""
    promotions = world.platform.promotions
    erin, carol = world.caller("erin"), world.caller("carol")
    dev = promotions.request_promotion(erin, "clf", 2, "dev", "try it")
    assert dev.request.status is RequestStatus.PROMOTED, _blocking(dev)
    skipped = promotions.request_promotion(erin, "clf", 1, "staging", "skip dev")
    assert any(r.startswith("order:") for r in _blocking(skipped)), _blocking(skipped)
    staging = promotions.request_promotion(erin, "clf", 2, "staging", "next")
    assert staging.request.status is RequestStatus.OPEN
    assert [r.split(":")[0] for r in _blocking(staging)] == ["approvals"]
    promoted = promotions.approve(carol, staging.request.id)
    assert promoted.request.status is RequestStatus.PROMOTED, _blocking(promoted)
    production = promotions.request_promotion(erin, "clf", 2, "production", "go")
    assert "evaluation" in {r.split(":")[0] for r in _blocking(production)}
    assert production.decision is not None
    assert input_schema_errors(production.decision.input_document) == []
    assert world.platform.registry.resolve(erin, "clf@staging").version == 2


def test_the_author_and_the_requester_may_not_approve(world: Governed) -> None:
    rita = world.caller("rita")  # reviewer and contributor; registered version 3
    of_three = world.promotions.request_promotion(world.caller("erin"), "clf", 3, "staging", "r")
    with pytest.raises(PermissionDeniedError, match="authored clf/3"):
        world.promotions.approve(rita, of_three.request.id)
    # alice registered versions 1 and 2 and ran the training run of all three.
    with pytest.raises(PermissionDeniedError, match="authored clf/3"):
        world.promotions.approve(ALICE, of_three.request.id)
    own = world.promotions.request_promotion(rita, "clf", 2, "staging", "mine")
    with pytest.raises(PermissionDeniedError, match="requested this promotion"):
        world.promotions.approve(rita, own.request.id)
    with pytest.raises(PermissionDeniedError, match=r"does not allow version\.approve"):
        world.promotions.approve(world.caller("erin"), own.request.id)
    for request_id in (of_three.request.id, own.request.id):
        assert world.promotions.get_request(ALICE, request_id).approvals == ()
    denied = [e for e in _events(world, "access.denied") if "separation" in str(e["reason"])]
    assert len(denied) == 3
    assert not _events(world, "promotion.approved")


def test_approvals_expire_and_a_reviewer_renews_theirs(platform: Platform) -> None:
    world = build_governed(platform, GovernanceRules(approval_ttl=timedelta(days=1)))
    world.environments.set_tier(world.caller("pat"), "clf", "high", None)
    erin, carol, dave = world.caller("erin"), world.caller("carol"), world.caller("dave")
    request_id = world.promotions.request_promotion(erin, "clf", 2, "staging", "r").request.id
    first = world.promotions.approve(carol, request_id)
    assert first.approvals[0].expires_at == world.clock.now() + timedelta(days=1)

    world.clock.advance(timedelta(days=1, seconds=1))
    after = world.promotions.approve(dave, request_id)
    assert after.request.status is RequestStatus.OPEN
    assert _blocking(after) == ["approvals: 1 of 2 approvals"]
    assert after.decision is not None
    assert [a["reviewer"] for a in after.decision.input_document["approvals"]] == ["user:dave"]  # type: ignore[index, union-attr]

    renewed = world.promotions.approve(carol, request_id, "still fine")
    assert renewed.request.status is RequestStatus.PROMOTED
    assert sorted(a.reviewer for a in renewed.approvals) == ["user:carol", "user:dave"]
    assert all(a.is_valid_at(renewed.as_of) for a in renewed.approvals)


def test_a_rejection_needs_a_comment_and_ends_the_request(world: Governed) -> None:
    erin, carol = world.caller("erin"), world.caller("carol")
    request_id = world.promotions.request_promotion(erin, "clf", 2, "staging", "r").request.id
    with pytest.raises(InvalidInputError) as blank:
        world.promotions.reject(carol, request_id, "  ")
    assert blank.value.field == "comment"
    assert world.promotions.get_request(erin, request_id).request.status is RequestStatus.OPEN

    rejected = world.promotions.reject(carol, request_id, "no fairness report")
    assert rejected.request.status is RequestStatus.REJECTED
    assert (rejected.request.closed_by, rejected.request.comment) == (
        "user:carol",
        "no fairness report",
    )
    for action in (
        lambda: world.promotions.approve(world.caller("dave"), request_id),
        lambda: world.promotions.check(erin, request_id),
        lambda: world.promotions.cancel(erin, request_id),
        lambda: world.promotions.reject(carol, request_id, "again"),
    ):
        with pytest.raises(ConflictError, match="rejected"):
            action()
    assert _events(world, "promotion.rejected")[0]["comment"] == "no fairness report"
    # The slot is free again: a new request for the same version and environment.
    again = world.promotions.request_promotion(erin, "clf", 2, "staging", "with the report")
    assert again.request.status is RequestStatus.OPEN


def test_requests_are_cancelled_by_requesters_only(world: Governed) -> None:
    erin = world.caller("erin")
    request_id = world.promotions.request_promotion(erin, "clf", 2, "staging", "r").request.id
    with pytest.raises(PermissionDeniedError, match=r"promotion\.request"):
        world.promotions.cancel(world.caller("vic"), request_id)
    with pytest.raises(PermissionDeniedError, match=r"promotion\.request"):
        world.promotions.check(world.caller("carol"), request_id)
    cancelled = world.promotions.cancel(erin, request_id, "wrong version")
    assert cancelled.request.status is RequestStatus.CANCELLED
    listed = world.promotions.list_requests(erin, model_name="clf", version=2)
    assert [r.id for r in listed.items] == [request_id]
    with pytest.raises(NotFoundError, match="no version 7"):
        world.promotions.list_requests(erin, model_name="clf", version=7)
    assert (
        world.promotions.list_requests(erin, model_name="clf", status=RequestStatus.OPEN).items
        == []
    )


def test_one_open_request_per_version_and_environment(world: Governed) -> None:
    erin = world.caller("erin")
    world.promotions.request_promotion(erin, "clf", 2, "staging", "r")
    with pytest.raises(ConflictError, match="open promotion request for clf/2 in staging"):
        world.promotions.request_promotion(world.caller("rita"), "clf", 2, "staging", "again")
    world.environments.set_tier(world.caller("pat"), "clf", "low", None)
    world.promotions.request_promotion(erin, "clf", 1, "dev", "r")  # low: promoted at once
    with pytest.raises(ConflictError, match="current in dev already"):
        world.promotions.request_promotion(erin, "clf", 1, "dev", "again")


def test_an_exception_lets_one_gate_pass_until_it_expires(world: Governed) -> None:
    world.environments.set_tier(world.caller("pat"), "clf", "critical", None)
    erin, carol, pat = world.caller("erin"), world.caller("carol"), world.caller("pat")
    request_id = world.promotions.request_promotion(erin, "clf", 2, "production", "r").request.id
    world.promotions.approve(carol, request_id)
    expires = world.clock.now() + timedelta(days=2)
    waiver = world.exceptions.request(
        erin, "clf", 2, "production", "evaluation", "the holdout set is being rebuilt", expires
    )
    # Requested, not approved: it waives nothing.
    assert "evaluation" in " ".join(_blocking(world.promotions.check(erin, request_id)))
    approved = world.exceptions.approve(pat, waiver.id, "until the new holdout lands")
    assert approved.approved_by == "user:pat"

    waived = world.promotions.check(erin, request_id)
    assert waived.request.status is RequestStatus.OPEN
    assert _blocking(waived) == ["approvals: 1 of 2 approvals"]
    assert waived.decision is not None
    (evaluation,) = [r for r in waived.decision.decision.results if r.gate == "evaluation"]
    assert (evaluation.passed, evaluation.waived_by, evaluation.is_blocking) == (
        False,
        waiver.id,
        False,
    )
    assert waived.decision.input_document["exceptions"] == [
        {"id": waiver.id, "gate": "evaluation", "expires_at": expires.isoformat()[:-6] + "Z"}
    ]

    world.clock.advance(timedelta(days=2))
    blocked = world.promotions.check(erin, request_id)
    assert _blocking(blocked) == [
        "approvals: 1 of 2 approvals",
        "evaluation: no passing comparison against the version to beat",
    ]
    assert world.exceptions.get(erin, waiver.id).status.value == "expired"
    with pytest.raises(ConflictError, match="expired"):
        world.exceptions.revoke(pat, waiver.id, "too late")

    renewed = world.exceptions.request(
        erin,
        "clf",
        2,
        "production",
        "evaluation",
        "still rebuilding",
        world.clock.now() + timedelta(days=1),
    )
    world.exceptions.approve(carol, renewed.id)
    promoted = world.promotions.approve(world.caller("dave"), request_id)
    assert promoted.request.status is RequestStatus.PROMOTED
    assert promoted.decision is not None
    assert [r.waived_by for r in promoted.decision.decision.results] == [None, renewed.id]
    listed = world.exceptions.list_exceptions(erin, "clf", 2)
    assert [(e.id, e.status.value) for e in listed] == [
        (waiver.id, "expired"),
        (renewed.id, "active"),
    ]


def test_a_broken_policy_blocks_and_no_exception_waives_it(world: Governed) -> None:
    world.gates.gates = ("approvals", "broken")
    world.environments.set_tier(world.caller("pat"), "clf", "low", None)
    erin = world.caller("erin")
    opened = world.promotions.request_promotion(erin, "clf", 2, "dev", "r")
    assert opened.request.status is RequestStatus.OPEN
    assert opened.decision is not None
    (broken,) = [r for r in opened.decision.decision.results if r.gate == "broken"]
    assert broken.error is not None
    exception = world.exceptions.request(
        erin, "clf", 2, "dev", "broken", "try", world.clock.now() + timedelta(days=1)
    )
    world.exceptions.approve(world.caller("carol"), exception.id)
    checked = world.promotions.check(erin, opened.request.id)
    assert checked.request.status is RequestStatus.OPEN
    assert checked.decision is not None
    (broken,) = [r for r in checked.decision.decision.results if r.gate == "broken"]
    assert (broken.waived_by, broken.is_blocking) == (None, True)
    assert "broken: policy error" in _blocking(checked)[0]
    assert world.environments.current_versions(erin, "clf") == []


def test_exceptions_are_checked_governed_and_revocable(world: Governed) -> None:
    rita, carol = world.caller("rita"), world.caller("carol")
    now = world.clock.now()
    cases = [
        ({"expires_at": now - timedelta(seconds=1)}, "expires_at"),
        ({"expires_at": now + timedelta(days=91)}, "expires_at"),
        ({"expires_at": now.replace(tzinfo=None) + timedelta(days=1)}, "expires_at"),
        ({"gate": "Not A Gate"}, "gate"),
        ({"justification": " "}, "justification"),
        ({"environment": "Prod"}, "environment"),
    ]
    before = world.platform.audit.verify(ALICE).checked
    for change, field in cases:
        arguments = {
            "environment": "production",
            "gate": "evaluation",
            "justification": "why",
            "expires_at": now + timedelta(days=1),
            **change,
        }
        with pytest.raises(InvalidInputError) as caught:
            world.exceptions.request(rita, "clf", 2, **arguments)  # type: ignore[arg-type]
        assert caught.value.field == field, change
    with pytest.raises(NotFoundError, match="environment 'canary'"):
        world.exceptions.request(
            rita, "clf", 2, "canary", "evaluation", "why", now + timedelta(days=1)
        )
    assert world.platform.audit.verify(ALICE).checked == before
    assert world.exceptions.list_exceptions(rita, "clf") == []

    waiver = world.exceptions.request(
        rita, "clf", 2, "production", "evaluation", "why", now + timedelta(days=90)
    )
    with pytest.raises(PermissionDeniedError, match="requested exception"):
        world.exceptions.approve(rita, waiver.id)
    with pytest.raises(PermissionDeniedError, match=r"version\.approve"):
        world.exceptions.approve(world.caller("erin"), waiver.id)
    world.exceptions.approve(carol, waiver.id)
    with pytest.raises(ConflictError, match="active"):
        world.exceptions.approve(world.caller("dave"), waiver.id)
    with pytest.raises(InvalidInputError) as blank:
        world.exceptions.revoke(carol, waiver.id, "")
    assert blank.value.field == "reason"
    revoked = world.exceptions.revoke(carol, waiver.id, "the evaluation is back")
    assert (revoked.status.value, revoked.revoked_by) == ("revoked", "user:carol")
    assert [e.status.value for e in world.exceptions.list_exceptions(rita, "clf", 2)] == ["revoked"]
    actions = [
        e for e in world.platform.audit.list_events(ALICE, 0, 1000) if "exception" in e.action
    ]
    assert [e.action for e in actions] == [
        "exception.requested",
        "exception.approved",
        "exception.revoked",
    ]
    assert {e.subject_id for e in actions} == {"clf/2"}


def test_the_history_answers_what_was_live_in_production_at_a_time(world: Governed) -> None:
    world.environments.set_tier(world.caller("pat"), "clf", "low", None)
    erin = world.caller("erin")
    moments = []
    for version in (1, 2, 3):
        world.clock.advance(timedelta(hours=1))
        moments.append(world.clock.now())
        detail = world.promotions.request_promotion(
            erin, "clf", version, "production", f"release {version}"
        )
        assert detail.request.status is RequestStatus.PROMOTED
    before = moments[0] - timedelta(seconds=1)
    assert world.environments.live_at(erin, "clf", "production", before) is None
    for index, version in enumerate((1, 2, 3)):
        for moment in (moments[index], moments[index] + timedelta(minutes=59)):
            live = world.environments.live_at(erin, "clf", "production", moment)
            assert live is not None
            assert (live.version, live.reason, live.requested_by) == (
                version,
                f"release {version}",
                "user:erin",
            )
            assert world.platform.registry.alias_at(erin, "clf", "production", moment).version == (
                version
            )
    history = world.environments.history(erin, "clf", "production")
    assert [(c.version, c.previous_version) for c in history] == [(1, None), (2, 1), (3, 2)]
    decisions = {d.id for r in history for d in world.promotions.decisions(erin, str(r.request_id))}
    assert {c.decision_id for c in history} <= decisions
    assert world.environments.history(erin, "clf", version=2) == [history[1]]
    assert world.environments.live_at(erin, "clf", "staging", moments[-1]) is None
    with pytest.raises(InvalidInputError) as naive:
        world.environments.live_at(erin, "clf", "production", moments[0].replace(tzinfo=None))
    assert naive.value.field == "at"
    with pytest.raises(PermissionDeniedError, match=r"project\.read"):
        world.environments.history(world.caller("eve"), "clf")


def test_tiers_are_set_by_project_admins_and_audited(world: Governed) -> None:
    erin, pat = world.caller("erin"), world.caller("pat")
    default = world.environments.get_governance(erin, "clf")
    assert (default.tier.value, default.monitor, default.row_version) == ("medium", None, 0)
    set_once = world.environments.set_tier(pat, "clf", "high", "https://grafana/d/churn")
    assert (set_once.tier.value, set_once.row_version, set_once.updated_by) == (
        "high",
        1,
        "user:pat",
    )
    before = world.platform.audit.verify(ALICE).checked
    for tier, monitor, field in (("extreme", None, "tier"), ("low", " ", "monitor")):
        with pytest.raises(InvalidInputError) as caught:
            world.environments.set_tier(pat, "clf", tier, monitor)
        assert caught.value.field == field
    with pytest.raises(PermissionDeniedError, match=r"project\.manage"):
        world.environments.set_tier(erin, "clf", "low", None)
    assert world.platform.audit.verify(ALICE).checked == before + 1  # the access.denied event
    world.environments.set_tier(pat, "clf", "critical", None)
    assert world.environments.get_governance(erin, "clf").tier.value == "critical"
    assert _events(world, "model.tier_set")[-1] == {
        "tier": "critical",
        "previous_tier": "high",
        "monitor": None,
        "previous_monitor": "https://grafana/d/churn",
    }


def test_environments_are_platform_configuration(world: Governed) -> None:
    assert [(e.name, e.order) for e in world.environments.list_environments()] == [
        ("dev", 10),
        ("staging", 20),
        ("production", 30),
    ]
    canary = world.environments.create_environment(ALICE, "canary", 25, "a slice of traffic")
    assert canary.created_by == "user:alice"
    assert [e.name for e in world.environments.list_environments()] == [
        "dev",
        "staging",
        "canary",
        "production",
    ]
    with pytest.raises(PermissionDeniedError, match=r"environment\.manage"):
        world.environments.create_environment(world.caller("pat"), "qa", 15, "")
    with pytest.raises(Exception, match="already") as taken:
        world.environments.create_environment(ALICE, "canary", 26, "")
    assert taken.value.__class__.__name__ == "AlreadyExistsError"
    with pytest.raises(Exception, match="order 25") as order:
        world.environments.create_environment(ALICE, "qa", 25, "")
    assert getattr(order.value, "field", None) == "order"
    for name, order_value, field in (("QA", 5, "name"), ("qa", 0, "order"), ("latest", 5, "name")):
        with pytest.raises(InvalidInputError) as caught:
            world.environments.create_environment(ALICE, name, order_value, "")
        assert caught.value.field == field
    world.platform.registry.set_alias(ALICE, "clf", "champion", 1)
    with pytest.raises(ConflictError, match="alias 'champion'"):
        world.environments.create_environment(ALICE, "champion", 40, "")
    with pytest.raises(ConflictError, match="moved only by promotion"):
        world.platform.registry.set_alias(ALICE, "clf", "production", 1)
    with pytest.raises(ConflictError, match="moved only by promotion"):
        world.platform.registry.delete_alias(ALICE, "clf", "canary")
    # A request may target the new environment; its previous one is staging.
    world.environments.set_tier(world.caller("pat"), "clf", "low", None)
    world.gates.gates = ("approvals", "order")
    blocked = world.promotions.request_promotion(world.caller("erin"), "clf", 2, "canary", "r")
    assert _blocking(blocked) == ["order: never promoted to staging"]
    assert blocked.decision is not None
    assert blocked.decision.input_document["environment"] == {
        "name": "canary",
        "order": 25,
        "previous": "staging",
    }


def test_bad_input_is_refused_naming_the_field_and_changes_nothing(world: Governed) -> None:
    erin = world.caller("erin")
    before = world.platform.audit.verify(ALICE).checked
    for arguments, field in (
        (("clf", 2, "Production", "r"), "environment"),
        (("clf", 2, "staging", "   "), "reason"),
        (("clf", 2, "staging", "x" * 2001), "reason"),
        (("Bad Name", 2, "staging", "r"), "model"),
    ):
        with pytest.raises(InvalidInputError) as caught:
            world.promotions.request_promotion(erin, *arguments)
        assert caught.value.field == field
    with pytest.raises(NotFoundError, match="environment 'qa'"):
        world.promotions.request_promotion(erin, "clf", 2, "qa", "r")
    with pytest.raises(NotFoundError, match="no version 9"):
        world.promotions.request_promotion(erin, "clf", 9, "staging", "r")
    for action, field in (
        (lambda: world.promotions.approve(world.caller("carol"), "x"), "request_id"),
        (lambda: world.promotions.check(erin, "../1"), "request_id"),
        (lambda: world.promotions.approve(world.caller("carol"), "0" * 32, "\x00"), "comment"),
        (lambda: world.exceptions.approve(world.caller("carol"), "nope"), "exception_id"),
    ):
        with pytest.raises(InvalidInputError) as caught:
            action()
        assert caught.value.field == field
    with pytest.raises(NotFoundError):
        world.promotions.get_request(erin, "0" * 32)
    assert world.platform.audit.verify(ALICE).checked == before
    assert world.promotions.list_requests(ALICE).items == []
    assert world.gates.seen == []


def test_a_version_governance_record_holds_everything_for_evidence(world: Governed) -> None:
    erin, carol = world.caller("erin"), world.caller("carol")
    opened = world.promotions.request_promotion(erin, "clf", 2, "staging", "r")
    world.exceptions.request(
        erin, "clf", 2, "staging", "evaluation", "why", world.clock.now() + timedelta(days=1)
    )
    world.promotions.approve(carol, opened.request.id)
    record = world.promotions.governance_record(world.caller("vic"), "clf", 2)
    assert [r.status for r in record.requests] == [RequestStatus.PROMOTED]
    assert [a.reviewer for a in record.approvals] == ["user:carol"]
    assert [d.trigger for d in record.decisions] == [
        DecisionTrigger.OPENED,
        DecisionTrigger.APPROVED,
    ]
    assert all(d.input_document["version"]["number"] == 2 for d in record.decisions)  # type: ignore[index, call-overload]
    assert [e.gate for e in record.exceptions] == ["evaluation"]
    assert [(c.environment, c.version) for c in record.changes] == [("staging", 2)]
    assert record.current_in == ("staging",)
    empty = world.promotions.governance_record(erin, "clf", 1)
    assert (empty.requests, empty.decisions, empty.current_in) == ((), (), ())


def test_an_approval_counts_only_while_its_reviewer_may_still_approve(world: Governed) -> None:
    world.environments.set_tier(world.caller("pat"), "clf", "critical", None)
    world.gates.gates = ("approvals",)
    platform, erin = world.platform, world.caller("erin")
    platform.principals.create(ALICE, PrincipalKind.USER, "olga", platform_role=PlatformRole.ADMIN)
    olga = platform.credentials.authenticate_token(
        platform.credentials.issue_token(ALICE, "user:olga", "t").secret
    )
    request_id = world.promotions.request_promotion(erin, "clf", 2, "staging", "r").request.id
    world.promotions.approve(world.caller("carol"), request_id)
    platform.principals.revoke(ALICE, "churn", "user:carol", Role.REVIEWER)
    assert _blocking(world.promotions.check(erin, request_id)) == ["approvals: 0 of 2 approvals"]
    with_olga = world.promotions.approve(olga, request_id)  # a platform admin may approve
    assert _blocking(with_olga) == ["approvals: 1 of 2 approvals"]
    assert with_olga.decision is not None
    approvers = with_olga.decision.input_document["approvals"]
    assert [a["reviewer"] for a in approvers] == ["user:olga"]  # type: ignore[index, union-attr]
    platform.principals.create(ALICE, PrincipalKind.USER, "otto", platform_role=PlatformRole.ADMIN)
    platform.principals.set_disabled(ALICE, "user:olga", True)  # otto stays platform admin
    with_dave = world.promotions.approve(world.caller("dave"), request_id)
    assert _blocking(with_dave) == ["approvals: 1 of 2 approvals"]
    assert with_dave.request.status is RequestStatus.OPEN
    # Local mode's actor has no principal record: its approval cannot be checked and counts.
    # (Alice authored versions 1 to 3; version 4 is rita's, from a run erin trained.)
    run = platform.tracking.start_run(erin, "churn", "by erin", {}, RunEnvironment()).run
    platform.artifacts.upload(erin, run.id, "model/m.json", io.BytesIO(b"{}"))
    four = platform.registry.create_version(
        world.caller("rita"), "clf", run.id, "model", None, "", {}
    )
    other = world.promotions.request_promotion(erin, "clf", four.version, "staging", "r")
    world.promotions.approve(world.caller("dave"), other.request.id)
    promoted = world.promotions.approve(ALICE, other.request.id)
    assert promoted.request.status is RequestStatus.PROMOTED, _blocking(promoted)


def test_the_comparison_that_speaks_for_a_version(world: Governed) -> None:
    world.environments.set_tier(world.caller("pat"), "clf", "critical", None)
    erin = world.caller("erin")
    never = world.promotions.request_promotion(erin, "clf", 2, "staging", "r")
    assert never.decision is not None
    assert never.decision.input_document["evaluation"] == {
        "verdict": None,
        "comparison_id": None,
        "baseline_version": None,
        "baseline_is_current": False,
        "reasons": ["version 2 was never compared"],
    }
    against_three = world.pass_comparison(candidate=2, baseline=3)
    world.platform.registry.set_alias(ALICE, "clf", "champion", 1)
    stale = world.promotions.check(erin, never.request.id)
    assert stale.decision is not None
    assert stale.decision.input_document["evaluation"] == {
        "verdict": "pass",
        "comparison_id": against_three,
        "baseline_version": 3,
        "baseline_is_current": False,
        "reasons": ["the comparison's baseline is version 3; the version to beat is version 1"],
    }
    failing = world.fail_comparison(candidate=2, baseline=1)
    judged = world.promotions.check(erin, never.request.id)
    assert judged.decision is not None
    evaluation = judged.decision.input_document["evaluation"]
    assert evaluation["comparison_id"] == failing  # type: ignore[index, call-overload]
    assert evaluation["verdict"] == "fail"  # type: ignore[index, call-overload]
    assert evaluation["baseline_is_current"] is True  # type: ignore[index, call-overload]
    assert evaluation["reasons"]  # type: ignore[index, call-overload]


def test_a_request_whose_move_happened_already_is_cancelled(world: Governed) -> None:
    """A retirement of a version that is in no environment (decommissioning opens them)
    closes without moving anything; so would a promotion of a version already current."""
    world.environments.set_tier(world.caller("pat"), "clf", "low", None)
    erin = world.caller("erin")
    request = PromotionRequest(
        PromotionRequestId("f" * 32),
        world.platform.registry.get_model(ALICE, "clf").project_id,
        world.platform.registry.get_model(ALICE, "clf").id,
        "clf",
        2,
        "dev",
        RequestKind.RETIREMENT,
        RequestStatus.OPEN,
        "retire it",
        Actor("user:erin"),
        world.clock.now(),
    )
    with world.platform.store.unit_of_work() as uow:
        uow.promotions.add_request(request)
        uow.commit()
    closed = world.promotions.check(erin, request.id)
    assert closed.request.status is RequestStatus.CANCELLED
    assert closed.request.comment == "version 2 is not current in dev"
    assert _events(world, "promotion.cancelled")[-1]["request_id"] == request.id
    assert world.environments.history(erin, "clf") == []


def test_authors_are_who_registered_and_who_trained(world: Governed) -> None:
    three = world.platform.registry.get_version(ALICE, "clf", 3)
    with world.platform.store.unit_of_work(read_only=True) as uow:
        assert authors_of(uow, three) == {"user:rita", "user:alice"}
        assert authors_of(uow, dataclasses.replace(three, run_id=None)) == {"user:rita"}
        unknown_run = dataclasses.replace(three, run_id=RunId("0" * 32))
        assert authors_of(uow, unknown_run) == {"user:rita"}
