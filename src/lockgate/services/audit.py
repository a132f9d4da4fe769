"""Audit use cases: read the log and verify its hash chain."""

from __future__ import annotations

from lockgate.domain.access import Caller, Permission
from lockgate.domain.audit import AuditEvent, ChainVerdict, verify_chain
from lockgate.domain.errors import InvalidInputError
from lockgate.services.context import ServiceContext

__all__ = ["AuditService"]

MAX_EVENTS_PAGE = 1000


class AuditService:
    """The tamper-evident audit log."""

    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    def list_events(
        self,
        caller: Caller,
        after_seq: int,
        limit: int,
        subject_type: str | None = None,
        subject_id: str | None = None,
    ) -> list[AuditEvent]:
        """Events after a sequence number, oldest first, optionally about one subject."""
        if after_seq < 0:
            raise InvalidInputError("after_seq must not be negative", field="after_seq")
        if not 1 <= limit <= MAX_EVENTS_PAGE:
            raise InvalidInputError(f"limit must be 1 to {MAX_EVENTS_PAGE}", field="limit")
        if (subject_type is None) != (subject_id is None):
            raise InvalidInputError(
                "give subject_type and subject_id together",
                field="subject_id" if subject_id is None else "subject_type",
            )
        with self._ctx.uow(read_only=True) as uow:
            self._ctx.authorize(uow, caller, Permission.AUDIT_READ, subject=("audit", "events"))
            return uow.audit.list_events(after_seq, limit, subject_type, subject_id)

    def verify(self, caller: Caller) -> ChainVerdict:
        """Recompute the whole chain and name the first event that breaks it."""
        with self._ctx.uow(read_only=True) as uow:
            self._ctx.authorize(uow, caller, Permission.AUDIT_READ, subject=("audit", "chain"))
            return verify_chain(uow.audit.stored_events(), uow.audit.head())
