"""`lockgate projects` and `lockgate runs`: projects, run search, one run, a metric's history."""

from __future__ import annotations

from collections import Counter
from itertools import islice

import click

from lockgate.api.tracking import RunOut
from lockgate.cli.context import CliState, json_option, pass_state, url_option
from lockgate.cli.output import emit_json, emit_result, print_fields, print_table

__all__ = ["projects", "runs"]


@click.group()
def projects() -> None:
    """Projects: namespaces for runs and models."""


@projects.command("create")
@click.argument("name")
@click.option("--description", default="", help="What the project is about.")
@url_option
@json_option
@pass_state
def create_project(state: CliState, name: str, description: str, as_json: bool) -> None:
    """Create project NAME."""
    with state.client() as client:
        project = client.projects.create(name, description)
    emit_result(project, as_json, f"created project {project.name}")


@projects.command("list")
@url_option
@json_option
@pass_state
def list_projects(state: CliState, as_json: bool) -> None:
    """List every project."""
    with state.client() as client:
        found = list(client.projects.list())
    if as_json:
        emit_json(found)
        return
    rows = ((p.name, p.description, p.created_by, p.created_at) for p in found)
    print_table("projects", ["name", "description", "created by", "created"], rows)


@projects.command("show")
@click.argument("name")
@url_option
@json_option
@pass_state
def show_project(state: CliState, name: str, as_json: bool) -> None:
    """Show project NAME."""
    with state.client() as client:
        project = client.projects.get(name)
    if as_json:
        emit_json(project)
        return
    print_fields(
        f"project {project.name}",
        [
            ("id", project.id),
            ("description", project.description),
            ("created by", project.created_by),
            ("created", project.created_at),
        ],
    )


@click.group()
def runs() -> None:
    """Runs: search them, show one, read a metric's history."""


def _metric_keys(found: list[RunOut], order_by: str | None, most: int = 4) -> list[str]:
    """The metric columns: the ordering metric first, then the most common keys."""
    counts = Counter(key for run in found for key in run.metrics)
    ordered = [key for key, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    if order_by and order_by.startswith("metrics."):
        first = order_by.split()[0].removeprefix("metrics.").strip("`")
        ordered = [first, *(key for key in ordered if key != first)]
    return ordered[:most]


@runs.command("list")
@click.argument("project")
@click.option(
    "--filter",
    "filter_",
    default="",
    help="e.g. \"metrics.val_auc > 0.8 and params.max_depth = '6'\".",
)
@click.option(
    "--order-by", default=None, help="e.g. 'metrics.val_auc desc' (default: newest first)."
)
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(min=1), help="Most runs to show."
)
@url_option
@json_option
@pass_state
def list_runs(
    state: CliState, project: str, filter_: str, order_by: str | None, limit: int, as_json: bool
) -> None:
    """List (search) the runs of PROJECT, filtered and ordered."""
    with state.client() as client:
        found = list(
            islice(
                client.runs.search(project, filter_, order_by=order_by, page_size=min(limit, 1000)),
                limit,
            )
        )
    if as_json:
        emit_json(found)
        return
    keys = _metric_keys(found, order_by)
    rows = (
        (r.id, r.name, r.status, r.started_at, *(_latest(r, key) for key in keys)) for r in found
    )
    print_table(
        f"runs of {project}",
        ["id", "name", "status", "started", *keys],
        rows,
        empty="no runs match",
    )


def _latest(run: RunOut, key: str) -> float | None:
    metric = run.metrics.get(key)
    return None if metric is None else metric.value


@runs.command("show")
@click.argument("run_id")
@url_option
@json_option
@pass_state
def show_run(state: CliState, run_id: str, as_json: bool) -> None:
    """Show run RUN_ID: attributes, environment, params, metrics, tags and inputs."""
    with state.client() as client:
        run = client.runs.get(run_id)
    if as_json:
        emit_json(run)
        return
    env = run.environment
    dirty = "" if env.git_dirty is None else (" (dirty)" if env.git_dirty else " (clean)")
    print_fields(
        f"run {run.id}",
        [
            ("project", run.project),
            ("name", run.name),
            ("status", run.status),
            ("started", run.started_at),
            ("ended", run.ended_at),
            ("created by", run.created_by),
            ("git", f"{env.git_sha or '-'}{dirty}"),
            ("python", env.python_version),
            ("packages", len(env.packages)),
            ("seed", env.seed),
        ],
    )
    print_table("params", ["key", "value"], sorted(run.params.items()), empty="no params")
    metric_rows = ((k, m.value, m.step, m.timestamp) for k, m in sorted(run.metrics.items()))
    print_table(
        "metrics (latest)", ["key", "value", "step", "time"], metric_rows, empty="no metrics"
    )
    print_table("tags", ["key", "value"], sorted(run.tags.items()), empty="no tags")
    input_rows = ((d.name, d.fingerprint, d.row_count, d.source) for d in run.inputs)
    print_table("inputs", ["name", "fingerprint", "rows", "source"], input_rows, empty="no inputs")


@runs.command("history")
@click.argument("run_id")
@click.argument("key")
@url_option
@json_option
@pass_state
def metric_history(state: CliState, run_id: str, key: str, as_json: bool) -> None:
    """Show every point of metric KEY of run RUN_ID, by step."""
    with state.client() as client:
        history = client.runs.metric_history(run_id, key)
    if as_json:
        emit_json(history)
        return
    rows = zip(history.steps, history.values, history.timestamps, strict=True)
    print_table(f"{key} of run {run_id}", ["step", "value", "time"], rows, empty="no points")
