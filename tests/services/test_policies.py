"""PolicyService on both dialects: a proposal is compiled and tested before anything is
stored, a reviewer who is not the proposer activates it and supersedes the version before,
every change is audited in its own transaction (or nothing changes), and the active policies
join the built-in gates in `applicable_modules`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from types import TracebackType
from typing import Any

import pytest

from lockgate.compute.policy import BUILTIN_GATES, evaluate_gates
from lockgate.domain.access import Caller, Permission, PrincipalKind, Role
from lockgate.domain.audit import AuditDraft, AuditEvent
from lockgate.domain.errors import (
    ConflictError,
    InvalidInputError,
    LockgateError,
    NotFoundError,
    PermissionDeniedError,
)
from lockgate.domain.governance import RiskTier
from lockgate.domain.governance.policies import PolicyStatus
from lockgate.domain.identity import Actor, SystemClock, Uuid7Factory
from lockgate.server.composition import Platform
from lockgate.services import PolicyService, ServiceContext, applicable_modules
from lockgate.store.protocols import UnitOfWork
from tests.support.policies import passing_document

ALICE = Caller.local(Actor("user:alice"))

OWNER_GATE = """package lockgate.gates.owner_review

# The model's owner must have approved a production promotion.
deny contains msg if {
	input.environment.name == "production"
	not owner_approved
	msg := sprintf("the owner %v has not approved", [input.model.owner])
}

owner_approved if {
	some approval in input.approvals
	approval.reviewer == concat(":", ["user", input.model.owner])
}
"""

OWNER_TESTS = """package lockgate.gates.owner_review_test

import data.lockgate.gates.owner_review

test_owner_approval_passes if {
	approvals := [{"reviewer": "user:alice"}]
	count(owner_review.deny) == 0 with input.environment.name as "production"
		with input.model.owner as "alice"
		with input.approvals as approvals
}

