"""`lockgate models`: registered models, versions, registration and aliases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import islice
from pathlib import Path

import click

from lockgate.api.decommission import ArchiveOut
from lockgate.api.registry import AliasMoveOut, SignatureIO, VersionOut
from lockgate.cli.context import CliState, json_option, pass_state, url_option
from lockgate.cli.evaluation import print_version_evaluations
from lockgate.cli.output import (
    Cell,
    emit_json,
    emit_result,
    error_console,
    print_fields,
    print_table,
    stdout_console,
)
from lockgate.cli.promotions import print_version_promotions
from lockgate.domain.errors import InvalidInputError

__all__ = ["models"]


def _metadata(pairs: Sequence[str]) -> dict[str, str]:
    metadata = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"metadata {pair!r} must look like KEY=VALUE", field="metadata")
        metadata[key] = value
    return metadata


metadata_option = click.option(
    "--metadata",
    "metadata",
    multiple=True,
    metavar="KEY=VALUE",
    help="Metadata entry (repeatable).",
)


def _parse_time(ctx: click.Context, param: click.Parameter, value: str) -> datetime:
    """An ISO-8601 time that carries its offset (`Z` or `+02:00`)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 time", ctx, param) from exc
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} needs an offset such as Z or +00:00", ctx, param)
    return moment


@click.group()
def models() -> None:
    """Registered models, their versions and aliases."""


@models.command("create")
@click.argument("name")
@click.option("--project", required=True, help="Project the model belongs to.")
@click.option("--owner", required=True, help="Who answers for the model (a team or person).")
@click.option("--description", required=True, help="What the model does.")
@metadata_option
@url_option
@json_option
@pass_state
def create_model(
    state: CliState,
    name: str,
    project: str,
    owner: str,
    description: str,
    metadata: tuple[str, ...],
    as_json: bool,
) -> None:
    """Register model NAME in a project."""
    with state.client() as client:
        model = client.models.create(
            name,
            project=project,
            owner=owner,
            description=description,
            metadata=_metadata(metadata),
        )
    emit_result(model, as_json, f"created model {model.name} in project {model.project}")


_include_archived = click.option(
    "--include-archived", is_flag=True, help="Also list retired (archived) ones."
)


@models.command("list")
@click.option("--project", default=None, help="Only the models of this project.")
@_include_archived
@url_option
@json_option
@pass_state
def list_models(
    state: CliState, project: str | None, include_archived: bool, as_json: bool
) -> None:
    """List registered models (retired ones only with --include-archived)."""
    with state.client() as client:
        found = list(client.models.list(project=project, include_archived=include_archived))
    if as_json:
        emit_json(found)
        return
    rows = (
        (m.name, m.project, m.owner, m.description, m.created_at, _retired(m.archive))
        for m in found
    )
    print_table("models", ["name", "project", "owner", "description", "created", "retired"], rows)


def _retired(archive: ArchiveOut | None) -> str:
    return "" if archive is None else archive.archived_at.date().isoformat()


def _archive_fields(archive: ArchiveOut | None) -> list[tuple[str, Cell]]:
    if archive is None:
        return []
    return [
        ("retired", archive.archived_at),
        ("retired by", archive.archived_by),
        ("retirement reason", archive.reason),
        ("artifacts kept until", archive.retain_until),
    ]


def _print_version(version: VersionOut) -> None:
    print_fields(
        f"{version.model} version {version.version}",
        [
            ("run", version.run_id),
            ("source", version.source_path),
            ("aliases", ", ".join(version.aliases)),
            ("description", version.description),
            ("created by", version.created_by),
            ("created", version.created_at),
            *_archive_fields(version.archive),
            *((f"metadata.{k}", v) for k, v in sorted(version.metadata.items())),
        ],
    )
    print_table(
        "files",
        ["path", "size", "sha256"],
        ((f.path, f.size, f.digest[:12]) for f in version.files),
    )
    if version.signature is not None:
        rows = [
            *(("input", c.name, c.type, str(c.shape)) for c in version.signature.inputs),
            *(("output", c.name, c.type, str(c.shape)) for c in version.signature.outputs),
        ]
        print_table("signature", ["side", "name", "type", "shape"], rows)


def _print_versions(title: str, versions: Sequence[VersionOut]) -> None:
    rows = (
        (
            v.version,
            ", ".join(v.aliases),
            v.run_id,
            v.description,
            v.created_at,
            _retired(v.archive),
        )
        for v in versions
    )
    print_table(
        title,
        ["version", "aliases", "run", "description", "created", "retired"],
        rows,
        empty="no versions",
    )


@models.command("show")
@click.argument("ref")
@url_option
@json_option
@pass_state
def show_model(state: CliState, ref: str, as_json: bool) -> None:
    """Show a model (REF is NAME) or one version (NAME/3 or NAME@champion) with its latest
    evaluations and comparison verdict, where it is current and its open promotion
    requests."""
    with state.client() as client:
        if "/" in ref or "@" in ref:
            version = client.models.resolve(ref)
            if as_json:
                emit_json(version)
            else:
                _print_version(version)
                print_version_evaluations(client, version.model, version.version)
                print_version_promotions(client, version.model, version.version)
            return
        model = client.models.get(ref)
        latest = list(islice(client.models.list_versions(ref, page_size=10), 10))
    if as_json:
        emit_json(model)
        return
    print_fields(
        f"model {model.name}",
        [
            ("project", model.project),
            ("owner", model.owner),
            ("description", model.description),
            ("created by", model.created_by),
            ("created", model.created_at),
            *_archive_fields(model.archive),
            *((f"metadata.{k}", v) for k, v in sorted(model.metadata.items())),
        ],
    )
    _print_versions("latest versions", latest)


