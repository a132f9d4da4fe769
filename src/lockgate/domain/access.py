"""Who may do what: roles, permissions, the caller of a request and the one decision rule.

A project role is granted to a user, a team or a service account on one project. Roles are
not ranked: each is a set of permissions, and a principal may hold several (a reviewer who
is also a contributor). Platform roles span every project. A token may carry a scope that
narrows, never widens, what its principal may do. Deny is the default: a permission that no
role of the caller grants is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from lockgate.domain.identity import Actor

__all__ = [
    "PLATFORM_PERMISSIONS",
    "ROLE_PERMISSIONS",
    "Caller",
    "Grant",
    "Permission",
    "PlatformRole",
    "PrincipalKind",
    "ProjectFilter",
    "Role",
    "TokenScope",
    "decide",
]


class PrincipalKind(StrEnum):
    """Who can hold grants. Teams hold grants but never act; `local` is the single user of
    local mode (auth off)."""

    USER = "user"
    SERVICE_ACCOUNT = "sa"
    TEAM = "team"
    LOCAL = "local"


class Role(StrEnum):
    """A project role."""

    VIEWER = "viewer"
    CONTRIBUTOR = "contributor"
    REVIEWER = "reviewer"
    DEPLOYER = "deployer"
    ADMIN = "admin"


class PlatformRole(StrEnum):
    """A role over the whole platform."""

    ADMIN = "platform_admin"
    AUDITOR = "auditor"


class Permission(StrEnum):
    """Every action the policy point decides. Project permissions are checked against the
    caller's roles on that project; platform permissions against platform roles."""

    # project permissions
    PROJECT_READ = "project.read"
    RUN_WRITE = "run.write"
    MODEL_WRITE = "model.write"
    ALIAS_MOVE = "alias.move"
    VERSION_APPROVE = "version.approve"
    # ask for a version to enter an environment (or leave it), or for a gate exception
    PROMOTION_REQUEST = "promotion.request"
    # propose a project's own gate policies (a reviewer then approves them)
    POLICY_WRITE = "policy.write"
    DEPLOY = "deploy"
    PROJECT_MANAGE = "project.manage"
    # platform permissions
    PROJECT_CREATE = "project.create"
    AUDIT_READ = "audit.read"
    IDENTITY_MANAGE = "identity.manage"
    # define environments and their order
    ENVIRONMENT_MANAGE = "environment.manage"
    # purge the artifact bytes of retired versions whose retention period is over
    RETENTION_APPLY = "retention.apply"
    # one's own API tokens and password; anyone else's needs identity.manage
    CREDENTIALS_MANAGE = "credentials.manage"

    @property
    def is_project_level(self) -> bool:
        return self not in _PLATFORM_LEVEL


_PLATFORM_LEVEL = frozenset(
    {
        Permission.PROJECT_CREATE,
        Permission.AUDIT_READ,
        Permission.IDENTITY_MANAGE,
        Permission.ENVIRONMENT_MANAGE,
        Permission.RETENTION_APPLY,
        Permission.CREDENTIALS_MANAGE,
    }
)

_READ = frozenset({Permission.PROJECT_READ})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _READ,
    Role.CONTRIBUTOR: _READ
    | {Permission.RUN_WRITE, Permission.MODEL_WRITE, Permission.PROMOTION_REQUEST},
    Role.REVIEWER: _READ | {Permission.VERSION_APPROVE},
    Role.DEPLOYER: _READ | {Permission.ALIAS_MOVE, Permission.DEPLOY, Permission.PROMOTION_REQUEST},
    Role.ADMIN: frozenset(p for p in Permission if p.is_project_level),
}
"""The role matrix of project roles (docs/security.md shows the same table, and a test runs
every role against every route to hold the two together)."""

PLATFORM_PERMISSIONS: dict[PlatformRole, frozenset[Permission]] = {
    PlatformRole.ADMIN: frozenset(Permission),
    # Auditors read everything and the audit log, and change nothing.
    PlatformRole.AUDITOR: frozenset({Permission.PROJECT_READ, Permission.AUDIT_READ}),
}


@dataclass(frozen=True, slots=True)
class TokenScope:
    """What a token is limited to: one project, and/or at most one role's permissions."""

    project_id: str | None = None
    role: Role | None = None

    def allows(self, permission: Permission, project_id: str | None) -> bool:
        if self.project_id is not None and project_id != self.project_id:
            return False
        return self.role is None or permission in ROLE_PERMISSIONS[self.role]


@dataclass(frozen=True, slots=True)
class Grant:
    """A project role held by a principal (`principal` is its `kind:name`)."""

    project_id: str
    principal_id: str
    principal: str
    role: Role
    granted_at: datetime
    granted_by: Actor


@dataclass(frozen=True, slots=True)
class ProjectFilter:
    """Which projects a listing may show, applied inside the query so pages and counts never
    reveal the rest: those any of `grantees` holds a grant on (all when None), narrowed to
    `project_id` when a token is scoped to one project."""

    grantees: tuple[str, ...] | None
    project_id: str | None = None


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated principal behind one request.

    `grantees` are the ids whose grants apply: the principal's own and its teams'.
    """

    actor: Actor
    kind: PrincipalKind
    principal_id: str | None = None
    platform_role: PlatformRole | None = None
    grantees: tuple[str, ...] = ()
    scope: TokenScope | None = None
    via_session: bool = field(default=False, compare=False)

    @classmethod
    def local(cls, actor: Actor) -> Caller:
        """The one user of local mode: auth is off and the server is bound to loopback."""
        return cls(actor, PrincipalKind.LOCAL, platform_role=PlatformRole.ADMIN)

    @property
    def is_scoped(self) -> bool:
        return self.scope is not None

    def project_filter(self) -> ProjectFilter | None:
        """The filter for project listings; None when the caller sees every project."""
        scoped_to = self.scope.project_id if self.scope is not None else None
        if self.platform_role is not None:
            return None if scoped_to is None else ProjectFilter(None, scoped_to)
        return ProjectFilter(self.grantees, scoped_to)


def decide(
    caller: Caller,
    permission: Permission,
    *,
    project_id: str | None = None,
    project_roles: frozenset[Role] = frozenset(),
    principal_id: str | None = None,
) -> str | None:
    """None when `caller` may exercise `permission` (on `project_id`, holding
    `project_roles` there, or on the credentials of `principal_id`); otherwise the reason
    for the refusal."""
    if permission.is_project_level and project_id is None:
        return f"{permission} needs a project"
    if caller.scope is not None and not caller.scope.allows(permission, project_id):
        return f"the token's scope does not allow {permission} here"
    if (
        caller.platform_role is not None
        and permission in PLATFORM_PERMISSIONS[caller.platform_role]
    ):
        return None
    if permission is Permission.PROJECT_CREATE:
        # Any person may start a project (and administers it); machines may not.
        if caller.kind is PrincipalKind.USER and caller.scope is None:
            return None
        return "only users create projects"
    if permission is Permission.CREDENTIALS_MANAGE:
        # Your own tokens and password, but never from a scoped token: a scoped token that
        # could mint an unscoped one would escape its scope.
        if principal_id is not None and principal_id == caller.principal_id:
            return None if caller.scope is None else "a scoped token cannot manage credentials"
        return "only platform admins manage another principal's credentials"
    if any(permission in ROLE_PERMISSIONS[role] for role in project_roles):
        return None
    if not permission.is_project_level:
        return f"{caller.actor} holds no platform role that allows {permission}"
    held = ", ".join(sorted(project_roles)) or "no role"
    return f"{caller.actor} holds {held} on this project, which does not allow {permission}"
