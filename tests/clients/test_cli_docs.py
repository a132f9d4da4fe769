"""docs/reference/cli.md keeps up with the click tree: every command has a section that names
every one of its options."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click

from lockgate.cli.main import cli

CLI_DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "cli.md"


def _commands(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _commands(sub, f"{path} {name}")


def _sections(text: str) -> dict[str, str]:
    """Heading `lockgate ...` (arguments dropped) to the text up to the next heading."""
    sections = {}
    parts = re.split(r"^#{2,3} `(lockgate[^`]*)`\s*$", text, flags=re.MULTILINE)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        words = [w for w in heading.split() if not w.isupper()]
        sections[" ".join(words)] = body
    return sections


def test_every_command_is_in_the_cli_reference() -> None:
    text = CLI_DOC.read_text()
    missing = [path for path, _ in _commands(cli, "lockgate") if f"`{path}" not in text]
    assert not missing, f"document these commands in docs/reference/cli.md: {missing}"


def test_every_option_is_named_in_its_command_section() -> None:
    sections = _sections(CLI_DOC.read_text())
    undocumented = []
    for path, command in _commands(cli, "lockgate"):
        if isinstance(command, click.Group) and path != "lockgate":
            continue
        body = sections.get(path)
        assert body is not None, f"docs/reference/cli.md needs a section `{path} ...`"
        for param in command.params:
            if isinstance(param, click.Option):
                name = max(param.opts, key=len)
                if f"`{name}" not in body:
                    undocumented.append(f"{path} {name}")
    assert not undocumented, f"document these options in docs/reference/cli.md: {undocumented}"