@models.command("versions")
@click.argument("name")
@_include_archived
@url_option
@json_option
@pass_state
def list_versions(state: CliState, name: str, include_archived: bool, as_json: bool) -> None:
    """List the versions of model NAME, newest first (retired ones only with
    --include-archived)."""
    with state.client() as client:
        found = list(client.models.list_versions(name, include_archived=include_archived))
    if as_json:
        emit_json(found)
    else:
        _print_versions(f"versions of {name}", found)


@models.command("register")
@click.argument("name")
@click.option("--run", "run_id", required=True, help="Run whose files become the version.")
@click.option("--artifact-path", required=True, help="Directory of the run's files, e.g. 'model'.")
@click.option(
    "--signature",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSON file: {"inputs": [{"name", "type", "shape"}], "outputs": [...]}.',
)
@click.option("--description", default="", help="What changed in this version.")
@click.option(
    "--flavor",
    type=click.Choice(["sklearn", "xgboost", "lightgbm", "onnx", "pytorch", "python", "unknown"]),
    default="unknown",
    show_default=True,
    help="The model's format, recorded in its signed manifest.",
)
@metadata_option
@url_option
@json_option
@pass_state
def register_version(
    state: CliState,
    name: str,
    run_id: str,
    artifact_path: str,
    signature: Path | None,
    description: str,
    flavor: str,
    metadata: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create the next version of model NAME from a run's files (its manifest is signed)."""
    parsed = None
    if signature is not None:
        try:
            parsed = SignatureIO.model_validate_json(signature.read_bytes())
        except ValueError as exc:
            raise InvalidInputError(
                f"{signature}: not a signature: {exc}", field="signature"
            ) from exc
    with state.client() as client:
        version = client.models.create_version(
            name,
            run_id=run_id,
            artifact_path=artifact_path,
            signature=parsed,
            description=description,
            metadata=_metadata(metadata),
            flavor=flavor,
        )
    emit_result(version, as_json, f"registered {version.model} version {version.version}")


@models.command("verify")
@click.argument("ref", metavar="NAME/VERSION")
@url_option
@json_option
@pass_state
def verify_version(state: CliState, ref: str, as_json: bool) -> None:
    """Check a version's signed manifest and re-hash its stored files; exit 1 on any change."""
    name, _, number = ref.partition("/")
    if not number.isdigit():
        raise InvalidInputError("give the version as NAME/VERSION, e.g. churn/3", field="ref")
    with state.client() as client:
        verdict = client.models.verify(name, int(number))
    if as_json:
        emit_json(verdict)
    elif verdict.ok:
        stdout_console().print(
            f"[green]{ref} is intact[/green]: signature and every file match "
            f"(manifest sha256 {verdict.manifest_sha256[:16]}...)",
            highlight=False,
        )
    else:
        for problem in verdict.problems:
            error_console().print(f"[red]{ref}[/red]: {problem}", highlight=False)
    if not verdict.ok:
        raise click.exceptions.Exit(1)


@models.group("alias")
def alias() -> None:
    """Aliases such as champion and challenger, and their history."""


def _describe_move(move: AliasMoveOut) -> str:
    before = "nothing" if move.previous_version is None else f"version {move.previous_version}"
    after = "nothing (removed)" if move.version is None else f"version {move.version}"
    return f"{move.model}@{move.alias}: {before} -> {after}"


@alias.command("set")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.argument("version", type=click.IntRange(min=1))
@url_option
@json_option
@pass_state
def set_alias(state: CliState, name: str, alias_name: str, version: int, as_json: bool) -> None:
    """Point ALIAS of model NAME at VERSION."""
    with state.client() as client:
        move = client.models.set_alias(name, alias_name, version)
    emit_result(move, as_json, _describe_move(move))


@alias.command("delete")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@url_option
@json_option
@pass_state
def delete_alias(state: CliState, name: str, alias_name: str, as_json: bool) -> None:
    """Remove ALIAS from model NAME (the removal stays in the history)."""
    with state.client() as client:
        move = client.models.delete_alias(name, alias_name)
    emit_result(move, as_json, _describe_move(move))


@alias.command("history")
@click.argument("name")
@click.option("--alias", "alias_name", default=None, help="Only this alias (default: all).")
@url_option
@json_option
@pass_state
def alias_history(state: CliState, name: str, alias_name: str | None, as_json: bool) -> None:
    """Show every alias move of model NAME, oldest first."""
    with state.client() as client:
        moves = client.models.alias_history(name, alias_name)
    if as_json:
        emit_json(moves)
        return
    rows = ((m.alias, m.previous_version, m.version, m.moved_by, m.moved_at) for m in moves)
    print_table(
        f"alias history of {name}", ["alias", "from", "to", "by", "at"], rows, empty="no moves"
    )


@alias.command("at")
@click.argument("name")
@click.argument("alias_name", metavar="ALIAS")
@click.option(
    "--at",
    "moment",
    required=True,
    callback=_parse_time,
    help="ISO-8601 time with an offset, e.g. 2026-01-31T12:00:00Z.",
)
@url_option
@json_option
@pass_state
def alias_at(state: CliState, name: str, alias_name: str, moment: datetime, as_json: bool) -> None:
    """Show the version ALIAS of model NAME pointed to at a moment."""
    with state.client() as client:
        version = client.models.alias_at(name, alias_name, moment)
    emit_result(
        version, as_json, f"{name}@{alias_name} at {moment.isoformat()}: version {version.version}"
    )
