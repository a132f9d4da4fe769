"""`lockgate retire`: retire a version or a whole model; and `lockgate admin retention`: the
artifact retention pass (and its dry run) and the purges it recorded, run on the database
and the artifact store directly through the composition root."""

from __future__ import annotations

import click

from lockgate.api.decommission import (
    ArtifactPurgeOut,
    ModelRetirementOut,
    RetentionOut,
    RetirementOut,
)
from lockgate.cli.context import CliState, json_option, pass_state, settings_options, url_option
from lockgate.cli.output import emit_json, emit_result, print_table
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.governance.retirement import RetirementStatus
from lockgate.domain.registry import ModelRef

__all__ = ["retention", "retire"]

# Purges read per query by `lockgate admin retention purges`.
PURGES_PAGE = 1000


@click.command("retire")
@click.argument("ref")
@click.option("--reason", required=True, help="Why it is retired (kept in the audit log).")
@url_option
@json_option
@pass_state
def retire(state: CliState, ref: str, reason: str, as_json: bool) -> None:
    """Retire version REF (NAME/VERSION) or a whole model (NAME). A version in an environment
    leaves it through a retirement request (the same gates as a promotion; approve it with
    `lockgate promotions approve`), then is archived: it loses its aliases, keeps its audit
    trail and evidence, and its artifact bytes until the retention period ends."""
    parsed = ModelRef.parse(ref, field="ref")
    if parsed.alias is not None:
        raise InvalidInputError("name the version by number: NAME/VERSION", field="ref")
    with state.client() as client:
        if parsed.version is None:
            retired = client.decommission.retire_model(parsed.name, reason=reason)
            _emit_model(retired, as_json)
            return
        version = client.decommission.retire_version(parsed.name, parsed.version, reason=reason)
    emit_result(version, as_json, _describe(version))


def _describe(retirement: RetirementOut) -> str:
    ref = f"{retirement.model}/{retirement.version}"
    if retirement.status is RetirementStatus.ALREADY_ARCHIVED:
        return f"{ref} was retired already"
    if retirement.archive is None:
        requests = ", ".join(
            f"{request} ({env})"
            for env, request in zip(retirement.environments, retirement.requests, strict=False)
        )
        return (
            f"{ref} is retiring through requests {requests}; it is archived once it has left "
            "every environment (approve the open ones with `lockgate promotions approve ID`)"
        )
    left = f"; left {', '.join(retirement.environments)}" if retirement.environments else ""
    aliases = (
        f"; removed aliases {', '.join(retirement.removed_aliases)}"
        if retirement.removed_aliases
        else ""
    )
    kept = retirement.archive.retain_until.date().isoformat()
    return f"retired {ref}{left}{aliases}; artifacts kept until {kept}"


def _emit_model(retired: ModelRetirementOut, as_json: bool) -> None:
    if as_json:
        emit_json(retired)
        return
    for version in retired.versions:
        click.echo(_describe(version))
    if retired.archive is None:
        click.echo(f"model {retired.model} is retired once its last version is")
    else:
        click.echo(f"retired model {retired.model}")


@click.group("retention")
def retention() -> None:
    """Artifact retention: purge the bytes that only retired versions held, once their
    retention period has passed."""


@retention.command("apply")
@click.option("--dry-run", is_flag=True, help="List what would be purged; change nothing.")
@settings_options
@json_option
@pass_state
def apply(state: CliState, dry_run: bool, as_json: bool) -> None:
    """Purge the artifact bytes that retired versions alone hold past their retention
    (`retain_until`), record each purge and a `retention.applied` audit event. Metadata,
    the audit trail and evidence are never purged."""
    from lockgate.server.composition import build_platform

    platform = build_platform(state.settings())
    try:
        operator = platform.operator()
        if dry_run:
            result = RetentionOut.from_plan(
                platform.decommission.plan_retention(operator), dry_run=True
            )
        else:
            outcome = platform.decommission.apply_retention(operator)
            result = RetentionOut.from_plan(outcome.plan, dry_run=False, failed=outcome.failed)
    finally:
        platform.close()
    if as_json:
        emit_json(result)
    else:
        _print_retention(result)
    if result.failed:
        raise click.ClickException(
            f"{len(result.failed)} blob(s) could not be deleted; run the command again"
        )


def _print_retention(result: RetentionOut) -> None:
    verb = "would purge" if result.dry_run else "purged"
    print_table(
        f"blobs {verb}",
        ["sha256", "bytes", "versions"],
        ((p.digest[:12], p.size, ", ".join(p.versions)) for p in result.purged),
        empty="nothing to purge",
    )
    if result.kept:
        print_table(
            "blobs kept",
            ["sha256", "why"],
            ((k.digest[:12], k.reason) for k in result.kept),
        )
    for failure in result.failed:
        click.secho(f"could not delete {failure.digest}: {failure.error}", fg="red", err=True)
    click.echo(
        f"{verb} {len(result.purged)} blob(s), {result.purged_bytes} bytes; kept {len(result.kept)}"
    )


@retention.command("purges")
@settings_options
@json_option
@pass_state
def purges(state: CliState, as_json: bool) -> None:
    """List every purge retention recorded, newest first."""
    from lockgate.server.composition import build_platform

    platform = build_platform(state.settings())
    try:
        found: list[ArtifactPurgeOut] = []
        cursor: str | None = None
        while True:
            page = platform.decommission.list_purges(platform.operator(), PURGES_PAGE, cursor)
            found += [ArtifactPurgeOut.from_domain(p) for p in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
    finally:
        platform.close()
    if as_json:
        emit_json(found)
        return
    print_table(
        "artifact purges",
        ["purged", "sha256", "bytes", "versions", "by"],
        ((p.purged_at, p.digest[:12], p.size, ", ".join(p.versions), p.purged_by) for p in found),
        empty="no purges",
    )
