"""Promotion requests and their state machine, approvals with an expiry, the gate decisions
stored as evidence, and a model's governance settings (risk tier and monitor).

A request asks for one version to enter (or, for a retirement, leave) one environment. It is
evaluated when opened, after every approval and on an explicit check, and promotes itself the
moment a decision allows it. Its status moves only along `TRANSITIONS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NewType

from lockgate.domain.audit import JsonValue
from lockgate.domain.errors import ConflictError, InvalidInputError
from lockgate.domain.governance.decisions import GateResult, PolicyDecision
from lockgate.domain.governance.tiers import RiskTier
from lockgate.domain.identity import Actor
from lockgate.domain.names import check_text
from lockgate.domain.registry import ModelId
from lockgate.domain.tracking import ProjectId

__all__ = [
    "MAX_COMMENT_LENGTH",
    "MAX_MONITOR_LENGTH",
    "MAX_REASON_LENGTH",
    "TRANSITIONS",
    "Approval",
    "DecisionTrigger",
    "GateDecision",
    "GovernanceRules",
    "ModelGovernance",
    "PromotionDetail",
    "PromotionRequest",
    "PromotionRequestId",
    "RequestKind",
    "RequestStatus",
    "check_comment",
    "check_monitor",
    "check_reason",
    "gate_results_document",
    "parse_tier",
    "read_gate_results",
    "valid_approvals",
]

PromotionRequestId = NewType("PromotionRequestId", str)

MAX_REASON_LENGTH = 2000
MAX_COMMENT_LENGTH = 2000
MAX_MONITOR_LENGTH = 1024


class RequestKind(StrEnum):
    """What a request asks for: a version entering an environment, or leaving it."""

    PROMOTION = "promotion"
    RETIREMENT = "retirement"


class RequestStatus(StrEnum):
    """Where a request stands. Only `open` requests change; the others are final."""

    OPEN = "open"
    PROMOTED = "promoted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return not TRANSITIONS[self]


TRANSITIONS: Mapping[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.OPEN: frozenset(
        {RequestStatus.PROMOTED, RequestStatus.REJECTED, RequestStatus.CANCELLED}
    ),
    RequestStatus.PROMOTED: frozenset(),
    RequestStatus.REJECTED: frozenset(),
    RequestStatus.CANCELLED: frozenset(),
}
"""The allowed moves of a request's status; anything else is a ConflictError."""


class DecisionTrigger(StrEnum):
    """Why the gates were evaluated."""

    OPENED = "opened"
    APPROVED = "approved"
    CHECKED = "checked"


@dataclass(frozen=True, slots=True)
class GovernanceRules:
    """Platform-wide rules: how long an approval counts, and how far ahead an exception may
    expire."""

    approval_ttl: timedelta = timedelta(days=30)
    exception_max: timedelta = timedelta(days=90)


def check_reason(reason: str, *, field: str = "reason") -> str:
    """Why someone asks: required, bounded free text."""
    if not reason.strip():
        raise InvalidInputError(f"{field} is required: say why", field=field)
    return check_text(reason, field=field, max_length=MAX_REASON_LENGTH)


def check_comment(comment: str, *, required: bool, field: str = "comment") -> str:
    """A reviewer's comment; `required` for a rejection."""
    if required and not comment.strip():
        raise InvalidInputError(f"{field} is required: say why", field=field)
    return check_text(comment, field=field, max_length=MAX_COMMENT_LENGTH)


def check_monitor(monitor: str | None) -> str | None:
    """The name or URL of the monitor watching a model, or None when it has none."""
    if monitor is None:
        return None
    if not monitor.strip():
        raise InvalidInputError("monitor is blank: give one, or none", field="monitor")
    return check_text(monitor.strip(), field="monitor", max_length=MAX_MONITOR_LENGTH)


def parse_tier(value: str, *, field: str = "tier") -> RiskTier:
    """A risk tier by name; InvalidInputError names the tiers."""
    try:
        return RiskTier(value)
    except ValueError:
        names = ", ".join(t.value for t in RiskTier)
        raise InvalidInputError(f"tier {value!r} is not one of {names}", field=field) from None


@dataclass(frozen=True, slots=True)
class ModelGovernance:
    """A registered model's risk tier and monitor. `row_version` 0 means nothing was ever set
    (the model has the default tier, medium, and no monitor)."""

    model_id: ModelId
    model_name: str
    tier: RiskTier = RiskTier.MEDIUM
    monitor: str | None = None
    updated_at: datetime | None = None
    updated_by: Actor | None = None
    row_version: int = 0


