"""`lockgate whoami`, `principals`, `teams`, `tokens` and `grants`: who is who, and who may do
what, on a server with auth on.

A new token's secret goes to stdout alone (so `TOKEN=$(lockgate tokens create ci)` works) and
the words around it to stderr; it is printed once and never again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from lockgate.api.identity import IssuedTokenOut, PrincipalOut, TokenOut
from lockgate.cli.context import CliState, json_option, pass_state, url_option
from lockgate.cli.output import emit_json, emit_result, print_fields, print_table
from lockgate.domain.access import PlatformRole, PrincipalKind, Role
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.principals import PrincipalRef

__all__ = ["emit_secret", "grants", "principals", "teams", "tokens", "whoami"]

_ROLES = click.Choice([role.value for role in Role])
_PLATFORM_ROLES = click.Choice([role.value for role in PlatformRole])
_PRINCIPAL_COLUMNS = ["principal", "display name", "platform role", "state", "created by"]


def emit_secret(issued: IssuedTokenOut, as_json: bool, intro: str) -> None:
    """Print a new token once: the JSON document, or the secret alone on stdout with `intro`
    and the warning that it cannot be shown again on stderr."""
    if as_json:
        emit_json(issued)
        return
    click.echo(intro, err=True)
    click.secho(
        "Store it now: it is shown only once and cannot be retrieved later.",
        fg="yellow",
        err=True,
    )
    click.echo(issued.token)


def _state(principal: PrincipalOut) -> str:
    return "disabled" if principal.disabled else "active"


def _principal_row(principal: PrincipalOut) -> tuple[str, str, str, str, str]:
    return (
        principal.ref,
        principal.display_name,
        principal.platform_role or "",
        _state(principal),
        principal.created_by,
    )


@click.command("whoami")
@url_option
@json_option
@pass_state
def whoami(state: CliState, as_json: bool) -> None:
    """Show who the server takes the caller (the token) to be."""
    with state.client() as client:
        caller = client.auth.whoami()
    if as_json:
        emit_json(caller)
        return
    print_fields(
        caller.actor,
        [
            ("kind", caller.kind),
            ("platform role", caller.platform_role or "none"),
            ("via", caller.via),
            ("scope project", caller.scope_project_id or "any"),
            ("scope role", caller.scope_role or "any"),
            ("principal id", caller.principal_id),
        ],
    )


@click.group()
def principals() -> None:
    """Users, service accounts and teams (platform admins)."""


@principals.command("create")
@click.argument("principal", metavar="KIND:NAME")
@click.option("--display-name", default="", help="A human-readable name (default NAME).")
@click.option(
    "--platform-role", type=_PLATFORM_ROLES, default=None, help="A role over every project."
)
@url_option
@json_option
@pass_state
def create_principal(
    state: CliState,
    principal: str,
    display_name: str,
    platform_role: str | None,
    as_json: bool,
) -> None:
    """Create a user (user:NAME), a service account (sa:NAME) or a team (team:NAME)."""
    ref = PrincipalRef.parse(principal)
    with state.client() as client:
        if ref.kind is PrincipalKind.USER:
            created = client.principals.create_user(
                ref.name, display_name=display_name, platform_role=platform_role
            )
        elif ref.kind is PrincipalKind.SERVICE_ACCOUNT:
            created = client.principals.create_service_account(
                ref.name, display_name=display_name, platform_role=platform_role
            )
        elif platform_role is not None:
            raise InvalidInputError("teams hold project roles only", field="platform_role")
        else:
            created = client.principals.create_team(ref.name, display_name=display_name)
    emit_result(created, as_json, f"created {created.ref}")


@principals.command("list")
@click.option(
    "--kind", type=click.Choice(["user", "sa", "team"]), default=None, help="Only this kind."
)
@url_option
@json_option
@pass_state
def list_principals(state: CliState, kind: str | None, as_json: bool) -> None:
    """List principals by kind and name."""
    with state.client() as client:
        found = list(client.principals.list(kind=kind))
    if as_json:
        emit_json(found)
        return
    rows = (_principal_row(p) for p in found)
    print_table("principals", _PRINCIPAL_COLUMNS, rows, empty="no principals")


@principals.command("show")
@click.argument("principal", metavar="KIND:NAME")
@url_option
@json_option
@pass_state
def show_principal(state: CliState, principal: str, as_json: bool) -> None:
    """Show one principal."""
    with state.client() as client:
        found = client.principals.get(principal)
    if as_json:
        emit_json(found)
        return
    print_fields(
        found.ref,
        [
            ("id", found.id),
            ("display name", found.display_name),
            ("platform role", found.platform_role or "none"),
            ("state", _state(found)),
            ("password", "set" if found.has_password else "none (API tokens only)"),
            ("created by", found.created_by),
            ("created", found.created_at),
        ],
    )


@principals.command("disable")
@click.argument("principal", metavar="KIND:NAME")
@url_option
@json_option
@pass_state
def disable_principal(state: CliState, principal: str, as_json: bool) -> None:
    """Disable a principal: its tokens and sessions stop working at once."""
    with state.client() as client:
        changed = client.principals.disable(principal)
    emit_result(changed, as_json, f"disabled {changed.ref}: its tokens and sessions stop working")


@principals.command("enable")
@click.argument("principal", metavar="KIND:NAME")
@url_option
@json_option
@pass_state
def enable_principal(state: CliState, principal: str, as_json: bool) -> None:
    """Enable a disabled principal again."""
    with state.client() as client:
        changed = client.principals.enable(principal)
    emit_result(changed, as_json, f"enabled {changed.ref}")


@principals.command("set-role")
@click.argument("principal", metavar="KIND:NAME")
@click.argument("role", type=click.Choice([*_PLATFORM_ROLES.choices, "none"]))
@url_option
@json_option
@pass_state
def set_platform_role(state: CliState, principal: str, role: str, as_json: bool) -> None:
    """Give a platform role (platform_admin, auditor), or take it away with `none`."""
    with state.client() as client:
        changed = client.principals.set_platform_role(principal, None if role == "none" else role)
    held = changed.platform_role or "no platform role"
    emit_result(changed, as_json, f"{changed.ref} now holds {held}")


@principals.command("set-password")
@click.argument("principal", metavar="KIND:NAME")
@url_option
@pass_state
def set_password(state: CliState, principal: str) -> None:
    """Set a user's password, asked for twice without echo (or read from stdin)."""
    password = click.prompt("new password", hide_input=True, confirmation_prompt=True)
    with state.client() as client:
        client.principals.set_password(principal, password)
    click.echo(f"password of {principal} set; its open web sessions have ended")


