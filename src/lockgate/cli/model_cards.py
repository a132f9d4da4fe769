"""`lockgate card`: show a version's model card, edit its narrative sections, and export it as
Markdown, JSON or a CycloneDX ML-BOM."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markdown import Markdown

from lockgate.cli.context import CliState, json_option, pass_state, url_option
from lockgate.cli.output import emit_json, stdout_console
from lockgate.domain.governance.cards import NARRATIVE_SECTIONS, CardFormat
from lockgate.domain.registry import ModelRef
from lockgate.sdk import Client

__all__ = ["card"]

# What `--format` accepts, and the card format each stands for.
_FORMATS = {
    "md": CardFormat.MARKDOWN,
    "markdown": CardFormat.MARKDOWN,
    "json": CardFormat.JSON,
    "cyclonedx": CardFormat.CYCLONEDX,
}


def _version_ref(client: Client, ref: str) -> tuple[str, int]:
    parsed = ModelRef.parse(ref, field="ref")
    if parsed.version is not None:
        return parsed.name, parsed.version
    return parsed.name, client.models.resolve(ref).version


@click.group("card")
def card() -> None:
    """Model cards: what was recorded about a version, what people wrote, and how complete
    the card is."""


@card.command("show")
@click.argument("ref", metavar="MODEL/VERSION")
@url_option
@json_option
@pass_state
def show_card(state: CliState, ref: str, as_json: bool) -> None:
    """Show a version's card (MODEL/VERSION or MODEL@ALIAS): completeness, facts and
    narrative sections."""
    with state.client() as client:
        name, version = _version_ref(client, ref)
        if as_json:
            emit_json(client.model_cards.get(name, version))
            return
        text = client.model_cards.export(name, version, CardFormat.MARKDOWN)
    stdout_console().print(Markdown(text))


@card.command("edit")
@click.argument("ref", metavar="MODEL/VERSION")
@click.argument("section", type=click.Choice(NARRATIVE_SECTIONS), metavar="SECTION")
@click.option("--text", "text", default=None, help="The section's new text ('' clears it).")
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Read the new text from a UTF-8 file.",
)
@click.option(
    "--row-version",
    type=click.IntRange(min=0),
    default=None,
    help="The section revision this edit is based on; refused if it changed since "
    "(default: the current one).",
)
@url_option
@json_option
@pass_state
def edit_card(
    state: CliState,
    ref: str,
    section: str,
    text: str | None,
    file: Path | None,
    row_version: int | None,
    as_json: bool,
) -> None:
    """Write one narrative SECTION of a version's card (one of: intended_use,
    intended_users, out_of_scope, training_data_notes, limitations, ethical_considerations,
    caveats)."""
    if (text is None) == (file is None):
        raise click.UsageError("give the new text with --text or --file (one of them)")
    new_text = file.read_text(encoding="utf-8") if file is not None else text or ""
    with state.client() as client:
        name, version = _version_ref(client, ref)
        if row_version is None:
            row_version = client.model_cards.get(name, version).sections[section].row_version
        edited = client.model_cards.set_section(
            name, version, section, new_text, row_version=row_version
        )
        completeness = client.model_cards.get(name, version).completeness
    if as_json:
        emit_json(edited)
        return
    missing = ", ".join(completeness.missing) or "nothing"
    click.echo(
        f"{section} of {name}/{version} is at revision {edited.row_version}; "
        f"completeness {completeness.score:g} (missing: {missing})"
    )


@card.command("export")
@click.argument("ref", metavar="MODEL/VERSION")
@click.option(
    "--format",
    "card_format",
    type=click.Choice(sorted(_FORMATS)),
    default="md",
    show_default=True,
    help="md (Markdown), json (lockgate.model_card/1) or cyclonedx (CycloneDX 1.6 ML-BOM).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
@url_option
@pass_state
def export_card(state: CliState, ref: str, card_format: str, output: Path | None) -> None:
    """Export a version's card as Markdown, JSON or a CycloneDX ML-BOM."""
    with state.client() as client:
        name, version = _version_ref(client, ref)
        text = client.model_cards.export(name, version, _FORMATS[card_format])
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote the {card_format} card of {name}/{version} to {output}", err=True)
