"""`lockgate evidence`: export a version's evidence bundle from a server, and verify a bundle
offline with no server at all; `lockgate compliance`: the compliance report."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from lockgate.api.evidence import ComplianceReportOut, EvidenceVerdictOut, ShareOut
from lockgate.cli.context import CliState, json_option, pass_state, url_option
from lockgate.cli.output import (
    emit_json,
    error_console,
    format_time,
    print_fields,
    print_table,
    stdout_console,
)
from lockgate.sdk.evidence import fingerprint_of_pem, verify_bundle

__all__ = ["compliance", "evidence"]


@click.group()
def evidence() -> None:
    """Evidence bundles: everything an auditor needs about one model version, signed."""


@evidence.command("export")
@click.argument("ref", metavar="MODEL/VERSION")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=True, path_type=Path),
    help="Where to write the bundle (a .zip file, or an existing directory).",
)
@url_option
@pass_state
def export(state: CliState, ref: str, output: Path) -> None:
    """Download the signed evidence bundle of a version (needs audit.read)."""
    with state.client() as client:
        written = client.evidence.export(ref, output)
    error_console().print(f"evidence bundle of {escape(ref)} written to", highlight=False)
    click.echo(str(written))


@evidence.command("verify")
@click.argument("bundle", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--public-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="PEM public key that must have signed the bundle (the registry's signing key).",
)
@click.option(
    "--fingerprint",
    default=None,
    help="sha256 (hex) of the public key that must have signed the bundle (its key_id).",
)
@json_option
def verify(bundle: Path, public_key: Path | None, fingerprint: str | None, as_json: bool) -> None:
    """Check a bundle offline; exit 1 naming the first problem."""
    if public_key is not None and fingerprint is not None:
        raise click.UsageError("give --public-key or --fingerprint, not both")
    if public_key is not None:
        fingerprint = fingerprint_of_pem(public_key.read_text(encoding="utf-8"))
    verdict = EvidenceVerdictOut.from_domain(
        verify_bundle(bundle, trusted_key_fingerprint=fingerprint)
    )
    if as_json:
        emit_json(verdict)
    else:
        _print_verdict(verdict)
    if not verdict.ok:
        raise click.exceptions.Exit(1)


def _print_verdict(verdict: EvidenceVerdictOut) -> None:
    out = stdout_console()
    for check in verdict.checks:
        out.print(f"[green]ok[/green]   {escape(check)}", highlight=False)
    if not verdict.ok:
        error_console().print(
            f"[red]evidence bundle refused[/red]: {escape(verdict.problem or '')}",
            highlight=False,
            soft_wrap=True,
        )
        return
    out.print(
        f"[green]evidence bundle intact[/green]: {escape(verdict.subject or '')}, "
        f"{len(verdict.members)} members, audit head {verdict.audit_head_seq}",
        highlight=False,
    )
    if not verdict.key_pinned:
        error_console().print(
            "[yellow]warning[/yellow]: the signing key was not pinned; anyone could have "
            "made a consistent bundle. Pass --public-key or --fingerprint (the registry's "
            "key_id from GET /api/v1/signing-key).",
            highlight=False,
            soft_wrap=True,
        )


@click.command("compliance")
@click.option(
    "--project",
    default=None,
    help="Report on this project (needs project.read); by default the whole platform "
    "(needs audit.read).",
)
@url_option
@json_option
@pass_state
def compliance(state: CliState, project: str | None, as_json: bool) -> None:
    """How the models in production stand against the governance rules."""
    with state.client() as client:
        report = client.compliance.report(project)
    if as_json:
        emit_json(report)
        return
    _print_report(report)


def _share(share: ShareOut) -> str:
    if share.ratio is None:
        return "n/a (no production models)"
    return f"{share.ratio:.0%} ({share.count} of {share.total})"


def _yes(flag: bool) -> str:
    return "[green]yes[/green]" if flag else "[red]no[/red]"


def _print_report(report: ComplianceReportOut) -> None:
    scope = f"project {report.project}" if report.project else "the platform"
    print_fields(
        f"compliance of {scope} in {report.environment or 'no environment'}",
        [
            ("generated", format_time(report.generated_at)),
            ("production models", report.production_models),
            ("complete lineage", _share(report.lineage_complete)),
            ("required metadata", _share(report.metadata_complete)),
            ("complete model card", _share(report.card_complete)),
            ("approvals per policy", _share(report.approvals_per_policy)),
            ("policy compliance", _share(report.policy_compliant)),
            ("active exceptions", report.active_exception_count),
        ],
    )
    rows = (
        (
            escape(m.project),
            escape(f"{m.model}/{m.version}"),
            m.tier,
            _yes(m.lineage_complete),
            _yes(m.metadata_complete)
            + ("" if m.metadata_complete else f" ({escape(', '.join(m.metadata_missing))})"),
            f"{m.card_completeness:.2f}",
            _yes(m.approvals_per_policy),
            _yes(m.policy_compliant),
            m.active_exceptions,
        )
        for m in report.models
    )
    print_table(
        "production models",
        [
            "project",
            "version",
            "tier",
            "lineage",
            "metadata",
            "card",
            "approvals",
            "policy",
            "exceptions",
        ],
        rows,
        empty="no model has a version in production",
    )
    exceptions = (
        (
            e.id,
            escape(f"{e.model}/{e.version}"),
            e.environment,
            e.gate,
            escape(e.approved_by or ""),
            format_time(e.expires_at),
        )
        for e in report.active_exceptions
    )
    print_table(
        "active exceptions",
        ["id", "version", "environment", "gate", "approved by", "expires"],
        exceptions,
        empty="no active exceptions",
    )
