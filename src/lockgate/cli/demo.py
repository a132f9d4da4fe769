"""`lockgate demo`: migrate the embedded store, seed the demo data through the SDK, then serve."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from lockgate.cli.context import CliState, pass_state, settings_options
from lockgate.cli.demo_data import PROJECT, seed_demo
from lockgate.cli.demo_serving import SAMPLE, SCORER, ServedDemo
from lockgate.cli.output import stdout_console
from lockgate.cli.server import prepare_home, redact_url
from lockgate.domain.errors import NotFoundError
from lockgate.sdk import Client

__all__ = ["demo"]


@click.command()
@click.option("--no-serve", is_flag=True, help="Seed and exit instead of serving.")
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Port (default 8420).")
@click.option(
    "--serving-port",
    default=8421,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port of the inference server that serves churn-scorer@champion.",
)
@settings_options
@pass_state
def demo(
    state: CliState, no_serve: bool, host: str | None, port: int | None, serving_port: int
) -> None:
    """Seed a realistic demo (project `churn`: 38 runs, 3 models with aliases, one a real
    critical-tier scikit-learn model whose champion is promoted to production with two
    reviewers' approvals, and whose challenger, compared against it, is blocked on its way to
    staging) into the embedded store, then serve it: the API server, and the inference server
    answering for `churn-scorer@champion`. Seeding twice changes nothing."""
    from lockgate.server.app import create_app
    from lockgate.server.inprocess import InProcessTransport
    from lockgate.store.sql import upgrade

    settings = state.settings(host=host, port=port)
    prepare_home(settings)
    url = settings.resolved_metadata_url()
    upgrade(url)
    console = stdout_console()
    transport = InProcessTransport(create_app(settings))
    client = Client("http://localhost", transport=transport)
    # The demo reviewers act with their own tokens, so the app they call checks tokens.
    reviewers = InProcessTransport(create_app(settings.model_copy(update={"auth_enabled": True})))
    summary = seed_demo(
        client,
        reviewer_client=lambda token: Client("http://localhost", token=token, transport=reviewers),
    )
    reviewers.close()
    if summary is None:
        console.print(f"project [bold]{PROJECT}[/bold] already seeded in {redact_url(url)}")
    else:
        console.print(
            f"seeded project [bold]{PROJECT}[/bold]: {summary.runs} runs ({summary.failed} failed, "
            f"{summary.killed} killed), models {', '.join(summary.models)} in {redact_url(url)}",
            highlight=False,
        )
        if summary.verdict is not None:
            console.print(f"evaluated: {summary.verdict}", highlight=False, soft_wrap=True)
        if summary.governed is not None:
            console.print(f"promoted: {summary.governed.promoted}", highlight=False, soft_wrap=True)
            console.print(f"blocked: {summary.governed.blocked}", highlight=False, soft_wrap=True)
    if no_serve:
        client.close()
        return
    from lockgate.server.run import check_binding, describe_mode, serve

    check_binding(settings)
    console.print(describe_mode(settings), highlight=False)
    with client, _inference(client, settings.home, settings.host, serving_port) as served:
        console.print(
            f"\nLockgate demo: [bold green]http://{settings.host}:{settings.port}[/bold green]"
            "  (Ctrl-C to stop)",
            highlight=False,
        )
        if served is not None:
            console.print(
                f"Inference server: [bold green]{served.url}[/bold green] serving "
                f"{SCORER}@champion\n  a customer likely to leave -> {served.answer}\n"
                f"  try: curl -s {served.url}/invocations -H 'content-type: application/json' "
                f"-d '{json.dumps({'dataframe_records': [SAMPLE]})}'",
                highlight=False,
                soft_wrap=True,
            )
        serve(settings)


@contextmanager
def _inference(client: Client, home: Path, host: str, port: int) -> Iterator[ServedDemo | None]:
    """The inference server for the scorer, when the demo has one (scikit-learn installed)."""
    try:
        client.models.resolve(f"{SCORER}@champion")
    except NotFoundError:
        yield None
        return
    from lockgate.cli.demo_serving import serve_scorer

    with serve_scorer(client, home, host, port) as served:
        yield served
