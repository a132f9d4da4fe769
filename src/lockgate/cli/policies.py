"""`lockgate policy`: run Rego policy unit tests locally, and propose, review and read a
project's gate policies on the server."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from lockgate.api.policies import ProjectPolicyOut
from lockgate.cli.context import CliState, json_option, pass_state, url_option
from lockgate.cli.output import emit_json, emit_result, print_fields, print_table, stdout_console
from lockgate.compute.policy import (
    PolicyTestOutcome,
    PolicyTestReport,
    builtin_modules,
    gate_name,
    is_engine_available,
    module_package,
    run_policy_tests,
)
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.governance import RiskTier
from lockgate.domain.governance.policies import PolicyStatus

__all__ = ["policy"]

_OUTCOME_STYLE = {
    PolicyTestOutcome.PASSED: "[green]PASS[/green]",
    PolicyTestOutcome.FAILED: "[bold red]FAIL[/bold red]",
    PolicyTestOutcome.ERROR: "[bold red]ERROR[/bold red]",
    PolicyTestOutcome.SKIPPED: "[yellow]SKIP[/yellow]",
}


@click.group("policy")
def policy() -> None:
    """Gate policies in Rego: test them locally; propose, review and read a project's."""


@policy.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--tier",
    type=click.Choice([t.value for t in RiskTier]),
    default=None,
    help="Load the built-in gates and requirements of this tier too (for policies that import them).",
)
@json_option
def policy_test_command(paths: tuple[Path, ...], tier: str | None, as_json: bool) -> None:
    """Run the `test_*` rules of every .rego file under PATHS, locally (no server). A test
    passes when it evaluates to true. Exits 1 when a test fails or errors, or none ran."""
    if not is_engine_available():
        raise click.ClickException(
            "the Rego engine (regopy) is not installed: install lockgate[server]"
        )
    extra = builtin_modules(RiskTier(tier)) if tier else ()
    report = run_policy_tests(list(paths), extra=extra)
    if as_json:
        emit_json(_report_document(report))
    else:
        _print_report(report)
    if not report.ok:
        raise click.exceptions.Exit(1)


def _report_document(report: PolicyTestReport) -> dict[str, object]:
    return {
        "ok": report.ok,
        "counts": {outcome.value: report.count(outcome) for outcome in PolicyTestOutcome},
        "results": [
            {
                "module": r.module,
                "package": r.package,
                "name": r.name,
                "outcome": r.outcome.value,
                "message": r.message,
            }
            for r in report.results
        ],
    }


def _print_report(report: PolicyTestReport) -> None:
    rows = (
        (
            escape(r.module),
            escape(r.package),
            escape(r.name),
            _OUTCOME_STYLE[r.outcome],
            escape(r.message or ""),
        )
        for r in report.results
    )
    print_table(
        "policy tests", ["file", "package", "test", "result", "message"], rows, empty="no tests"
    )
    counts = ", ".join(f"{report.count(o)} {o.value}" for o in PolicyTestOutcome)
    verdict = "[green]ok[/green]" if report.ok else "[bold red]FAILED[/bold red]"
    if not report.results:
        verdict = "[bold red]FAILED[/bold red] (no test rules found)"
    stdout_console().print(f"{verdict}: {counts}", highlight=False)


@policy.command("list")
@click.argument("project")
@click.option("--name", default=None, help="Only the versions of this policy.")
@click.option(
    "--status",
    type=click.Choice([s.value for s in PolicyStatus]),
    default=None,
    help="Only versions in this status.",
)
@url_option
@json_option
@pass_state
def list_policies(
    state: CliState, project: str, name: str | None, status: str | None, as_json: bool
) -> None:
    """List a project's policy versions by name, newest version first."""
    with state.client() as client:
        found = list(client.policies.list(project, name=name, status=status))
    if as_json:
        emit_json(found)
        return
    rows = (
        (
            p.name,
            p.version,
            p.status.value,
            p.proposed_by,
            p.proposed_at,
            p.reviewed_by,
            p.sha256[:12],
        )
        for p in found
    )
    print_table(
        f"policies of {project}",
        ["name", "version", "status", "proposed by", "proposed", "reviewed by", "sha256"],
        rows,
        empty="no project policies (only the built-in gates apply)",
    )


