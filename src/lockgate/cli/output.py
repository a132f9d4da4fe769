"""How the CLI prints: rich tables for people, `--json` for scripts, progress bars on stderr."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import click
from pydantic import BaseModel
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from lockgate.sdk import TransferProgress
from lockgate.sdk.artifacts import ProgressCallback

__all__ = [
    "Cell",
    "emit_json",
    "emit_result",
    "error_console",
    "format_time",
    "print_fields",
    "print_table",
    "stdout_console",
    "transfer_progress",
]

Cell = str | int | float | bool | datetime | None

_ID_COLUMNS = frozenset({"id", "run"})
PIPE_WIDTH = 160


def stdout_console() -> Console:
    """A console on the current stdout (made per call so test runners can capture it); when
    stdout is not a terminal, tables get a wide page instead of rich's 80 columns."""
    console = Console(soft_wrap=False)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


def error_console() -> Console:
    """A console on stderr, for progress and errors, so `--json` output stays clean."""
    return Console(stderr=True)


def emit_json(data: BaseModel | Sequence[BaseModel] | dict[str, object]) -> None:
    """Print a schema, a list of schemas or a dict as indented JSON on stdout."""
    if isinstance(data, BaseModel):
        payload: object = data.model_dump(mode="json", by_alias=True)
    elif isinstance(data, dict):
        payload = data
    else:
        payload = [item.model_dump(mode="json", by_alias=True) for item in data]
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def emit_result(data: BaseModel, as_json: bool, message: str) -> None:
    """Print a created or changed object as JSON, or a one-line message for people."""
    if as_json:
        emit_json(data)
    else:
        click.echo(message)


def format_time(moment: datetime | None) -> str:
    """A UTC time to the second, or an empty string."""
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    empty: str = "nothing to show",
) -> int:
    """Print rows as a rich table (ids are never wrapped); returns how many rows there were."""
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        # Ids are for copying: never wrapped; other cells fold when the terminal is narrow.
        table.add_column(column, no_wrap=column in _ID_COLUMNS, overflow="fold")
    count = 0
    for row in rows:
        table.add_row(*(_text(value) for value in row))
        count += 1
    console = stdout_console()
    if count:
        console.print(table)
    else:
        console.print(f"[dim]{empty}[/dim]")
    return count


def print_fields(title: str, fields: Sequence[tuple[str, Cell]]) -> None:
    """Print `name: value` lines under a bold title."""
    console = stdout_console()
    console.print(f"[bold]{title}[/bold]")
    width = max((len(name) for name, _ in fields), default=0)
    for name, value in fields:
        console.print(f"  {name.ljust(width)}  {_text(value)}", highlight=False, markup=False)


@contextmanager
def transfer_progress(verb: str) -> Iterator[ProgressCallback]:
    """A rich progress display on stderr with one bar per file; yields the SDK callback."""
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn(f"{verb} [bold]{{task.description}}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=error_console(),
        transient=False,
    ) as progress:

        def update(step: TransferProgress) -> None:
            if step.path not in tasks:
                tasks[step.path] = progress.add_task(step.path, total=step.total)
            progress.update(tasks[step.path], completed=step.done, total=step.total)

        yield update
