"""Gate exception use cases: requesting a waiver of one gate for one version in one
environment, approving it (never by its requester), revoking it, and listing a version's
exceptions. Each is governed and audited; an exception waives a failed gate only while it is
active and unexpired (the promotion gates apply it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from lockgate.domain.access import Caller, Permission
from lockgate.domain.governance.exceptions import (
    ExceptionStatus,
    GateException,
    GateExceptionId,
    check_expiry,
    check_gate,
    check_justification,
)
from lockgate.domain.governance.promotions import GovernanceRules, check_comment
from lockgate.domain.identity import check_id
from lockgate.domain.names import check_alias
from lockgate.services.access import AccessDenied
from lockgate.services.context import ServiceContext
from lockgate.store.protocols import UnitOfWork

__all__ = ["GateExceptionService"]


class GateExceptionService:
    """Gate exceptions: requested (`promotion.request`), approved and revoked
    (`version.approve`, never by the requester), each with an audit event.

    Args:
        rules: `exception_max` bounds how far ahead an exception may expire.
    """

    def __init__(self, context: ServiceContext, rules: GovernanceRules | None = None) -> None:
        self._ctx = context
        self._rules = rules or GovernanceRules()

    def request(
        self,
        caller: Caller,
        model_name: str,
        version: int,
        environment: str,
        gate: str,
        justification: str,
        expires_at: datetime,
    ) -> GateException:
        """Ask for gate `gate` to be waived for a version in an environment until
        `expires_at` (at most `exception_max` ahead). It waives nothing until approved.

        Raises:
            InvalidInputError: A bad gate name, a blank justification, an expiry in the past
                or too far ahead (`field` says which).
            NotFoundError: The model, version or environment does not exist.
        """
        check_alias(environment, field="environment")
        check_gate(gate)
        check_justification(justification)
        now = self._ctx.clock.now()
        check_expiry(expires_at, now=now, longest=self._rules.exception_max)
        with self._ctx.uow() as uow:
            model = self._ctx.authorized_model(
                uow, caller, model_name, Permission.PROMOTION_REQUEST
            )
            uow.models.get_version(model.name, version)
            uow.environments.get_environment(environment)
            exception = GateException(
                id=GateExceptionId(self._ctx.ids.new_id()),
                project_id=model.project_id,
                model_id=model.id,
                model_name=model.name,
                version=version,
                environment=environment,
                gate=gate,
                justification=justification,
                requested_by=caller.actor,
                requested_at=now,
                expires_at=expires_at,
            )
            uow.promotions.add_exception(exception)
            self._ctx.record(
                uow,
                "exception.requested",
                caller,
                ("model_version", exception.subject),
                {
                    "exception_id": exception.id,
                    "environment": environment,
                    "gate": gate,
                    "justification": justification,
                    "expires_at": expires_at.isoformat(),
                },
            )
            uow.commit()
        return exception

    def approve(self, caller: Caller, exception_id: str, comment: str = "") -> GateException:
        """Approve a requested exception: it waives its gate until it expires.

        Raises:
            PermissionDeniedError: The caller lacks `version.approve` or requested it.
            ConflictError: It is not requested any more (active, revoked or expired).
        """
        check_id(exception_id, field="exception_id")
        check_comment(comment, required=False)
        with self._ctx.uow() as uow:
            exception = self._exception(uow, caller, exception_id, Permission.VERSION_APPROVE)
            if caller.actor == exception.requested_by:
                raise AccessDenied(
                    f"permission denied: {caller.actor} requested exception {exception.id}; "
                    "a requester cannot approve their own exception (separation of duties)",
                    caller=caller,
                    permission=Permission.VERSION_APPROVE,
                    subject=("model_version", exception.subject),
                )
            now = self._ctx.clock.now()
            approved = exception.approve(by=caller.actor, at=now)
            approved = replace(approved, row_version=exception.row_version + 1)
            uow.promotions.save_exception(approved)
            self._ctx.record(
                uow,
                "exception.approved",
                caller,
                ("model_version", exception.subject),
                {
                    "exception_id": exception.id,
                    "environment": exception.environment,
                    "gate": exception.gate,
                    "expires_at": exception.expires_at.isoformat(),
                    "comment": comment,
                },
            )
            uow.commit()
        return approved

    def revoke(self, caller: Caller, exception_id: str, reason: str) -> GateException:
        """Revoke an exception (requested or active) with a reason; it waives nothing after.

        Raises:
            InvalidInputError: The reason is blank (`field` is `reason`).
            ConflictError: It is revoked or expired already.
        """
        check_id(exception_id, field="exception_id")
        check_comment(reason, required=True, field="reason")
        with self._ctx.uow() as uow:
            exception = self._exception(uow, caller, exception_id, Permission.VERSION_APPROVE)
            revoked = exception.revoke(by=caller.actor, at=self._ctx.clock.now(), reason=reason)
            revoked = replace(revoked, row_version=exception.row_version + 1)
            uow.promotions.save_exception(revoked)
            self._ctx.record(
                uow,
                "exception.revoked",
                caller,
                ("model_version", exception.subject),
                {
                    "exception_id": exception.id,
                    "environment": exception.environment,
                    "gate": exception.gate,
                    "reason": reason,
                },
            )
            uow.commit()
        return revoked

    def get(self, caller: Caller, exception_id: str) -> GateException:
        """One exception, its status as of now; raises NotFoundError."""
        check_id(exception_id, field="exception_id")
        with self._ctx.uow(read_only=True) as uow:
            exception = self._exception(
                uow, caller, exception_id, Permission.PROJECT_READ, for_update=False
            )
            return exception.as_of(self._ctx.clock.now())

    def list_exceptions(
        self,
        caller: Caller,
        model_name: str,
        version: int | None = None,
        status: ExceptionStatus | None = None,
    ) -> list[GateException]:
        """The exceptions of a model (of one version), oldest first, as of now; only those
        with `status` when given."""
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            if version is not None:
                uow.models.get_version(model.name, version)
            now = self._ctx.clock.now()
            found = [e.as_of(now) for e in uow.promotions.exceptions(model.id, version)]
        return [e for e in found if status is None or e.status is status]

    def _exception(
        self,
        uow: UnitOfWork,
        caller: Caller,
        exception_id: str,
        permission: Permission,
        *,
        for_update: bool = True,
    ) -> GateException:
        exception = uow.promotions.get_exception(
            GateExceptionId(exception_id), for_update=for_update
        )
        self._ctx.authorize(
            uow,
            caller,
            permission,
            project_id=exception.project_id,
            subject=("model_version", exception.subject),
        )
        return exception
