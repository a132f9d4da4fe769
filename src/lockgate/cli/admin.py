"""`lockgate admin`: operator commands that work on the metadata database directly, through the
composition root, for when no one can sign in to the server yet."""

from __future__ import annotations

import click

from lockgate.api.identity import IssuedTokenOut
from lockgate.cli.context import CliState, json_option, pass_state, settings_options
from lockgate.cli.identity import emit_secret

__all__ = ["admin"]


@click.group()
def admin() -> None:
    """Operator commands on the database itself (need the server extra)."""


@admin.command("bootstrap")
@click.option("--username", required=True, help="Name of the first platform admin (a user).")
@settings_options
@json_option
@pass_state
def bootstrap(state: CliState, username: str, as_json: bool) -> None:
    """Create the first platform admin and an API token for it, printed once. Refused once
    any platform admin exists."""
    # Imported here: the server extra is only needed by the commands that use it.
    from lockgate.server.composition import build_platform

    settings = state.settings()
    platform = build_platform(settings)
    try:
        issued = platform.credentials.bootstrap_admin(username)
    finally:
        platform.close()
    intro = f"created platform admin user:{username} with API token {issued.token.name!r}"
    emit_secret(IssuedTokenOut.issued(issued.token, issued.secret), as_json, intro)
    if not as_json and not settings.auth_enabled:
        click.echo(
            "note: auth is off in these settings; serve with LOCKGATE_AUTH_ENABLED=true "
            "to require tokens",
            err=True,
        )
