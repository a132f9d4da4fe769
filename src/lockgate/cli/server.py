"""`lockgate server` and `lockgate db`: run the API server and migrate its metadata store."""

from __future__ import annotations

import re

import click

from lockgate.cli.context import CliState, pass_state, settings_options
from lockgate.cli.output import stdout_console
from lockgate.settings import Settings

__all__ = ["db", "redact_url", "server"]


def redact_url(url: str) -> str:
    """A database URL with its password hidden, fit to print."""
    return re.sub(r"(//[^:/@]+):[^@/]*@", r"\1:***@", url)


def prepare_home(settings: Settings) -> None:
    """Create the embedded home directory when the settings use the default SQLite file."""
    if not settings.metadata_url:
        settings.home.mkdir(parents=True, exist_ok=True)


@click.group()
def server() -> None:
    """The API server (and web UI)."""


@server.command("start")
@click.option("--host", default=None, help="Address to bind (LOCKGATE_HOST; default 127.0.0.1).")
@click.option(
    "--port",
    default=None,
    type=click.IntRange(1, 65535),
    help="Port (LOCKGATE_PORT; default 8420).",
)
@settings_options
@pass_state
def start(state: CliState, host: str | None, port: int | None) -> None:
    """Serve the REST API until interrupted (in LOCKGATE_WORKERS processes); refuses to start
    on an outdated schema."""
    from lockgate.server.run import check_binding, describe_mode, serve

    settings = state.settings(host=host, port=port)
    check_binding(settings)
    console = stdout_console()
    workers = f", {settings.workers} worker processes" if settings.workers > 1 else ""
    console.print(
        f"starting Lockgate on [bold]http://{settings.host}:{settings.port}[/bold] "
        f"(metadata {redact_url(settings.resolved_metadata_url())}{workers})",
        highlight=False,
    )
    console.print(describe_mode(settings), highlight=False)
    serve(settings)


@click.group()
def db() -> None:
    """The metadata database schema (Alembic migrations)."""


@db.command("upgrade")
@settings_options
@pass_state
def upgrade(state: CliState) -> None:
    """Migrate the metadata store to the current schema (creates it when empty)."""
    from lockgate.store.sql import current_revision
    from lockgate.store.sql import upgrade as upgrade_schema

    settings = state.settings()
    prepare_home(settings)
    url = settings.resolved_metadata_url()
    upgrade_schema(url)
    click.echo(f"{redact_url(url)} is at revision {current_revision(url)}")


@db.command("current")
@settings_options
@pass_state
def current(state: CliState) -> None:
    """Print the schema revision of the metadata store (`none` when it was never migrated)."""
    from lockgate.store.sql import current_revision

    url = state.settings().resolved_metadata_url()
    click.echo(current_revision(url) or "none")
