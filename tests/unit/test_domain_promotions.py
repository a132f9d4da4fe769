"""The governance domain of promotion: the request state machine, approvals that count,
exceptions by time, the order of environments, and the policy input document, which must
validate against the published JSON Schema."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from importlib import resources

import jsonschema
import pytest

from lockgate.domain.errors import ConflictError, InvalidInputError
from lockgate.domain.governance.decisions import GateResult, PolicyDecision, document_sha256
from lockgate.domain.governance.environments import (
    Environment,
    last_environment,
    previous_environment,
)
from lockgate.domain.governance.exceptions import (
    ExceptionStatus,
    GateException,
    GateExceptionId,
    apply_exceptions,
    check_expiry,
    check_gate,
)
from lockgate.domain.governance.input_document import (
    EvaluationFacts,
    PromotionFacts,
    build_input_document,
    rfc3339,
)
from lockgate.domain.governance.promotions import (
    TRANSITIONS,
    Approval,
    ModelGovernance,
    PromotionRequest,
    PromotionRequestId,
    RequestKind,
    RequestStatus,
    gate_results_document,
    parse_tier,
    read_gate_results,
    valid_approvals,
)
from lockgate.domain.governance.tiers import RiskTier
from lockgate.domain.identity import Actor
from lockgate.domain.registry import ModelId, ModelVersion, RegisteredModel, Signature
from lockgate.domain.tracking import ProjectId, RunId

T0 = datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
ALICE, BOB, CAROL = Actor("user:alice"), Actor("user:bob"), Actor("user:carol")


def _request(status: RequestStatus = RequestStatus.OPEN) -> PromotionRequest:
    return PromotionRequest(
        PromotionRequestId("1" * 32),
        ProjectId("2" * 32),
        ModelId("3" * 32),
        "churn",
        3,
        "production",
        RequestKind.PROMOTION,
        status,
        "beats v2",
        ALICE,
        T0,
    )


def _exception(gate: str = "evaluation", **changes: object) -> GateException:
    exception = GateException(
        GateExceptionId("4" * 32),
        ProjectId("2" * 32),
        ModelId("3" * 32),
        "churn",
        3,
        "production",
        gate,
        "why",
        ALICE,
        T0,
        T0 + timedelta(days=2),
    )
    return dataclasses.replace(exception, **changes)  # type: ignore[arg-type]


def test_only_open_requests_change_and_only_along_the_table() -> None:
    assert TRANSITIONS[RequestStatus.OPEN] == {
        RequestStatus.PROMOTED,
        RequestStatus.REJECTED,
        RequestStatus.CANCELLED,
    }
    assert [s for s in RequestStatus if s.is_final] == [
        RequestStatus.PROMOTED,
        RequestStatus.REJECTED,
        RequestStatus.CANCELLED,
    ]
    closed = _request().close(RequestStatus.REJECTED, at=T0, by=BOB, comment="no")
    assert (closed.status, closed.closed_by, closed.comment) == (RequestStatus.REJECTED, BOB, "no")
    for final in (RequestStatus.PROMOTED, RequestStatus.REJECTED, RequestStatus.CANCELLED):
        for target in RequestStatus:
            with pytest.raises(ConflictError, match=f"is {final}"):
                _request(final).close(target, at=T0, by=BOB)
        with pytest.raises(ConflictError, match="not open"):
            _request(final).require_open()
    with pytest.raises(ConflictError):
        _request().close(RequestStatus.OPEN, at=T0, by=BOB)


def test_valid_approvals_are_unexpired_eligible_and_one_per_reviewer() -> None:
    request_id = PromotionRequestId("1" * 32)
    approvals = [
        Approval("a", request_id, BOB, T0, T0 + timedelta(days=1)),
        Approval("b", request_id, BOB, T0 + timedelta(hours=1), T0 + timedelta(days=1, hours=1)),
        Approval("c", request_id, CAROL, T0, T0 + timedelta(hours=2)),
        Approval("d", request_id, ALICE, T0, T0 + timedelta(days=9)),
    ]
    now = T0 + timedelta(hours=3)
    assert [a.id for a in valid_approvals(approvals, now, {ALICE})] == ["b"]
    assert [a.id for a in valid_approvals(approvals, T0, ())] == ["d", "c", "b"]
    assert [a.id for a in valid_approvals(approvals[::-1], T0, ())] == ["d", "c", "b"]
    assert valid_approvals(approvals, T0 + timedelta(days=10)) == []
    assert not approvals[2].is_valid_at(T0 + timedelta(hours=2))


def test_exceptions_expire_by_time_and_waive_failed_gates_only() -> None:
    exception = _exception()
    assert exception.status_at(T0) is ExceptionStatus.REQUESTED
    assert not exception.is_active_at(T0)
    active = exception.approve(by=BOB, at=T0)
    assert active.is_active_at(T0 + timedelta(days=1))
    assert active.status_at(T0 + timedelta(days=2)) is ExceptionStatus.EXPIRED
    assert active.as_of(T0 + timedelta(days=3)).status is ExceptionStatus.EXPIRED
    with pytest.raises(ConflictError, match="active"):
        active.approve(by=CAROL, at=T0)
    with pytest.raises(ConflictError, match="expired"):
        exception.approve(by=BOB, at=T0 + timedelta(days=2))
    revoked = active.revoke(by=BOB, at=T0, reason="fixed")
    assert revoked.status_at(T0 + timedelta(days=5)) is ExceptionStatus.REVOKED
    with pytest.raises(ConflictError, match="revoked"):
        revoked.revoke(by=BOB, at=T0, reason="again")
    assert exception.revoke(by=ALICE, at=T0, reason="withdrawn").status is ExceptionStatus.REVOKED

    decision = PolicyDecision(
        (
            GateResult("evaluation", "builtin", False, ("failed",)),
            GateResult("broken", "builtin", False, error="parse error"),
            GateResult("approvals", "builtin", True),
        ),
        "a" * 64,
        "b" * 64,
    )
    assert not decision.allowed
    waivers = [
        active,
        _exception("broken", status=ExceptionStatus.ACTIVE),
        _exception("approvals", status=ExceptionStatus.ACTIVE),
    ]
    waived = apply_exceptions(decision, waivers, T0)
    assert [r.waived_by for r in waived.results] == [active.id, None, None]
    assert waived.deny_reasons() == ["broken: policy error: parse error"]
    assert (waived.input_sha256, waived.policy_digest) == ("a" * 64, "b" * 64)
    only_evaluation = dataclasses.replace(decision, results=decision.results[::2])
    assert apply_exceptions(only_evaluation, [active], T0).allowed
    assert not apply_exceptions(only_evaluation, [active], T0 + timedelta(days=2)).allowed
    assert not apply_exceptions(only_evaluation, [exception], T0).allowed  # not approved


def test_exception_inputs_are_checked() -> None:
    assert check_gate("model_card") == "model_card"
    for bad in ("", "Evaluation", "1gate", "a.b", "x" * 65):
        with pytest.raises(InvalidInputError) as caught:
            check_gate(bad)
        assert caught.value.field == "gate"
    longest = timedelta(days=90)
    assert check_expiry(T0 + longest, now=T0, longest=longest) == T0 + longest
    for bad in (T0, T0 + longest + timedelta(seconds=1), T0.replace(tzinfo=None)):
        with pytest.raises(InvalidInputError) as caught:
            check_expiry(bad, now=T0, longest=longest)
        assert caught.value.field == "expires_at"


def test_environments_are_ordered() -> None:
    stages = [Environment(n, o, "", T0, ALICE) for n, o in (("dev", 10), ("prod", 30), ("qa", 20))]
    assert previous_environment(stages, stages[1]) == stages[2]
    assert previous_environment(stages, stages[0]) is None
    assert last_environment(stages) == stages[1]
    assert last_environment([]) is None
    Environment.check("canary", 25, "")
    for name, order, field in (("Prod", 1, "name"), ("latest", 1, "name"), ("qa", 0, "order")):
        with pytest.raises(InvalidInputError) as caught:
            Environment.check(name, order, "")
        assert caught.value.field == field
    with pytest.raises(InvalidInputError):
        Environment.check("qa", True, "")  # type: ignore[arg-type]
    assert parse_tier("critical") is RiskTier.CRITICAL
    with pytest.raises(InvalidInputError, match="low, medium, high, critical"):
        parse_tier("urgent")


def test_gate_results_round_trip() -> None:
    results = (
        GateResult("approvals", "builtin", False, ("1 of 2",)),
        GateResult("evaluation", "project:p@1", False, ("x",), waived_by="e" * 32),
        GateResult("broken", "builtin", False, error="boom"),
    )
    document = json.loads(json.dumps(gate_results_document(results)))
    assert read_gate_results(document) == results
    with pytest.raises(ValueError, match="list"):
        read_gate_results({"gate": "x"})
    with pytest.raises(ValueError, match="object"):
        read_gate_results(["x"])


def _facts(**changes: object) -> PromotionFacts:
    model = RegisteredModel(
        ModelId("3" * 32),
        ProjectId("2" * 32),
        "churn",
        "growth",
        "predicts churn",
        {"intended_use": "offers", "b": "2"},
        T0,
        ALICE,
        "retention",
    )
    version = ModelVersion(
        model.id,
        "churn",
        3,
        RunId("5" * 32),
        "model",
        (),
        Signature((), ()),
        "v3",
        {"k": "v"},
        T0,
        BOB,
    )
    request = _request()
    facts = PromotionFacts(
        request=request,
        environment=Environment("production", 30, "", T0, ALICE),
        previous_environment="staging",
        model=model,
        governance=ModelGovernance(model.id, "churn", RiskTier.CRITICAL, "grafana"),
        version=version,
        package_digest="d" * 64,
        environments=("staging", "dev"),
        promoted_to=("staging", "dev", "staging"),
        evaluation=EvaluationFacts(True, "6" * 32, 2, True, ()),
        card_completeness=0.83,
        card_missing=("limitations",),
        approvals=(Approval("a", request.id, CAROL, T0, T0 + timedelta(days=30)),),
        exceptions=(_exception(status=ExceptionStatus.ACTIVE),),
        current_version=2,
    )
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def _schema() -> dict[str, object]:
    text = resources.files("lockgate.compute.policy").joinpath("input.schema.json").read_text()
    schema: dict[str, object] = json.loads(text)
    return schema


def test_the_input_document_is_built_exactly_from_the_facts() -> None:
    document = build_input_document(_facts())
    assert document == {
        "schema": 1,
        "request": {
            "id": "1" * 32,
            "kind": "promotion",
            "requested_by": "user:alice",
            "requested_at": "2026-03-01T12:00:00.250000Z",
            "reason": "beats v2",
        },
        "environment": {"name": "production", "order": 30, "previous": "staging"},
        "model": {
            "name": "churn",
            "project": "retention",
            "tier": "critical",
            "owner": "growth",
            "description": "predicts churn",
            "metadata": {"b": "2", "intended_use": "offers"},
            "monitor": "grafana",
        },
        "version": {
            "number": 3,
            "author": "user:bob",
            "created_at": "2026-03-01T12:00:00.250000Z",
            "run_id": "5" * 32,
            "description": "v3",
            "metadata": {"k": "v"},
            "has_signature": True,
            "environments": ["dev", "staging"],
            "promoted_to": ["dev", "staging"],
        },
        "package": {"signed": True, "digest": "d" * 64, "sbom": True},
        "evaluation": {
            "verdict": "pass",
            "comparison_id": "6" * 32,
            "baseline_version": 2,
            "baseline_is_current": True,
            "reasons": [],
        },
        "data_validation": [],
        "model_card": {"completeness": 0.83, "missing": ["limitations"]},
        "approvals": [
            {
                "reviewer": "user:carol",
                "approved_at": "2026-03-01T12:00:00.250000Z",
                "expires_at": "2026-03-31T12:00:00.250000Z",
            }
        ],
        "exceptions": [
            {"id": "4" * 32, "gate": "evaluation", "expires_at": "2026-03-03T12:00:00.250000Z"}
        ],
        "current": {"version": 2},
    }
    # Pure: the same facts give the same bytes.
    assert document_sha256(document) == document_sha256(build_input_document(_facts()))
    assert rfc3339(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {
            "previous_environment": None,
            "package_digest": None,
            "evaluation": EvaluationFacts(reasons=("never compared",)),
            "approvals": (),
            "exceptions": (),
            "current_version": None,
            "environments": (),
            "promoted_to": (),
            "card_completeness": 0.0,
        },
        {"evaluation": EvaluationFacts(False, "6" * 32, 1, False, ("roc_auc fell",))},
        {"data_validation": ({"contract": "customers", "passed": True},)},
    ],
)
def test_the_input_document_validates_against_the_published_schema(
    changes: dict[str, object],
) -> None:
    document = build_input_document(_facts(**changes))
    validator = jsonschema.Draft202012Validator(
        _schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(document), key=str)
    assert not errors, [e.message for e in errors]
    broken = {**document, "surprise": True}
    assert list(validator.iter_errors(broken))
