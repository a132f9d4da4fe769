"""Routes for the audit log and its verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lockgate.api import ERROR_RESPONSES
from lockgate.api.audit import AuditEventOut, ChainVerdictOut
from lockgate.api.limits import MAX_INT64
from lockgate.domain.access import Permission
from lockgate.server.deps import CallerDep, PlatformDep
from lockgate.server.permissions import requires

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)


@router.get("/events", openapi_extra=requires(Permission.AUDIT_READ))
def list_events(
    platform: PlatformDep,
    caller: CallerDep,
    after_seq: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    subject_type: Annotated[str | None, Query(max_length=64)] = None,
    subject_id: Annotated[str | None, Query(max_length=256)] = None,
) -> list[AuditEventOut]:
    """Events after a sequence number, oldest first."""
    events = platform.audit.list_events(caller, after_seq, limit, subject_type, subject_id)
    return [AuditEventOut.from_domain(e) for e in events]


@router.post("/verify", openapi_extra=requires(Permission.AUDIT_READ))
def verify(platform: PlatformDep, caller: CallerDep) -> ChainVerdictOut:
    """Recompute the hash chain; name the first bad event."""
    return ChainVerdictOut.from_domain(platform.audit.verify(caller))
