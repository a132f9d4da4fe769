"""Wire schemas for the audit log and its verification."""

from __future__ import annotations

from typing import Any

from lockgate.api.common import ApiModel, UtcDatetime

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


class ChainVerdictOut(ApiModel):
    """Whether the audit chain is intact; otherwise the first bad event and why."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
