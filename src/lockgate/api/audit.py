"""Wire schemas for the audit log and its verification."""

from __future__ import annotations

from typing import Any

from lockgate.api.common import ApiModel, UtcDatetime
from lockgate.domain.audit import AuditEvent, ChainVerdict

__all__ = ["AuditEventOut", "ChainVerdictOut"]


class AuditEventOut(ApiModel):
    seq: int
    id: str
    occurred_at: UtcDatetime
    action: str
    actor: str
    subject_type: str
    subject_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def from_domain(cls, event: AuditEvent) -> AuditEventOut:
        return cls(
            seq=event.seq,
            id=event.id,
            occurred_at=event.occurred_at,
            action=event.action,
            actor=event.actor,
            subject_type=event.subject_type,
            subject_id=event.subject_id,
            details=dict(event.details),
            prev_hash=event.prev_hash,
            hash=event.hash,
        )


class ChainVerdictOut(ApiModel):
    """Whether the audit chain is intact; otherwise the first bad event and why."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None

    @classmethod
    def from_domain(cls, verdict: ChainVerdict) -> ChainVerdictOut:
        return cls(
            ok=verdict.ok,
            checked=verdict.checked,
            first_bad_seq=verdict.first_bad_seq,
            reason=verdict.reason,
        )
