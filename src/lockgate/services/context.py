"""What every service is built with: the unit of work factory, the clock, the id factory and
the policy point, and the one way a service records an audit event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType

from lockgate.domain.access import Caller, Permission
from lockgate.domain.audit import AuditDraft, JsonValue
from lockgate.domain.identity import Actor, Clock, IdFactory
from lockgate.domain.names import check_name
from lockgate.domain.registry import RegisteredModel
from lockgate.services.access import AccessDenied, AccessPolicy
from lockgate.store.protocols import UnitOfWork, UnitOfWorkFactory

__all__ = ["ServiceContext"]


@dataclass(frozen=True, slots=True)
class ServiceContext:
    """Shared dependencies of the services, chosen by the composition root."""

    units: UnitOfWorkFactory
    clock: Clock
    ids: IdFactory
    access: AccessPolicy = field(default_factory=AccessPolicy)

    def uow(self, *, read_only: bool = False) -> _RecordingDenials:
        """A unit of work; a refusal of the policy point inside it is recorded in the audit
        log once the refused transaction has rolled back."""
        return _RecordingDenials(self, self.units(read_only=read_only))

    def authorize(
        self,
        uow: UnitOfWork,
        caller: Caller,
        permission: Permission,
        *,
        project_id: str | None = None,
        principal_id: str | None = None,
        subject: tuple[str, str] | None = None,
    ) -> None:
        """Ask the policy point; raises AccessDenied (a PermissionDeniedError)."""
        self.access.require(
            uow,
            caller,
            permission,
            project_id=project_id,
            principal_id=principal_id,
            subject=subject,
        )

    def authorized_model(
        self, uow: UnitOfWork, caller: Caller, name: str, permission: Permission
    ) -> RegisteredModel:
        """The registered model `name`, once the policy point let `caller` exercise
        `permission` on its project; raises NotFoundError or AccessDenied."""
        model = uow.models.get_model(check_name(name, field="model"))
        self.authorize(
            uow, caller, permission, project_id=model.project_id, subject=("model", model.name)
        )
        return model

    def record(
        self,
        uow: UnitOfWork,
        action: str,
        actor: Actor | Caller,
        subject: tuple[str, str],
        details: Mapping[str, JsonValue] | None = None,
    ) -> None:
        """Append an audit event inside the caller's unit of work (same transaction)."""
        name = actor.actor if isinstance(actor, Caller) else actor
        draft = AuditDraft(action, name, subject[0], subject[1], dict(details or {}))
        uow.audit.append(draft, event_id=self.ids.new_id(), at=self.clock.now())

    def _record_denial(self, denied: AccessDenied) -> None:
        details: dict[str, JsonValue] = {
            "permission": denied.permission.value,
            "reason": denied.message,
        }
        with self.units() as unit:
            self.record(unit, "access.denied", denied.caller, denied.subject, details)
            unit.commit()


class _RecordingDenials:
    """The context manager of `ServiceContext.uow` (a class: a generator-based one costs
    more than the rest of a small unit of work's Python)."""

    __slots__ = ("_context", "_unit")

    def __init__(self, context: ServiceContext, unit: UnitOfWork) -> None:
        self._context = context
        self._unit = unit

    def __enter__(self) -> UnitOfWork:
        return self._unit.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._unit.__exit__(exc_type, exc, tb)
        if isinstance(exc, AccessDenied):
            self._context._record_denial(exc)