@click.group()
def teams() -> None:
    """Team membership (platform admins); grants to a team apply to its members."""


@teams.command("add-member")
@click.argument("team")
@click.argument("member", metavar="KIND:NAME")
@url_option
@pass_state
def add_member(state: CliState, team: str, member: str) -> None:
    """Add a user or service account to TEAM (team:NAME or NAME)."""
    with state.client() as client:
        client.teams.add_member(team, member)
    click.echo(f"{member} is a member of {team}")


@teams.command("remove-member")
@click.argument("team")
@click.argument("member", metavar="KIND:NAME")
@url_option
@pass_state
def remove_member(state: CliState, team: str, member: str) -> None:
    """Remove a member from TEAM."""
    with state.client() as client:
        client.teams.remove_member(team, member)
    click.echo(f"{member} is not a member of {team}")


@teams.command("members")
@click.argument("team")
@url_option
@json_option
@pass_state
def list_members(state: CliState, team: str, as_json: bool) -> None:
    """List the members of TEAM."""
    with state.client() as client:
        found = client.teams.members(team)
    if as_json:
        emit_json(found)
        return
    rows = (_principal_row(p) for p in found)
    print_table(f"members of {team}", _PRINCIPAL_COLUMNS, rows, empty="no members")


@click.group()
def tokens() -> None:
    """API tokens: your own, or anyone's for platform admins."""


