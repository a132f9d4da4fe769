"""The compliance report's arithmetic in isolation: required metadata, the approvals and
policy rules over a promoting decision, and the shares."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lockgate.domain.governance import GateResult, PolicyDecision, RiskTier
from lockgate.domain.governance.compliance import (
    ComplianceReport,
    ModelCompliance,
    Share,
    approvals_per_policy,
    missing_metadata,
    policy_compliant,
)

AT = datetime(2026, 1, 1, tzinfo=UTC)


def decision(*results: GateResult) -> PolicyDecision:
    return PolicyDecision(results, "a" * 64, "b" * 64)


PASS = GateResult("approvals", "builtin", True)
ORDER = GateResult("order", "builtin", True)
WAIVED = GateResult("approvals", "builtin", False, ("needs 1 approval",), waived_by="x1")
FAILED = GateResult("approvals", "builtin", False, ("needs 1 approval",))
ERRORED = GateResult("approvals", "builtin", False, error="boom")
WAIVED_OTHER = GateResult("evaluation", "builtin", False, ("no comparison",), waived_by="x2")


def test_missing_metadata_reads_the_models_fields_then_the_metadata() -> None:
    assert (
        missing_metadata([], owner="ml", description="d", model_metadata={}, version_metadata={})
        == ()
    )
    assert missing_metadata(
        ["intended_use", "owner"],
        owner=" ",
        description="",
        model_metadata={"intended_use": "  "},
        version_metadata={},
    ) == ("description", "intended_use", "owner")
    assert (
        missing_metadata(
            ["intended_use", "data_steward"],
            owner="ml",
            description="d",
            model_metadata={"data_steward": "sam"},
            version_metadata={"intended_use": "retention"},
        )
        == ()
    )


@pytest.mark.parametrize(
    ("results", "approvals", "policy"),
    [
        ((ORDER, PASS), True, True),
        ((ORDER, WAIVED), False, False),
        ((ORDER, PASS, WAIVED_OTHER), True, False),
        ((ORDER, FAILED), False, False),
        ((ORDER, ERRORED), False, False),
        ((ORDER,), False, True),
        ((), False, False),
    ],
)
def test_approvals_and_policy_rules(
    results: tuple[GateResult, ...], approvals: bool, policy: bool
) -> None:
    assert approvals_per_policy(decision(*results)) is approvals
    assert policy_compliant(decision(*results)) is policy


def test_no_decision_meets_neither_rule() -> None:
    assert not approvals_per_policy(None)
    assert not policy_compliant(None)


def row(model: str, **changes: object) -> ModelCompliance:
    values: dict[str, object] = {
        "project": "churn",
        "model": model,
        "version": 1,
        "tier": RiskTier.LOW,
        "since": AT,
        "lineage_gaps": (),
        "metadata_missing": (),
        "card_completeness": 1.0,
        "decision_id": "d",
        "approvals_per_policy": True,
        "policy_compliant": True,
        "active_exceptions": 0,
    }
    values.update(changes)
    return ModelCompliance(**values)  # type: ignore[arg-type]


def test_the_shares_count_each_rule_over_the_production_models() -> None:
    report = ComplianceReport(
        "churn",
        "production",
        AT,
        (
            row("a"),
            row("b", lineage_gaps=("no run",), card_completeness=0.99),
            row("c", metadata_missing=("owner",), policy_compliant=False),
            row("d", approvals_per_policy=False, policy_compliant=False),
        ),
        (),
    )
    assert report.lineage_complete == Share(3, 4)
    assert report.metadata_complete == Share(3, 4)
    assert report.card_complete == Share(3, 4)
    assert report.approvals_per_policy == Share(3, 4)
    assert report.policy_compliant == Share(2, 4)
    assert report.policy_compliant.ratio == 0.5
    assert Share(0, 0).ratio is None