@policy.command("show")
@click.argument("project")
@click.argument("name")
@click.option("--version", type=click.IntRange(min=1), default=None, help="Default: the newest.")
@url_option
@json_option
@pass_state
def show_policy(
    state: CliState, project: str, name: str, version: int | None, as_json: bool
) -> None:
    """Show one version of a policy with its source and tests."""
    with state.client() as client:
        found = client.policies.get(project, name, version)
    if as_json:
        emit_json(found)
        return
    _print_policy(found)


def _print_policy(found: ProjectPolicyOut) -> None:
    print_fields(
        f"policy {found.project}/{found.name} version {found.version}",
        [
            ("status", found.status.value),
            ("package", found.package),
            ("sha256", found.sha256),
            ("proposed by", found.proposed_by),
            ("proposed", found.proposed_at),
            ("description", found.description),
            ("reviewed by", found.reviewed_by),
            ("reviewed", found.reviewed_at),
            ("comment", found.comment),
            ("superseded", found.superseded_at),
        ],
    )
    console = stdout_console()
    console.print("[bold]source[/bold]")
    console.print(found.source, markup=False, highlight=False)
    if found.tests:
        console.print("[bold]tests[/bold]")
        console.print(found.tests, markup=False, highlight=False)


@policy.command("propose")
@click.argument("project")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--name",
    default=None,
    help="The policy's name. Default: <gate> of the module's `package lockgate.gates.<gate>`.",
)
@click.option(
    "--tests",
    "tests_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A Rego test module; the server runs its test_* rules before it accepts the policy.",
)
@click.option("--description", default="", help="What changes and why, for the reviewer.")
@url_option
@json_option
@pass_state
def propose_policy(
    state: CliState,
    project: str,
    source: Path,
    name: str | None,
    tests_path: Path | None,
    description: str,
    as_json: bool,
) -> None:
    """Propose the Rego module in SOURCE as the next version of a project policy; it takes
    effect once a reviewer other than you approves it."""
    text = source.read_text("utf-8")
    if name is None:
        name = gate_name(module_package(text))
        if name is None:
            raise InvalidInputError(
                f"{source} declares no `package lockgate.gates.<name>`: give --name",
                field="name",
            )
    tests = tests_path.read_text("utf-8") if tests_path is not None else ""
    with state.client() as client:
        proposed = client.policies.propose(
            project, name, text, tests=tests, description=description
        )
    emit_result(
        proposed,
        as_json,
        f"proposed policy {proposed.name} version {proposed.version} in {proposed.project}; "
        "a reviewer must approve it",
    )


@policy.command("approve")
@click.argument("project")
@click.argument("name")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--comment", default="", help="A note for the record.")
@url_option
@json_option
@pass_state
def approve_policy(
    state: CliState, project: str, name: str, version: int, comment: str, as_json: bool
) -> None:
    """Approve a proposed policy version (not your own): it becomes active, and the version
    active before it is superseded."""
    with state.client() as client:
        approved = client.policies.approve(project, name, version, comment=comment)
    emit_result(approved, as_json, f"policy {approved.name} version {approved.version} is active")


@policy.command("reject")
@click.argument("project")
@click.argument("name")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--comment", required=True, help="Why it is rejected (required).")
@url_option
@json_option
@pass_state
def reject_policy(
    state: CliState, project: str, name: str, version: int, comment: str, as_json: bool
) -> None:
    """Reject a proposed policy version, saying why."""
    with state.client() as client:
        rejected = client.policies.reject(project, name, version, comment=comment)
    emit_result(rejected, as_json, f"policy {rejected.name} version {rejected.version} is rejected")
