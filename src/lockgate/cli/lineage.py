"""`lockgate lineage`: where a model version or a dataset came from and what came of it, as a
tree, as JSON, or as OpenLineage run events."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import click
from rich.markup import escape
from rich.tree import Tree

from lockgate.api.lineage import LineageGraphOut, LineageNodeOut
from lockgate.cli.context import CliState, pass_state, url_option
from lockgate.cli.output import emit_json, format_time, stdout_console
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.registry import ModelRef
from lockgate.sdk import Client

__all__ = ["lineage", "print_graph"]

_DATASET_PREFIX = "dataset:"


def _version(client: Client, ref: str) -> tuple[str, int]:
    parsed = ModelRef.parse(ref, field="ref")
    if parsed.version is not None:
        return parsed.name, parsed.version
    return parsed.name, client.models.resolve(ref).version


def _dataset(ref: str, project: str | None) -> tuple[str, str, str | None]:
    if project is None:
        raise InvalidInputError("a dataset's lineage needs --project", field="project")
    name, _, fingerprint = ref.removeprefix(_DATASET_PREFIX).partition("@")
    return project, name, fingerprint or None


def _node_text(info: LineageNodeOut | None, node: str) -> str:
    if info is None:
        return escape(node)
    when = format_time(info.ended_at or info.created_at)
    suffix = f" [dim]{when}[/dim]" if when else ""
    return f"[bold]{info.kind.value}[/bold] {escape(info.label)}{suffix}"


def _tree(graph: LineageGraphOut, root: str, *, upstream: bool) -> Tree:
    """The nodes reached from `root` one way; a node met again is shown but not expanded."""
    infos = {n.node: n for n in graph.nodes}
    neighbours: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for edge in graph.edges:
        near, far = (edge.target, edge.source) if upstream else (edge.source, edge.target)
        neighbours[near].append((far, edge.relation.value))
    title = "upstream" if upstream else "downstream"
    tree = Tree(f"{_node_text(infos.get(root), root)} [dim]{title}[/dim]")
    seen = {root}

    def grow(branch: Tree, node: str) -> None:
        for other, relation in sorted(neighbours[node]):
            text = f"[cyan]{relation}[/cyan] {_node_text(infos.get(other), other)}"
            if other in seen:
                branch.add(f"{text} [dim](shown above)[/dim]")
                continue
            seen.add(other)
            grow(branch.add(text), other)

    grow(tree, root)
    return tree


def print_graph(graph: LineageGraphOut) -> None:
    """One tree per start and direction, then a warning when the walk was truncated."""
    console = stdout_console()
    ways = {"upstream": [True], "downstream": [False], "both": [True, False]}
    for root in graph.roots:
        for upstream in ways[graph.direction.value]:
            console.print(_tree(graph, root, upstream=upstream), highlight=False)
    if graph.truncated:
        console.print("[yellow]the graph is truncated: it reached 10,000 nodes[/yellow]")


@click.command("lineage")
@click.argument("ref", metavar="MODEL/VERSION")
@click.option("--upstream", "direction", flag_value="upstream", help="Only where it came from.")
@click.option("--downstream", "direction", flag_value="downstream", help="Only what came of it.")
@click.option(
    "--both", "direction", flag_value="both", default=True, help="Both ways (the default)."
)
@click.option(
    "--depth",
    type=click.IntRange(1, 50),
    default=10,
    show_default=True,
    help="How many edges away, at most.",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json", "openlineage"]),
    default="table",
    show_default=True,
    help="A tree, the graph as JSON, or OpenLineage run events (a JSON array).",
)
@click.option("--project", default=None, help="The project of a `dataset:NAME[@FINGERPRINT]` REF.")
@url_option
@pass_state
def lineage(
    state: CliState, ref: str, direction: str, depth: int, output: str, project: str | None
) -> None:
    """Show the lineage of a model version (MODEL/VERSION or MODEL@ALIAS), or of a dataset
    with `dataset:NAME[@FINGERPRINT] --project P`: the run and data it came from, and what
    evaluated, compared, promoted and deployed it."""
    with state.client() as client:
        found = _fetch(client, ref, project, direction, depth, events=output == "openlineage")
    if isinstance(found, list):
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
    elif output == "json":
        emit_json(found)
    else:
        print_graph(found)


def _fetch(
    client: Client, ref: str, project: str | None, direction: str, depth: int, *, events: bool
) -> LineageGraphOut | list[dict[str, Any]]:
    """The graph, or its OpenLineage events, of the version or dataset `ref` names."""
    if ref.startswith(_DATASET_PREFIX):
        project, name, fingerprint = _dataset(ref, project)
        if events:
            return client.lineage.dataset_openlineage(
                project, name, fingerprint=fingerprint, direction=direction, depth=depth
            )
        return client.lineage.dataset(
            project, name, fingerprint=fingerprint, direction=direction, depth=depth
        )
    model, version = _version(client, ref)
    if events:
        return client.lineage.version_openlineage(model, version, direction=direction, depth=depth)
    return client.lineage.version(model, version, direction=direction, depth=depth)
