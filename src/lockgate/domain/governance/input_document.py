"""The policy input document: everything the gates may look at, built from plain facts.

The document is versioned (`"schema": 1`) and documented as a JSON Schema
(`docs/reference/policy-input.md`). Building it is pure: the service gathers the facts in one
transaction, this module only arranges them, so the same facts always give the same document
and the same sha256.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lockgate.domain.audit import JsonValue
from lockgate.domain.governance.environments import Environment
from lockgate.domain.governance.exceptions import GateException
from lockgate.domain.governance.promotions import Approval, ModelGovernance, PromotionRequest
from lockgate.domain.registry import ModelVersion, RegisteredModel

__all__ = [
    "INPUT_SCHEMA_VERSION",
    "EvaluationFacts",
    "PromotionFacts",
    "build_input_document",
    "rfc3339",
]

INPUT_SCHEMA_VERSION = 1


def rfc3339(moment: datetime) -> str:
    """A UTC time as RFC 3339 text with a `Z`, to the microsecond when it has them."""
    text = moment.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


@dataclass(frozen=True, slots=True)
class EvaluationFacts:
    """The comparison that speaks for a version: `verdict` True (pass), False (fail) or None
    (no comparison). `baseline_is_current` says whether its baseline is the version it should
    beat now (the one in the last environment, or the champion)."""

    verdict: bool | None = None
    comparison_id: str | None = None
    baseline_version: int | None = None
    baseline_is_current: bool = False
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PromotionFacts:
    """What is known about a request when its gates are evaluated.

    `approvals` and `exceptions` hold only those that count now (valid approvals, one per
    eligible reviewer; active exceptions for this version and environment).
    `package_digest` is the signed manifest's sha256, None when the version has no signed
    package. `environments` are where the version is current now, `promoted_to` every
    environment it was ever promoted into. `current_version` is the version current in the
    target environment.
    """

    request: PromotionRequest
    environment: Environment
    previous_environment: str | None
    model: RegisteredModel
    governance: ModelGovernance
    version: ModelVersion
    package_digest: str | None
    environments: tuple[str, ...]
    promoted_to: tuple[str, ...]
    evaluation: EvaluationFacts
    card_completeness: float
    card_missing: tuple[str, ...]
    approvals: tuple[Approval, ...]
    exceptions: tuple[GateException, ...]
    current_version: int | None
    data_validation: tuple[Mapping[str, JsonValue], ...] = field(default=())


def build_input_document(facts: PromotionFacts) -> dict[str, JsonValue]:
    """The input document the gate policies evaluate (schema 1)."""
    return {
        "schema": INPUT_SCHEMA_VERSION,
        "request": _request(facts.request),
        "environment": {
            "name": facts.environment.name,
            "order": facts.environment.order,
            "previous": facts.previous_environment,
        },
        "model": _model(facts.model, facts.governance),
        "version": _version(facts),
        "package": {
            "signed": facts.package_digest is not None,
            "digest": facts.package_digest,
            # The SBOM is derived from the signed manifest, so a signed package has one.
            "sbom": facts.package_digest is not None,
        },
        "evaluation": _evaluation(facts.evaluation),
        "data_validation": [dict(result) for result in facts.data_validation],
        "model_card": {
            "completeness": facts.card_completeness,
            "missing": list(facts.card_missing),
        },
        "approvals": [
            {
                "reviewer": approval.reviewer,
                "approved_at": rfc3339(approval.approved_at),
                "expires_at": rfc3339(approval.expires_at),
            }
            for approval in facts.approvals
        ],
        "exceptions": [
            {
                "id": exception.id,
                "gate": exception.gate,
                "expires_at": rfc3339(exception.expires_at),
            }
            for exception in facts.exceptions
        ],
        "current": {"version": facts.current_version},
    }


def _request(request: PromotionRequest) -> dict[str, JsonValue]:
    return {
        "id": request.id,
        "kind": request.kind.value,
        "requested_by": request.requested_by,
        "requested_at": rfc3339(request.requested_at),
        "reason": request.reason,
    }


def _model(model: RegisteredModel, governance: ModelGovernance) -> dict[str, JsonValue]:
    return {
        "name": model.name,
        "project": model.project_name,
        "tier": governance.tier.value,
        "owner": model.owner,
        "description": model.description,
        "metadata": dict(sorted(model.metadata.items())),
        "monitor": governance.monitor,
    }


def _version(facts: PromotionFacts) -> dict[str, JsonValue]:
    version = facts.version
    return {
        "number": version.version,
        "author": version.created_by,
        "created_at": rfc3339(version.created_at),
        "run_id": version.run_id,
        "description": version.description,
        "metadata": dict(sorted(version.metadata.items())),
        "has_signature": version.signature is not None,
        "environments": _names(facts.environments),
        "promoted_to": _names(facts.promoted_to),
    }


def _evaluation(evaluation: EvaluationFacts) -> dict[str, JsonValue]:
    verdict = None if evaluation.verdict is None else ("pass" if evaluation.verdict else "fail")
    return {
        "verdict": verdict,
        "comparison_id": evaluation.comparison_id,
        "baseline_version": evaluation.baseline_version,
        "baseline_is_current": evaluation.baseline_is_current,
        "reasons": list(evaluation.reasons),
    }


def _names(names: Sequence[str]) -> list[str]:
    return sorted(set(names))