test_no_owner_approval_denies if {
	owner_review.deny == {"the owner alice has not approved"} with input.environment.name as "production"
		with input.model.owner as "alice"
		with input.approvals as []
}
"""


def _caller(platform: Platform, name: str, role: Role | None) -> Caller:
    platform.principals.create(ALICE, PrincipalKind.USER, name)
    if role is not None:
        platform.principals.grant(ALICE, "churn", f"user:{name}", role)
    secret = platform.credentials.issue_token(ALICE, f"user:{name}", "t").secret
    return platform.credentials.authenticate_token(secret)


class People:
    def __init__(self, platform: Platform) -> None:
        platform.tracking.create_project(ALICE, "churn")
        self.admin = _caller(platform, "pat", Role.ADMIN)
        self.reviewer = _caller(platform, "rita", Role.REVIEWER)
        self.second_reviewer = _caller(platform, "ron", Role.REVIEWER)
        self.contributor = _caller(platform, "carl", Role.CONTRIBUTOR)
        self.viewer = _caller(platform, "vic", Role.VIEWER)
        self.stranger = _caller(platform, "eve", None)


@pytest.fixture
def people(platform: Platform) -> People:
    return People(platform)


def _actions(platform: Platform, action: str) -> list[AuditEvent]:
    return [e for e in platform.audit.list_events(ALICE, 0, 1000) if e.action == action]


def _state(platform: Platform) -> tuple[object, ...]:
    page = platform.policies.list_policies(ALICE, "churn")
    return (
        [(p.name, p.version, p.status, p.reviewed_by) for p in page.items],
        platform.audit.verify(ALICE).checked,
    )


def test_propose_then_approve_makes_a_policy_active(platform: Platform, people: People) -> None:
    proposed = platform.policies.propose(
        people.admin, "churn", "owner_review", OWNER_GATE, tests=OWNER_TESTS, description="v1"
    )
    assert (proposed.version, proposed.status) == (1, PolicyStatus.PROPOSED)
    assert proposed.proposed_by == "user:pat"
    assert proposed.package == "lockgate.gates.owner_review"
    (event,) = _actions(platform, "policy.proposed")
    assert event.actor == "user:pat"
    assert (event.subject_type, event.subject_id) == ("policy", "churn/owner_review@1")
    assert event.details["tests_passed"] == 2
    assert event.details["sha256"] == proposed.sha256
    with platform.store.unit_of_work(read_only=True) as uow:
        project_id = uow.projects.get_by_name("churn").id
        assert [m.origin for m in applicable_modules(uow, project_id, RiskTier.LOW)] == [
            "builtin"
        ] * 9  # not active yet

    approved = platform.policies.approve(people.reviewer, "churn", "owner_review", 1, "ok")
    assert approved.status is PolicyStatus.ACTIVE
    assert (approved.reviewed_by, approved.comment) == ("user:rita", "ok")
    (event,) = _actions(platform, "policy.approved")
    assert event.actor == "user:rita"
    assert event.details["superseded"] is None
    assert platform.policies.get(people.viewer, "churn", "owner_review") == approved

    with platform.store.unit_of_work(read_only=True) as uow:
        modules = applicable_modules(uow, project_id, RiskTier.LOW)
    assert modules[-1].origin == "project:owner_review@1"
    decision = evaluate_gates(modules, passing_document())
    (owner,) = [r for r in decision.results if r.gate == "owner_review"]
    assert owner.reasons == ("the owner alice has not approved",)
    assert owner.source == "project:owner_review@1"
    assert [r.gate for r in decision.results] == [*BUILTIN_GATES, "owner_review"]
    assert not decision.allowed


def test_a_newer_approved_version_supersedes_the_active_one(
    platform: Platform, people: People
) -> None:
    other = OWNER_GATE.replace("owner_review", "data_fresh")
    platform.policies.propose(people.admin, "churn", "data_fresh", other)
    platform.policies.approve(people.reviewer, "churn", "data_fresh", 1)
    platform.policies.propose(people.admin, "churn", "owner_review", OWNER_GATE)
    platform.policies.approve(people.reviewer, "churn", "owner_review", 1)
    relaxed = OWNER_GATE.replace('"production"', '"nowhere"')
    second = platform.policies.propose(people.admin, "churn", "owner_review", relaxed)
    assert second.version == 2
    third = platform.policies.propose(people.admin, "churn", "owner_review", relaxed + "\n")
    assert third.version == 3
    platform.policies.approve(people.second_reviewer, "churn", "owner_review", 3)
    first = platform.policies.get(ALICE, "churn", "owner_review", 1)
    assert first.status is PolicyStatus.SUPERSEDED
    assert first.superseded_at is not None
    assert platform.policies.get(ALICE, "churn", "owner_review", 2).status is (
        PolicyStatus.PROPOSED
    )
    (event,) = _actions(platform, "policy.approved")[-1:]
    assert event.details["superseded"] == 1
    with platform.store.unit_of_work(read_only=True) as uow:
        project_id = uow.projects.get_by_name("churn").id
        project = [
            m for m in applicable_modules(uow, project_id, RiskTier.HIGH) if m.origin != "builtin"
        ]
    assert [m.origin for m in project] == ["project:data_fresh@1", "project:owner_review@3"]
    active = platform.policies.list_policies(ALICE, "churn", status=PolicyStatus.ACTIVE)
    assert [(p.name, p.version) for p in active.items] == [
        ("data_fresh", 1),
        ("owner_review", 3),
    ]
    # A superseded or active version cannot be approved again.
    with pytest.raises(ConflictError, match="is superseded"):
        platform.policies.approve(people.reviewer, "churn", "owner_review", 1)


def test_the_proposer_cannot_approve_their_own_policy(platform: Platform, people: People) -> None:
    platform.policies.propose(people.admin, "churn", "owner_review", OWNER_GATE)
    before = _state(platform)
    for proposer in (people.admin,):
        with pytest.raises(PermissionDeniedError, match="separation of duties"):
            platform.policies.approve(proposer, "churn", "owner_review", 1)
    after = _state(platform)
    assert after[0] == before[0]
    (denied,) = _actions(platform, "access.denied")
    assert denied.actor == "user:pat"
    assert denied.details["permission"] == Permission.VERSION_APPROVE.value
    assert platform.policies.get(ALICE, "churn", "owner_review", 1).status is (
        PolicyStatus.PROPOSED
    )


def test_a_rejection_needs_a_comment_and_ends_the_version(
    platform: Platform, people: People
) -> None:
    platform.policies.propose(people.admin, "churn", "owner_review", OWNER_GATE)
    with pytest.raises(InvalidInputError, match="comment is required") as refused:
        platform.policies.reject(people.reviewer, "churn", "owner_review", 1, "  ")
    assert refused.value.field == "comment"
    rejected = platform.policies.reject(
        people.reviewer, "churn", "owner_review", 1, "owners approve in the ticket"
    )
    assert rejected.status is PolicyStatus.REJECTED
    (event,) = _actions(platform, "policy.rejected")
    assert event.details["comment"] == "owners approve in the ticket"
    with pytest.raises(ConflictError, match="is rejected"):
        platform.policies.approve(people.second_reviewer, "churn", "owner_review", 1)


BAD_PROPOSALS: list[tuple[str, str, str, str, str]] = [
    ("Owner", OWNER_GATE, "", "name", "must be a gate name"),
    ("owner_test", OWNER_GATE, "", "name", "must be a gate name"),
    ("approvals", OWNER_GATE.replace("owner_review", "approvals"), "", "name", "built-in gate"),
    ("owner_review", "   ", "", "source", "source is empty"),
    ("owner_review", OWNER_GATE.replace("owner_review", "other"), "", "source", "must declare"),
    (
        "owner_review",
        "package lockgate.gates.owner_review\n\ndeny contains msg if { input.x < ; msg := 1 }\n",
        "",
        "source",
        r"does not compile: owner_review\.rego:3:32: Invalid boolean operator",
    ),
    (
        "owner_review",
        "package lockgate.gates.owner_review\n\ndeny contains 1 if nope(2)\n",
        "",
        "source",
        "Function not found: nope",
    ),
    (
        "owner_review",
        OWNER_GATE,
        OWNER_TESTS.replace("has not approved", "did not approve"),
        "tests",
        r"tests fail: test_no_owner_approval_denies: failed \(undefined\)",
    ),
    (
        "owner_review",
        OWNER_GATE,
        "package lockgate.gates.owner_review_test\n",
        "tests",
        "no `test_",
    ),
    ("owner_review", OWNER_GATE, OWNER_TESTS.replace("_test\n", "\n", 1), "tests", "not a gate"),
    (
        "owner_review",
        OWNER_GATE,
        OWNER_TESTS.replace("with input.approvals as []", 'with input as {"approvals": []}'),
        "tests",
        "crashes the Rego engine",
    ),
]


@pytest.mark.parametrize(("name", "source", "tests", "field", "message"), BAD_PROPOSALS)
def test_a_bad_proposal_is_refused_naming_the_field_and_stores_nothing(
    platform: Platform,
    people: People,
    name: str,
    source: str,
    tests: str,
    field: str,
    message: str,
) -> None:
    before = _state(platform)
    with pytest.raises(InvalidInputError, match=message) as refused:
        platform.policies.propose(people.admin, "churn", name, source, tests=tests)
    assert refused.value.field == field
    assert _state(platform) == before


def test_each_action_needs_its_permission(platform: Platform, people: People) -> None:
    for caller in (people.contributor, people.reviewer, people.viewer, people.stranger):
        with pytest.raises(PermissionDeniedError, match=r"policy\.write"):
            platform.policies.propose(caller, "churn", "owner_review", OWNER_GATE)
    platform.policies.propose(people.admin, "churn", "owner_review", OWNER_GATE)
    for caller in (people.contributor, people.viewer, people.stranger):
        with pytest.raises(PermissionDeniedError, match=r"version\.approve"):
            platform.policies.approve(caller, "churn", "owner_review", 1)
        with pytest.raises(PermissionDeniedError, match=r"version\.approve"):
            platform.policies.reject(caller, "churn", "owner_review", 1, "no")
    with pytest.raises(PermissionDeniedError, match=r"project\.read"):
        platform.policies.get(people.stranger, "churn", "owner_review")
    with pytest.raises(PermissionDeniedError, match=r"project\.read"):
        platform.policies.list_policies(people.stranger, "churn")
    assert platform.policies.list_policies(people.viewer, "churn").items
    with pytest.raises(NotFoundError, match="has no version 7"):
        platform.policies.get(people.viewer, "churn", "owner_review", 7)
    with pytest.raises(NotFoundError):
        platform.policies.get(people.viewer, "churn", "unknown")
    with pytest.raises(NotFoundError):
        platform.policies.list_policies(ALICE, "no-such-project")


class _BrokenAudit:
    def append(self, draft: AuditDraft, *, event_id: str, at: datetime) -> None:
        raise LockgateError(f"the audit log is unavailable ({draft.action} not written)")


class _UnitWithBrokenAudit:
    def __init__(self, unit: UnitOfWork) -> None:
        self._unit = unit

    def __enter__(self) -> UnitOfWork:
        entered = self._unit.__enter__()
        entered.audit = _BrokenAudit()  # type: ignore[assignment]
        return entered

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._unit.__exit__(exc_type, exc, tb)


def test_a_policy_change_whose_audit_event_fails_changes_nothing(
    platform: Platform, people: People
) -> None:
    def broken(*, read_only: bool = False) -> Any:
        unit = platform.store.unit_of_work(read_only=read_only)
        return unit if read_only else _UnitWithBrokenAudit(unit)

    service = PolicyService(ServiceContext(broken, SystemClock(), Uuid7Factory()))
    platform.policies.propose(people.admin, "churn", "owner_review", OWNER_GATE)
    platform.policies.approve(people.reviewer, "churn", "owner_review", 1)
    platform.policies.propose(people.admin, "churn", "owner_review", OWNER_GATE + "\n")
    platform.policies.propose(people.admin, "churn", "owner_review", OWNER_GATE + "\n\n")
    before = _state(platform)
    actions: list[Callable[[], object]] = [
        lambda: service.propose(people.admin, "churn", "owner_review", OWNER_GATE),
        lambda: service.approve(people.reviewer, "churn", "owner_review", 2),
        lambda: service.reject(people.reviewer, "churn", "owner_review", 3, "no"),
    ]
    for action in actions:
        with pytest.raises(LockgateError, match="audit log is unavailable"):
            action()
        assert _state(platform) == before
    assert platform.audit.verify(ALICE).ok
    # Through the working store the same approval goes through.
    platform.policies.approve(people.reviewer, "churn", "owner_review", 2)
    assert platform.policies.get(ALICE, "churn", "owner_review", 1).status is (
        PolicyStatus.SUPERSEDED
    )


def test_an_active_policy_that_breaks_at_runtime_blocks_promotions(
    platform: Platform, people: People
) -> None:
    # It compiles (nothing conflicts without an input), so review lets it through; with a
    # real input its two definitions disagree, and the gate fails closed.
    conflicting = (
        "package lockgate.gates.limits\n\n"
        "limit := input.version.number\nlimit := input.current.version\n\n"
        'deny contains "over the limit" if limit > 100\n'
    )
    platform.policies.propose(people.admin, "churn", "limits", conflicting)
    platform.policies.approve(people.reviewer, "churn", "limits", 1)
    with platform.store.unit_of_work(read_only=True) as uow:
        project_id = uow.projects.get_by_name("churn").id
        modules = applicable_modules(uow, project_id, RiskTier.LOW)
    decision = evaluate_gates(modules, passing_document())
    assert not decision.allowed
    assert decision.deny_reasons() == [
        "limits: policy error: complete rules must not produce multiple outputs "
        "(eval_conflict_error)"
    ]


def test_concurrent_approvals_leave_one_active_version(platform: Platform, people: People) -> None:
    platform.policies.propose(people.admin, "churn", "owner_review", OWNER_GATE)
    platform.policies.approve(people.reviewer, "churn", "owner_review", 1)
    for extra in ("\n", "\n\n"):
        platform.policies.propose(people.admin, "churn", "owner_review", OWNER_GATE + extra)
    barrier = threading.Barrier(2)

    def approve(caller: Caller, version: int) -> object:
        barrier.wait()
        try:
            return platform.policies.approve(caller, "churn", "owner_review", version)
        except ConflictError as error:
            return error

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(approve, (people.reviewer, people.second_reviewer), (2, 3)))
    won = [o for o in outcomes if not isinstance(o, ConflictError)]
    assert won  # at least one went through; a loser saw a ConflictError
    versions = platform.policies.list_policies(ALICE, "churn").items
    statuses = {p.version: p.status for p in versions}
    assert list(statuses.values()).count(PolicyStatus.ACTIVE) == 1
    assert statuses[1] is PolicyStatus.SUPERSEDED
    approved_events = _actions(platform, "policy.approved")
    assert len(approved_events) == 1 + len(won)
    assert platform.audit.verify(ALICE).ok
