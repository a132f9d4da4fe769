"""The promotion resources of the SDK against the real app with auth on, on each dialect:
`client.promotions`, `client.environments` and `client.exceptions`, with the built-in gates,
separation of duties, and errors mapped back to their classes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lockgate.domain.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from lockgate.domain.governance.decisions import document_sha256
from tests.support.promotion_clients import Team, team

__all__ = ["team"]  # the fixture, imported for pytest


def test_a_low_tier_version_is_promoted_through_dev_and_staging(team: Team) -> None:
    root, erin, carol = team["root"], team["erin"], team["carol"]
    governance = root.promotions.set_tier("clf", "low", monitor="https://grafana.example/d/clf")
    assert (governance.tier, governance.monitor, governance.updated_by) == (
        "low",
        "https://grafana.example/d/clf",
        "user:root",
    )
    dev = erin.promotions.request("clf", 1, to="dev", reason="smoke test")
    assert dev.request.status == "promoted", dev.decision
    assert dev.decision is not None
    assert dev.decision.allowed
    assert dev.decision.input_sha256 == document_sha256(dev.decision.input)

    staging = erin.promotions.request("clf", 1, to="staging", reason="ready")
    assert staging.request.status == "open"
    assert staging.decision is not None
    assert [r.split(":")[0] for r in staging.decision.deny_reasons] == ["approvals"]
    assert [r.id for r in carol.promotions.list(status="open")] == [staging.request.id]
    with pytest.raises(PermissionDeniedError, match="authored clf/1"):
        root.promotions.approve(staging.request.id)
    with pytest.raises(PermissionDeniedError, match=r"version\.approve"):
        erin.promotions.approve(staging.request.id)

    approved = carol.promotions.approve(staging.request.id, comment="reviewed the card")
    assert approved.request.status == "promoted"
    assert [(a.reviewer, a.expired, a.comment) for a in approved.approvals] == [
        ("user:carol", False, "reviewed the card")
    ]
    assert list(carol.promotions.list(status="open")) == []
    assert root.models.resolve("clf@staging").version == 1
    decisions = erin.promotions.decisions(staging.request.id)
    assert [(d.trigger, d.allowed) for d in decisions] == [("opened", False), ("approved", True)]
    gates = {r.gate: r for r in decisions[0].results}
    assert gates["approvals"].blocking
    assert not gates["order"].blocking  # promoted to dev first
    assert [c.environment for c in erin.environments.current("clf")] == ["dev", "staging"]
    (change,) = erin.environments.history("clf", "staging")
    assert (change.version, change.requested_by, change.changed_by, change.reason) == (
        1,
        "user:erin",
        "user:carol",
        "ready",
    )
    live = erin.environments.live_at("clf", "staging", change.changed_at)
    assert live == change
    before = change.changed_at - timedelta(microseconds=1)
    assert erin.environments.live_at("clf", "staging", before) is None
    assert [r.status for r in erin.promotions.list("clf", version=1)] == ["promoted", "promoted"]


def test_requests_are_rejected_cancelled_and_checked(team: Team) -> None:
    erin, carol = team["erin"], team["carol"]
    first = erin.promotions.request("clf", 2, to="staging", reason="try")
    with pytest.raises(ConflictError, match="open promotion request"):
        erin.promotions.request("clf", 2, to="staging", reason="again")
    with pytest.raises(InvalidInputError) as blank:
        carol.promotions.reject(first.request.id, comment="")
    assert blank.value.field == "comment"
    rejected = carol.promotions.reject(first.request.id, comment="not evaluated")
    assert (rejected.request.status, rejected.request.comment) == ("rejected", "not evaluated")
    with pytest.raises(ConflictError, match="rejected"):
        erin.promotions.check(first.request.id)
    second = erin.promotions.request("clf", 2, to="staging", reason="evaluated now")
    checked = erin.promotions.check(second.request.id)
    assert checked.request.status == "open"
    assert len(erin.promotions.decisions(second.request.id)) == 2
    cancelled = erin.promotions.cancel(second.request.id, comment="later")
    assert cancelled.request.status == "cancelled"
    assert erin.promotions.get(second.request.id).request.closed_by == "user:erin"
    with pytest.raises(NotFoundError):
        erin.promotions.get("0" * 32)
    with pytest.raises(InvalidInputError) as bad:
        erin.promotions.request("clf", 2, to="Staging", reason="r")
    assert bad.value.field == "environment"


def test_exceptions_need_another_approver_and_expire(team: Team) -> None:
    erin, carol, dave = team["erin"], team["carol"], team["dave"]
    expires = datetime.now(UTC) + timedelta(days=3)
    waiver = erin.exceptions.request(
        "clf",
        2,
        environment="production",
        gate="evaluation",
        justification="holdout being rebuilt",
        expires_at=expires,
    )
    assert (waiver.status, waiver.requested_by) == ("requested", "user:erin")
    with pytest.raises(InvalidInputError) as too_far:
        erin.exceptions.request(
            "clf",
            2,
            environment="production",
            gate="evaluation",
            justification="x",
            expires_at=datetime.now(UTC) + timedelta(days=91),
        )
    assert too_far.value.field == "expires_at"
    with pytest.raises(PermissionDeniedError):
        erin.exceptions.approve(waiver.id)
    active = carol.exceptions.approve(waiver.id, comment="committee said yes")
    assert (active.status, active.approved_by) == ("active", "user:carol")
    assert [e.status for e in erin.exceptions.list("clf", 2, status="active")] == ["active"]
    revoked = dave.exceptions.revoke(waiver.id, reason="holdout is back")
    assert (revoked.status, revoked.revoked_by) == ("revoked", "user:dave")
    assert erin.exceptions.get(waiver.id).revoke_reason == "holdout is back"
    with pytest.raises(ConflictError):
        dave.exceptions.revoke(waiver.id, reason="twice")


def test_environments_are_defined_by_platform_admins(team: Team) -> None:
    root, erin = team["root"], team["erin"]
    assert [e.name for e in erin.environments.list()] == ["dev", "staging", "production"]
    canary = root.environments.create("canary", order=25, description="some traffic")
    assert (canary.name, canary.order, canary.created_by) == ("canary", 25, "user:root")
    with pytest.raises(AlreadyExistsError):
        root.environments.create("canary", order=26)
    with pytest.raises(PermissionDeniedError, match=r"environment\.manage"):
        erin.environments.create("qa", order=15)
    with pytest.raises(ConflictError, match="moved only by promotion"):
        root.models.set_alias("clf", "canary", 1)
    assert root.promotions.governance("clf").tier == "medium"
    with pytest.raises(PermissionDeniedError, match=r"project\.manage"):
        erin.promotions.set_tier("clf", "critical")
