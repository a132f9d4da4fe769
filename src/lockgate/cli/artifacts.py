"""`lockgate artifacts`: upload, download and list run files, with progress bars."""

from __future__ import annotations

from pathlib import Path

import click

from lockgate.cli.context import CliState, json_option, pass_state, url_option
from lockgate.cli.output import emit_json, print_table, transfer_progress
from lockgate.domain.errors import NotFoundError

__all__ = ["artifacts"]


@click.group()
def artifacts() -> None:
    """Files logged by runs, stored by their sha256."""


@artifacts.command("upload")
@click.argument("run_id")
@click.argument("local_path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--path",
    "target",
    default=None,
    help="Path in the run: the file's path (default: its name), or for a directory the "
    "prefix its files go under (default: the run's root).",
)
@url_option
@json_option
@pass_state
def upload(
    state: CliState, run_id: str, local_path: Path, target: str | None, as_json: bool
) -> None:
    """Upload LOCAL_PATH (a file or a whole directory) to run RUN_ID."""
    with state.client() as client, transfer_progress("uploading") as progress:
        if local_path.is_dir():
            stored = client.artifacts.upload_dir(run_id, local_path, target, progress=progress)
        else:
            stored = [client.artifacts.upload(run_id, local_path, target, progress=progress)]
    if as_json:
        emit_json(stored)
        return
    for artifact in stored:
        click.echo(f"uploaded {artifact.path} ({artifact.size} bytes, sha256 {artifact.digest})")


@artifacts.command("download")
@click.argument("run_id")
@click.argument("path")
@click.option(
    "--dest",
    type=click.Path(path_type=Path),
    default=Path(),
    show_default=True,
    help="Where to write: a directory, or a file name for a single file.",
)
@url_option
@pass_state
def download(state: CliState, run_id: str, path: str, dest: Path) -> None:
    """Download file PATH of run RUN_ID (or every file below PATH when it is a directory),
    checking each file's sha256."""
    with state.client() as client, transfer_progress("downloading") as progress:
        try:
            written = [client.artifacts.download(run_id, path, dest, progress=progress)]
        except NotFoundError:
            if not client.artifacts.list(run_id, path):
                raise
            written = client.artifacts.download_dir(run_id, path, dest, progress=progress)
    for file in written:
        click.echo(f"wrote {file}")


@artifacts.command("list")
@click.argument("run_id")
@click.option("--prefix", default=None, help="Only files below this directory.")
@url_option
@json_option
@pass_state
def list_artifacts(state: CliState, run_id: str, prefix: str | None, as_json: bool) -> None:
    """List the files of run RUN_ID."""
    with state.client() as client:
        found = client.artifacts.list(run_id, prefix)
    if as_json:
        emit_json(found)
        return
    rows = ((a.path, a.size, a.digest[:12], a.created_at) for a in found)
    print_table(f"artifacts of run {run_id}", ["path", "size", "sha256", "created"], rows)