principal_option = click.option(
    "--principal",
    default=None,
    metavar="KIND:NAME",
    help="Whose tokens (user:NAME or sa:NAME); default your own.",
)


@tokens.command("create")
@click.argument("name")
@principal_option
@click.option(
    "--expires-in-days",
    type=click.IntRange(min=1),
    metavar="N",
    default=None,
    help="Stop working after N days (default: never).",
)
@click.option("--project", default=None, help="Scope: the token reaches this project only.")
@click.option("--role", type=_ROLES, default=None, help="Scope: at most this role's rights.")
@url_option
@json_option
@pass_state
def create_token(
    state: CliState,
    name: str,
    principal: str | None,
    expires_in_days: int | None,
    project: str | None,
    role: str | None,
    as_json: bool,
) -> None:
    """Issue token NAME; its secret is printed once, on stdout."""
    expires_at = None
    if expires_in_days is not None:
        expires_at = datetime.now(UTC) + timedelta(days=expires_in_days)
    with state.client() as client:
        owner = principal or client.auth.whoami().actor
        issued = client.tokens.issue(
            name, principal=owner, expires_at=expires_at, project=project, role=role
        )
    emit_secret(issued, as_json, f"issued token {issued.name} ({issued.id}) for {owner}")


def _token_state(token: TokenOut, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


@tokens.command("list")
@principal_option
@url_option
@json_option
@pass_state
def list_tokens(state: CliState, principal: str | None, as_json: bool) -> None:
    """List tokens (never their secrets), revoked ones included."""
    with state.client() as client:
        found = client.tokens.list(principal=principal)
    if as_json:
        emit_json(found)
        return
    now = datetime.now(UTC)
    rows = (
        (
            t.id,
            t.name,
            t.hint,
            _token_state(t, now),
            t.expires_at,
            t.scope_project_id,
            t.scope_role,
            t.created_at,
        )
        for t in found
    )
    columns = ["id", "name", "starts with", "state", "expires", "scope project", "scope role"]
    print_table("tokens", [*columns, "created"], rows, empty="no tokens")


@tokens.command("revoke")
@click.argument("token_id")
@url_option
@json_option
@pass_state
def revoke_token(state: CliState, token_id: str, as_json: bool) -> None:
    """Revoke token TOKEN_ID at once."""
    with state.client() as client:
        revoked = client.tokens.revoke(token_id)
    emit_result(revoked, as_json, f"revoked token {revoked.name} ({revoked.id})")


@click.group()
def grants() -> None:
    """Project roles held by users, service accounts and teams."""


project_option = click.option("--project", required=True, help="The project.")


@grants.command("list")
@project_option
@url_option
@json_option
@pass_state
def list_grants(state: CliState, project: str, as_json: bool) -> None:
    """List who holds which role on a project."""
    with state.client() as client:
        found = client.grants.list(project)
    if as_json:
        emit_json(found)
        return
    rows = ((g.principal, g.role, g.granted_by, g.granted_at) for g in found)
    print_table(
        f"grants on {project}",
        ["principal", "role", "granted by", "granted"],
        rows,
        empty="no grants",
    )


@grants.command("add")
@click.argument("principal", metavar="KIND:NAME")
@click.argument("role", type=_ROLES)
@project_option
@url_option
@json_option
@pass_state
def add_grant(state: CliState, principal: str, role: str, project: str, as_json: bool) -> None:
    """Give PRINCIPAL the project role ROLE (project admins)."""
    with state.client() as client:
        grant = client.grants.add(project, principal, role)
    emit_result(grant, as_json, f"{grant.principal} holds {grant.role} on {project}")


@grants.command("remove")
@click.argument("principal", metavar="KIND:NAME")
@click.argument("role", type=_ROLES)
@project_option
@url_option
@pass_state
def remove_grant(state: CliState, principal: str, role: str, project: str) -> None:
    """Take the project role ROLE away from PRINCIPAL (project admins)."""
    with state.client() as client:
        client.grants.remove(project, principal, role)
    click.echo(f"{principal} no longer holds {role} on {project}")
