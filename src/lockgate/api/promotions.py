"""Wire schemas for environments, risk tiers, promotion requests with their approvals and gate
decisions, the history of what was current where, and gate exceptions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from lockgate.api.common import ApiModel, UtcDatetime
from lockgate.api.limits import AliasText
from lockgate.domain.governance.decisions import GateResult
from lockgate.domain.governance.environments import (
    MAX_ENVIRONMENT_ORDER,
    CurrentVersion,
    Environment,
    EnvironmentChange,
)
from lockgate.domain.governance.exceptions import (
    MAX_JUSTIFICATION_LENGTH,
    ExceptionStatus,
    GateException,
)
from lockgate.domain.governance.promotions import (
    MAX_COMMENT_LENGTH,
    MAX_MONITOR_LENGTH,
    MAX_REASON_LENGTH,
    Approval,
    DecisionTrigger,
    GateDecision,
    ModelGovernance,
    PromotionDetail,
    PromotionRequest,
    RequestKind,
    RequestStatus,
)
from lockgate.domain.governance.tiers import RiskTier

__all__ = [
    "ApprovalOut",
    "CommentIn",
    "CurrentVersionOut",
    "EnvironmentChangeOut",
    "EnvironmentIn",
    "EnvironmentOut",
    "ExceptionIn",
    "ExceptionOut",
    "GateDecisionOut",
    "GateResultOut",
    "GovernanceIn",
    "GovernanceOut",
    "PromotionDetailOut",
    "PromotionIn",
    "PromotionOut",
    "RejectionIn",
    "RevocationIn",
]

ReasonText = Annotated[str, Field(max_length=MAX_REASON_LENGTH)]
CommentText = Annotated[str, Field(max_length=MAX_COMMENT_LENGTH)]
GateText = Annotated[str, Field(max_length=64, json_schema_extra={"pattern": "^[a-z][a-z0-9_]*$"})]


class EnvironmentIn(ApiModel):
    """Define an environment: its name (also the alias of its current versions) and order."""

    name: AliasText
    order: Annotated[int, Field(ge=1, le=MAX_ENVIRONMENT_ORDER)]
    description: Annotated[str, Field(max_length=1024)] = ""


class EnvironmentOut(ApiModel):
    name: str
    order: int
    description: str
    created_at: UtcDatetime
    created_by: str

    @classmethod
    def from_domain(cls, environment: Environment) -> EnvironmentOut:
        return cls(
            name=environment.name,
            order=environment.order,
            description=environment.description,
            created_at=environment.created_at,
            created_by=environment.created_by,
        )


class CurrentVersionOut(ApiModel):
    """The version of a model current in one environment, since when, and by which request."""

    model: str
    environment: str
    version: int
    since: UtcDatetime
    request_id: str | None

    @classmethod
    def from_domain(cls, current: CurrentVersion) -> CurrentVersionOut:
        return cls(
            model=current.model_name,
            environment=current.environment,
            version=current.version,
            since=current.since,
            request_id=current.request_id,
        )


class EnvironmentChangeOut(ApiModel):
    """One move of an environment's current version: `version` null when the model left it;
    `requested_by` asked, `changed_by` made it happen, `reason` is the request's."""

    id: str
    model: str
    environment: str
    version: int | None
    previous_version: int | None
    request_id: str | None
    decision_id: str | None
    reason: str
    requested_by: str
    changed_at: UtcDatetime
    changed_by: str

    @classmethod
    def from_domain(cls, change: EnvironmentChange) -> EnvironmentChangeOut:
        return cls(
            id=change.id,
            model=change.model_name,
            environment=change.environment,
            version=change.version,
            previous_version=change.previous_version,
            request_id=change.request_id,
            decision_id=change.decision_id,
            reason=change.reason,
            requested_by=change.requested_by,
            changed_at=change.changed_at,
            changed_by=change.changed_by,
        )


class GovernanceIn(ApiModel):
    """A model's risk tier and the monitor watching it (null: none)."""

    tier: RiskTier
    monitor: Annotated[str, Field(max_length=MAX_MONITOR_LENGTH)] | None = None


class GovernanceOut(ApiModel):
    model: str
    tier: RiskTier
    monitor: str | None
    updated_at: UtcDatetime | None
    updated_by: str | None

    @classmethod
    def from_domain(cls, governance: ModelGovernance) -> GovernanceOut:
        return cls(
            model=governance.model_name,
            tier=governance.tier,
            monitor=governance.monitor,
            updated_at=governance.updated_at,
            updated_by=governance.updated_by,
        )


class PromotionIn(ApiModel):
    """Ask for the version in the path to enter `environment`, saying why."""

    environment: AliasText
    reason: ReasonText


class CommentIn(ApiModel):
    """An optional comment (an approval, a cancellation)."""

    comment: CommentText = ""


class RejectionIn(ApiModel):
    """A rejection says why."""

    comment: CommentText


