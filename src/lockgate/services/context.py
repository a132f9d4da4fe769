"""What every service is built with: the unit of work factory, the clock and the id factory,
and the one way a service records an audit event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lockgate.domain.audit import AuditDraft, AuditEvent, JsonValue
from lockgate.domain.identity import Actor, Clock, IdFactory
from lockgate.store.protocols import UnitOfWork, UnitOfWorkFactory

__all__ = ["ServiceContext"]


@dataclass(frozen=True, slots=True)
class ServiceContext:
    """Shared dependencies of the services, chosen by the composition root."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdFactory

    def record(
        self,
        uow: UnitOfWork,
        action: str,
        actor: Actor,
        subject: tuple[str, str],
        details: Mapping[str, JsonValue] | None = None,
    ) -> AuditEvent:
        """Append an audit event inside the caller's unit of work (same transaction)."""
        draft = AuditDraft(action, actor, subject[0], subject[1], dict(details or {}))
        return uow.audit.append(draft, event_id=self.ids.new_id(), at=self.clock.now())
