"""The policy point: every service asks it before acting, and it alone decides.

Deny is the default (`decide` in the domain grants nothing it does not name). A refusal is
raised as `AccessDenied`; the service context records it in the audit log after the refused
transaction has rolled back, so denied attempts are on record with their actor too.
"""

from __future__ import annotations

from lockgate.domain.access import Caller, Permission, decide
from lockgate.domain.errors import PermissionDeniedError
from lockgate.store.protocols import UnitOfWork

__all__ = ["AccessDenied", "AccessPolicy"]


class AccessDenied(PermissionDeniedError):
    """A refusal by the policy point, with what the audit record of it needs."""

    def __init__(
        self,
        message: str,
        *,
        caller: Caller,
        permission: Permission,
        subject: tuple[str, str],
    ) -> None:
        super().__init__(message)
        self.caller = caller
        self.permission = permission
        self.subject = subject


class AccessPolicy:
    """Decides whether a caller may exercise a permission, on a project or the platform."""

    def require(
        self,
        uow: UnitOfWork,
        caller: Caller,
        permission: Permission,
        *,
        project_id: str | None = None,
        principal_id: str | None = None,
        subject: tuple[str, str] | None = None,
    ) -> None:
        """Return when allowed; raise AccessDenied otherwise.

        Project roles are read inside the caller's own transaction, so a grant or a
        revocation takes effect with the next request.
        """
        reason = decide(caller, permission, project_id=project_id, principal_id=principal_id)
        if reason is not None and project_id is not None and caller.grantees:
            roles = uow.grants.roles(project_id, caller.grantees)
            reason = decide(caller, permission, project_id=project_id, project_roles=roles)
        if reason is not None:
            target = subject or (("project", project_id) if project_id else ("platform", "-"))
            raise AccessDenied(
                f"permission denied: {reason}",
                caller=caller,
                permission=permission,
                subject=target,
            )
