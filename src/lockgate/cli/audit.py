"""`lockgate audit`: read the audit log and verify its hash chain, on a server or a local store."""

from __future__ import annotations

from itertools import islice

import click

from lockgate.api.audit import ChainVerdictOut
from lockgate.cli.context import CliState, json_option, pass_state, settings_options, url_option
from lockgate.cli.output import emit_json, error_console, print_table, stdout_console

__all__ = ["audit"]


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("events")
@click.option(
    "--after-seq",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Only events after this sequence number.",
)
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="Most events to show.",
)
@click.option(
    "--subject-type",
    default=None,
    help="Only events about this kind of object (with --subject-id).",
)
@click.option(
    "--subject-id", default=None, help="Only events about this object (with --subject-type)."
)
@url_option
@json_option
@pass_state
def events(
    state: CliState,
    after_seq: int,
    limit: int,
    subject_type: str | None,
    subject_id: str | None,
    as_json: bool,
) -> None:
    """List audit events in chain order."""
    with state.client() as client:
        found = list(
            islice(
                client.audit.events(
                    after_seq=after_seq,
                    subject_type=subject_type,
                    subject_id=subject_id,
                    page_size=min(limit, 1000),
                ),
                limit,
            )
        )
    if as_json:
        emit_json(found)
        return
    rows = (
        (e.seq, e.occurred_at, e.actor, e.action, f"{e.subject_type} {e.subject_id}") for e in found
    )
    print_table(
        "audit events", ["seq", "time", "actor", "action", "subject"], rows, empty="no events"
    )


@audit.command("verify")
@click.option(
    "--url",
    default=None,
    help="Ask the server at this URL to verify; by default the local store named by the "
    "settings is read directly (a copied database file works too).",
)
@settings_options
@json_option
@pass_state
def verify(state: CliState, url: str | None, as_json: bool) -> None:
    """Recompute the audit hash chain; exit 1 naming the first bad event if it is broken."""
    if url is not None:
        state.url = url
        with state.client() as client:
            verdict = client.audit.verify()
    else:
        verdict = _verify_locally(state)
    if as_json:
        emit_json(verdict)
    elif verdict.ok:
        stdout_console().print(
            f"[green]audit chain intact[/green]: {verdict.checked} events checked"
        )
    else:
        error_console().print(
            f"[red]audit chain broken at event seq {verdict.first_bad_seq}[/red]: {verdict.reason} "
            f"({verdict.checked} events before it are intact)",
            highlight=False,
        )
    if not verdict.ok:
        raise click.exceptions.Exit(1)


def _verify_locally(state: CliState) -> ChainVerdictOut:
    # Imported here: the server extra is only needed by the commands that use it.
    from lockgate.server.composition import build_platform

    platform = build_platform(state.settings())
    try:
        return ChainVerdictOut.from_domain(platform.audit.verify(platform.operator()))
    finally:
        platform.close()