class GateResultOut(ApiModel):
    """One gate's answer: `reasons` it denied, the policy `error` that kept it from being
    evaluated (always blocking), or the exception that `waived_by` its failure."""

    gate: str
    source: str
    passed: bool
    reasons: list[str]
    error: str | None
    waived_by: str | None
    blocking: bool

    @classmethod
    def from_domain(cls, result: GateResult) -> GateResultOut:
        return cls(
            gate=result.gate,
            source=result.source,
            passed=result.passed,
            reasons=list(result.reasons),
            error=result.error,
            waived_by=result.waived_by,
            blocking=result.is_blocking,
        )


class GateDecisionOut(ApiModel):
    """One evaluation of a request's gates, as stored for evidence: the input document the
    policies saw (`input`, whose canonical JSON hashes to `input_sha256`), the digest of the
    policies, and each gate's result."""

    id: str
    request_id: str
    model: str
    version: int
    environment: str
    trigger: DecisionTrigger
    decided_at: UtcDatetime
    decided_by: str
    allowed: bool
    deny_reasons: list[str]
    input_sha256: str
    policy_digest: str
    results: list[GateResultOut]
    input: dict[str, Any]

    @classmethod
    def from_domain(cls, decision: GateDecision) -> GateDecisionOut:
        verdict = decision.decision
        return cls(
            id=decision.id,
            request_id=decision.request_id,
            model=decision.model_name,
            version=decision.version,
            environment=decision.environment,
            trigger=decision.trigger,
            decided_at=decision.decided_at,
            decided_by=decision.decided_by,
            allowed=verdict.allowed,
            deny_reasons=verdict.deny_reasons(),
            input_sha256=verdict.input_sha256,
            policy_digest=verdict.policy_digest,
            results=[GateResultOut.from_domain(r) for r in verdict.results],
            input=dict(decision.input_document),
        )


class PromotionOut(ApiModel):
    """A promotion request: `status` open, promoted, rejected or cancelled."""

    id: str
    model: str
    version: int
    environment: str
    kind: RequestKind
    status: RequestStatus
    reason: str
    requested_by: str
    requested_at: UtcDatetime
    closed_at: UtcDatetime | None
    closed_by: str | None
    comment: str

    @classmethod
    def from_domain(cls, request: PromotionRequest) -> PromotionOut:
        return cls(
            id=request.id,
            model=request.model_name,
            version=request.version,
            environment=request.environment,
            kind=request.kind,
            status=request.status,
            reason=request.reason,
            requested_by=request.requested_by,
            requested_at=request.requested_at,
            closed_at=request.closed_at,
            closed_by=request.closed_by,
            comment=request.comment,
        )


class ApprovalOut(ApiModel):
    """A reviewer's approval; it counts until `expires_at` (`expired` as of the response)."""

    id: str
    reviewer: str
    approved_at: UtcDatetime
    expires_at: UtcDatetime
    expired: bool
    comment: str

    @classmethod
    def from_domain(cls, approval: Approval, as_of: datetime) -> ApprovalOut:
        return cls(
            id=approval.id,
            reviewer=approval.reviewer,
            approved_at=approval.approved_at,
            expires_at=approval.expires_at,
            expired=not approval.is_valid_at(as_of),
            comment=approval.comment,
        )


class PromotionDetailOut(ApiModel):
    """A request with its approvals and its latest gate decision (`decision`; null before
    the first evaluation)."""

    request: PromotionOut
    approvals: list[ApprovalOut]
    decision: GateDecisionOut | None

    @classmethod
    def from_domain(cls, detail: PromotionDetail) -> PromotionDetailOut:
        return cls(
            request=PromotionOut.from_domain(detail.request),
            approvals=[ApprovalOut.from_domain(a, detail.as_of) for a in detail.approvals],
            decision=None
            if detail.decision is None
            else GateDecisionOut.from_domain(detail.decision),
        )


class ExceptionIn(ApiModel):
    """Ask for gate `gate` to be waived for the version in the path in `environment` until
    `expires_at`, saying why."""

    environment: AliasText
    gate: GateText
    justification: Annotated[str, Field(max_length=MAX_JUSTIFICATION_LENGTH)]
    expires_at: UtcDatetime


class RevocationIn(ApiModel):
    """A revocation says why."""

    reason: CommentText


class ExceptionOut(ApiModel):
    """A gate exception: `status` requested, active, revoked or expired (as of the
    response)."""

    id: str
    model: str
    version: int
    environment: str
    gate: str
    justification: str
    status: ExceptionStatus
    requested_by: str
    requested_at: UtcDatetime
    expires_at: UtcDatetime
    approved_by: str | None
    approved_at: UtcDatetime | None
    revoked_by: str | None
    revoked_at: UtcDatetime | None
    revoke_reason: str

    @classmethod
    def from_domain(cls, exception: GateException) -> ExceptionOut:
        return cls(
            id=exception.id,
            model=exception.model_name,
            version=exception.version,
            environment=exception.environment,
            gate=exception.gate,
            justification=exception.justification,
            status=exception.status,
            requested_by=exception.requested_by,
            requested_at=exception.requested_at,
            expires_at=exception.expires_at,
            approved_by=exception.approved_by,
            approved_at=exception.approved_at,
            revoked_by=exception.revoked_by,
            revoked_at=exception.revoked_at,
            revoke_reason=exception.revoke_reason,
        )
