"""`lockgate demo`: migrate the embedded store, seed the demo data through the SDK, then serve."""

from __future__ import annotations

import click

from lockgate.cli.context import CliState, pass_state, settings_options
from lockgate.cli.demo_data import PROJECT, seed_demo
from lockgate.cli.output import stdout_console
from lockgate.cli.server import prepare_home, redact_url
from lockgate.sdk import Client

__all__ = ["demo"]


@click.command()
@click.option("--no-serve", is_flag=True, help="Seed and exit instead of serving.")
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Port (default 8420).")
@settings_options
@pass_state
def demo(state: CliState, no_serve: bool, host: str | None, port: int | None) -> None:
    """Seed a realistic demo (project `churn`: 36 runs, 2 models with aliases) into the
    embedded store, then serve it. Seeding twice changes nothing."""
    from lockgate.server.app import create_app
    from lockgate.server.inprocess import InProcessTransport
    from lockgate.store.sql import upgrade

    settings = state.settings(host=host, port=port)
    prepare_home(settings)
    url = settings.resolved_metadata_url()
    upgrade(url)
    console = stdout_console()
    transport = InProcessTransport(create_app(settings))
    with Client("http://localhost", transport=transport) as client:
        summary = seed_demo(client)
    if summary is None:
        console.print(f"project [bold]{PROJECT}[/bold] already seeded in {redact_url(url)}")
    else:
        console.print(
            f"seeded project [bold]{PROJECT}[/bold]: {summary.runs} runs ({summary.failed} failed, "
            f"{summary.killed} killed), models {', '.join(summary.models)} in {redact_url(url)}",
            highlight=False,
        )
    if no_serve:
        return
    from lockgate.server.run import check_binding, describe_mode, serve

    check_binding(settings)
    console.print(describe_mode(settings), highlight=False)
    console.print(
        f"\nLockgate demo: [bold green]http://{settings.host}:{settings.port}[/bold green]"
        "  (Ctrl-C to stop)",
        highlight=False,
    )
    serve(settings)
