"""Identity use cases: users, service accounts and teams, team membership, platform roles and
project grants."""

from __future__ import annotations

from lockgate.domain.access import Caller, Grant, Permission, PlatformRole, PrincipalKind, Role
from lockgate.domain.errors import ConflictError, InvalidInputError, NotFoundError
from lockgate.domain.pagination import Page, check_page_size
from lockgate.domain.principals import PasswordHasher, Principal, PrincipalRef, check_password
from lockgate.services.context import ServiceContext
from lockgate.store.protocols import UnitOfWork

__all__ = ["PrincipalService", "parse_role"]


def parse_role(value: str, *, field: str = "role") -> Role:
    """A project role from the wire."""
    try:
        return Role(value)
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInputError(f"role must be one of {allowed}", field=field) from exc


class PrincipalService:
    """Who exists, which teams they are in, and which roles they hold where."""

    def __init__(self, context: ServiceContext, hasher: PasswordHasher) -> None:
        self._ctx = context
        self._hasher = hasher

    def create(
        self,
        caller: Caller,
        kind: PrincipalKind,
        name: str,
        display_name: str = "",
        *,
        password: str | None = None,
        platform_role: PlatformRole | None = None,
    ) -> Principal:
        """Create a user, a service account or a team (platform admins only). Only users
        have passwords; a user without one signs in with API tokens only."""
        Principal.check(kind, name, display_name)
        if password is not None:
            if kind is not PrincipalKind.USER:
                raise InvalidInputError("only users have passwords", field="password")
            check_password(password)
        if platform_role is not None and kind is PrincipalKind.TEAM:
            raise InvalidInputError("teams hold project roles only", field="platform_role")
        with self._ctx.uow(read_only=True) as uow:
            # Refuse before the deliberately slow password hash, not after it.
            self._ctx.authorize(
                uow, caller, Permission.IDENTITY_MANAGE, subject=("principal", name)
            )
        password_hash = self._hasher.hash(password) if password is not None else None
        principal = Principal(
            self._ctx.ids.new_id(),
            kind,
            name,
            display_name or name,
            self._ctx.clock.now(),
            caller.actor,
            platform_role=platform_role,
            has_password=password_hash is not None,
        )
        with self._ctx.uow() as uow:
            self._ctx.authorize(
                uow, caller, Permission.IDENTITY_MANAGE, subject=_subject(principal)
            )
            uow.principals.add(principal, password_hash)
            details = {"platform_role": platform_role.value if platform_role else None}
            self._ctx.record(uow, "principal.created", caller, _subject(principal), details)
            uow.commit()
        return principal

    def get(self, caller: Caller, ref: str) -> Principal:
        """One principal: oneself, or anyone for identity managers."""
        parsed = PrincipalRef.parse(ref)
        with self._ctx.uow(read_only=True) as uow:
            if str(parsed) != caller.actor:
                return self._managed(uow, caller, str(parsed))
            return uow.principals.get_by_ref(parsed)

    def list_page(
        self, caller: Caller, kind: PrincipalKind | None, page_size: int, cursor: str | None
    ) -> Page[Principal]:
        """Principals by kind and name (identity managers only)."""
        check_page_size(page_size)
        with self._ctx.uow(read_only=True) as uow:
            self._ctx.authorize(uow, caller, Permission.IDENTITY_MANAGE)
            return uow.principals.list_page(kind, page_size, cursor)

    def set_platform_role(self, caller: Caller, ref: str, role: PlatformRole | None) -> Principal:
        """Give or take a platform role; the last platform admin cannot be demoted."""
        with self._ctx.uow() as uow:
            principal = self._managed(uow, caller, ref)
            if principal.kind is PrincipalKind.TEAM and role is not None:
                raise InvalidInputError("teams hold project roles only", field="role")
            if principal.platform_role is PlatformRole.ADMIN and role is not PlatformRole.ADMIN:
                self._keep_an_admin(uow)
            uow.principals.set_platform_role(principal.id, role)
            details = {"platform_role": role.value if role else None}
            self._ctx.record(
                uow, "principal.platform_role_set", caller, _subject(principal), details
            )
            updated = uow.principals.get(principal.id)
            uow.commit()
        return updated

    def set_disabled(self, caller: Caller, ref: str, disabled: bool) -> Principal:
        """Disable (every token and session stops working at once) or enable a principal."""
        with self._ctx.uow() as uow:
            principal = self._managed(uow, caller, ref)
            if disabled and principal.platform_role is PlatformRole.ADMIN:
                self._keep_an_admin(uow)
            uow.principals.set_disabled(principal.id, disabled)
            if disabled:
                uow.credentials.revoke_sessions(self._ctx.clock.now(), principal_id=principal.id)
            action = "principal.disabled" if disabled else "principal.enabled"
            self._ctx.record(uow, action, caller, _subject(principal))
            updated = uow.principals.get(principal.id)
            uow.commit()
        return updated

    def set_members(self, caller: Caller, team: str, member: str, *, present: bool) -> bool:
        """Add a user or service account to a team, or remove it; False when nothing
        changed."""
        team_ref, member_ref = PrincipalRef.parse(team, field="team"), PrincipalRef.parse(member)
        with self._ctx.uow() as uow:
            team_row = self._managed(uow, caller, str(team_ref))
            if team_ref.kind is not PrincipalKind.TEAM:
                raise InvalidInputError(f"{team_ref} is not a team", field="team")
            if member_ref.kind is PrincipalKind.TEAM:
                raise InvalidInputError("teams do not nest", field="member")
            member_row = uow.principals.get_by_ref(member_ref)
            if present:
                changed = uow.principals.add_member(team_row.id, member_row.id)
            else:
                changed = uow.principals.remove_member(team_row.id, member_row.id)
            if changed:
                action = "team.member_added" if present else "team.member_removed"
                self._ctx.record(
                    uow, action, caller, _subject(team_row), {"member": str(member_ref)}
                )
                uow.commit()
        return changed

    def members(self, caller: Caller, team: str) -> list[Principal]:
        """The members of a team."""
        with self._ctx.uow(read_only=True) as uow:
            team_row = self._managed(uow, caller, team)
            return uow.principals.members_of(team_row.id)

    def grant(self, caller: Caller, project_name: str, ref: str, role: Role) -> Grant:
        """Give a principal a role on a project (project admins)."""
        parsed = PrincipalRef.parse(ref)
        with self._ctx.uow() as uow:
            project = uow.projects.get_by_name(project_name)
            self._ctx.authorize(uow, caller, Permission.PROJECT_MANAGE, project_id=project.id)
            principal = uow.principals.get_by_ref(parsed)
            grant = Grant(
                project.id,
                principal.id,
                str(parsed),
                role,
                self._ctx.clock.now(),
                caller.actor,
            )
            if not uow.grants.add(grant):
                held = uow.grants.list_for_project(project.id)
                return next(g for g in held if g.principal_id == principal.id and g.role is role)
            self._ctx.record(
                uow,
                "grant.added",
                caller,
                ("project", project.id),
                {"project": project.name, "principal": str(parsed), "role": role.value},
            )
            uow.commit()
        return grant

    def revoke(self, caller: Caller, project_name: str, ref: str, role: Role) -> None:
        """Take a role away; NotFoundError when the principal did not hold it."""
        parsed = PrincipalRef.parse(ref)
        with self._ctx.uow() as uow:
            project = uow.projects.get_by_name(project_name)
            self._ctx.authorize(uow, caller, Permission.PROJECT_MANAGE, project_id=project.id)
            principal = uow.principals.get_by_ref(parsed)
            if not uow.grants.remove(project.id, principal.id, role):
                raise NotFoundError(f"{parsed} holds no {role} role on {project.name}")
            self._ctx.record(
                uow,
                "grant.removed",
                caller,
                ("project", project.id),
                {"project": project.name, "principal": str(parsed), "role": role.value},
            )
            uow.commit()

    def grants(self, caller: Caller, project_name: str) -> list[Grant]:
        """Who holds which role on a project (anyone who can read the project)."""
        with self._ctx.uow(read_only=True) as uow:
            project = uow.projects.get_by_name(project_name)
            self._ctx.authorize(uow, caller, Permission.PROJECT_READ, project_id=project.id)
            return uow.grants.list_for_project(project.id)

    def _managed(self, uow: UnitOfWork, caller: Caller, ref: str) -> Principal:
        parsed = PrincipalRef.parse(ref)
        # Decided before the lookup, so a refusal says nothing about who exists.
        self._ctx.authorize(
            uow, caller, Permission.IDENTITY_MANAGE, subject=("principal", str(parsed))
        )
        return uow.principals.get_by_ref(parsed)

    @staticmethod
    def _keep_an_admin(uow: UnitOfWork) -> None:
        if uow.principals.count_platform_admins() <= 1:
            raise ConflictError("this is the last platform admin; make another one first")


def _subject(principal: Principal) -> tuple[str, str]:
    return ("principal", str(principal.ref))