@dataclass(frozen=True, slots=True)
class PromotionRequest:
    """A request for version `version` of a model to enter (or leave) `environment`.

    `closed_*` and `comment` are set when it leaves `open`. `row_version` grows with every
    change to the request (an approval, an evaluation, a close), so a stale writer is refused.
    """

    id: PromotionRequestId
    project_id: ProjectId
    model_id: ModelId
    model_name: str
    version: int
    environment: str
    kind: RequestKind
    status: RequestStatus
    reason: str
    requested_by: Actor
    requested_at: datetime
    closed_at: datetime | None = None
    closed_by: Actor | None = None
    comment: str = ""
    row_version: int = 1

    @property
    def subject(self) -> str:
        """The audit subject id of the version: `name/version`."""
        return f"{self.model_name}/{self.version}"

    def close(
        self, status: RequestStatus, *, at: datetime, by: Actor, comment: str = ""
    ) -> PromotionRequest:
        """This request moved to a final status; ConflictError when the move is not allowed."""
        if status not in TRANSITIONS[self.status]:
            raise ConflictError(
                f"promotion request {self.id} is {self.status}; it cannot become {status}"
            )
        return replace(self, status=status, closed_at=at, closed_by=by, comment=comment)

    def require_open(self) -> None:
        """Raises ConflictError unless the request is still open."""
        if self.status is not RequestStatus.OPEN:
            raise ConflictError(f"promotion request {self.id} is {self.status}, not open")


@dataclass(frozen=True, slots=True)
class Approval:
    """One reviewer's approval of a request; it counts until `expires_at`."""

    id: str
    request_id: PromotionRequestId
    reviewer: Actor
    approved_at: datetime
    expires_at: datetime
    comment: str = ""

    def is_valid_at(self, moment: datetime) -> bool:
        return moment < self.expires_at


def valid_approvals(
    approvals: Iterable[Approval], at: datetime, ineligible: Iterable[Actor] = ()
) -> list[Approval]:
    """The approvals that count at `at`: unexpired, by an eligible reviewer, one per reviewer
    (the latest), ordered by time."""
    barred = set(ineligible)
    latest: dict[Actor, Approval] = {}
    for approval in approvals:
        if approval.reviewer in barred or not approval.is_valid_at(at):
            continue
        held = latest.get(approval.reviewer)
        if held is None or held.approved_at < approval.approved_at:
            latest[approval.reviewer] = approval
    return sorted(latest.values(), key=lambda a: (a.approved_at, a.reviewer))


@dataclass(frozen=True, slots=True)
class GateDecision:
    """One evaluation of a request's gates, kept as evidence: the input document exactly as
    the policies saw it, and the decision (per-gate results, input sha256, policy digest)."""

    id: str
    request_id: PromotionRequestId
    project_id: ProjectId
    model_id: ModelId
    model_name: str
    version: int
    environment: str
    trigger: DecisionTrigger
    decided_at: datetime
    decided_by: Actor
    decision: PolicyDecision
    input_document: Mapping[str, JsonValue]

    @property
    def allowed(self) -> bool:
        return self.decision.allowed


@dataclass(frozen=True, slots=True)
class PromotionDetail:
    """A request with its approvals and its latest gate decision, as seen at `as_of`."""

    request: PromotionRequest
    approvals: tuple[Approval, ...]
    decision: GateDecision | None
    as_of: datetime


def gate_results_document(results: Iterable[GateResult]) -> list[JsonValue]:
    """Gate results as a JSON document, in order (what a gate decision stores)."""
    return [
        {
            "gate": result.gate,
            "source": result.source,
            "passed": result.passed,
            "reasons": list(result.reasons),
            "error": result.error,
            "waived_by": result.waived_by,
        }
        for result in results
    ]


def read_gate_results(document: object) -> tuple[GateResult, ...]:
    """The gate results of a stored document (the inverse of `gate_results_document`)."""
    if not isinstance(document, Sequence):
        raise ValueError("gate results are a list")
    results = []
    for item in document:
        if not isinstance(item, Mapping):
            raise ValueError("a gate result is an object")
        results.append(
            GateResult(
                gate=str(item["gate"]),
                source=str(item["source"]),
                passed=bool(item["passed"]),
                reasons=tuple(str(reason) for reason in item.get("reasons", ())),
                error=None if item.get("error") is None else str(item["error"]),
                waived_by=None if item.get("waived_by") is None else str(item["waived_by"]),
            )
        )
    return tuple(results)
