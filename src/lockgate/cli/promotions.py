"""`lockgate promote`, `lockgate promotions`, `lockgate environments`, `lockgate exceptions`
and `lockgate models tier`: governed promotion from the command line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import click
from rich.markup import escape

from lockgate.api.promotions import (
    EnvironmentChangeOut,
    ExceptionOut,
    GateDecisionOut,
    PromotionDetailOut,
    PromotionOut,
)
from lockgate.cli.context import CliState, json_option, pass_state, url_option
from lockgate.cli.output import (
    Cell,
    emit_json,
    emit_result,
    print_fields,
    print_table,
    stdout_console,
)
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.registry import ModelRef
from lockgate.sdk import Client

__all__ = [
    "environments",
    "exceptions",
    "print_promotion",
    "print_version_promotions",
    "promote",
    "promotions",
    "tier_command",
]

REQUEST_STATUSES = ["open", "promoted", "rejected", "cancelled"]
EXCEPTION_STATUSES = ["requested", "active", "revoked", "expired"]


def _version_ref(ref: str) -> tuple[str, int]:
    parsed = ModelRef.parse(ref, field="ref")
    if parsed.version is None:
        raise InvalidInputError(
            f"{ref!r} names no version: give NAME/VERSION, e.g. churn/3", field="ref"
        )
    return parsed.name, parsed.version


def _parse_time(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """An ISO-8601 time that carries its offset (`Z` or `+02:00`)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 time", ctx, param) from exc
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} needs an offset such as Z or +00:00", ctx, param)
    return moment


def _status_label(status: str) -> str:
    colors = {"promoted": "green", "open": "yellow", "rejected": "red", "cancelled": "dim"}
    return f"[{colors.get(status, 'white')}]{status}[/]"


def _gate_rows(decision: GateDecisionOut) -> list[tuple[str, str, str, str]]:
    rows = []
    for result in decision.results:
        if result.error is not None:
            verdict, detail = "[bold red]ERROR[/]", result.error
        elif result.passed:
            verdict, detail = "[green]pass[/]", ""
        elif result.waived_by is not None:
            verdict, detail = "[yellow]waived[/]", f"by exception {result.waived_by}"
        else:
            verdict, detail = "[red]deny[/]", "; ".join(result.reasons)
        rows.append((result.gate, verdict, escape(detail), escape(result.source)))
    return rows


def print_decision(decision: GateDecisionOut) -> None:
    """A gate decision: the outcome, its hashes, and one row per gate."""
    outcome = "[bold green]ALLOWED[/]" if decision.allowed else "[bold red]BLOCKED[/]"
    stdout_console().print(
        f"gates {outcome} ({decision.trigger} by {escape(decision.decided_by)}, "
        f"input sha256 {decision.input_sha256[:16]}..., policies {decision.policy_digest[:16]}...)",
        highlight=False,
    )
    print_table(None, ["gate", "result", "detail", "source"], _gate_rows(decision))


def print_promotion(detail: PromotionDetailOut) -> None:
    """A request, its approvals and its latest gate decision."""
    request = detail.request
    print_fields(
        f"promotion {request.id}",
        [
            ("version", f"{request.model}/{request.version}"),
            ("to", request.environment),
            ("status", request.status.value),
            ("reason", request.reason),
            ("requested by", request.requested_by),
            ("requested", request.requested_at),
            *(
                (("closed by", request.closed_by), ("closed", request.closed_at))
                if request.closed_at is not None
                else ()
            ),
            *((("comment", request.comment),) if request.comment else ()),
        ],
    )
    rows = (
        (a.reviewer, a.approved_at, a.expires_at, "expired" if a.expired else "valid", a.comment)
        for a in detail.approvals
    )
    print_table(
        "approvals",
        ["reviewer", "approved", "expires", "state", "comment"],
        rows,
        empty="no approvals yet",
    )
    if detail.decision is not None:
        print_decision(detail.decision)


def print_version_promotions(client: Client, name: str, version: int) -> None:
    """Where a version is current, and its open promotion requests (for `models show`)."""
    current = [c for c in client.environments.current(name) if c.version == version]
    waiting = list(client.promotions.list(name, version=version, status="open"))
    rows = ((c.environment, c.since, c.request_id) for c in current)
    print_table("current in", ["environment", "since", "request"], rows, empty="current nowhere")
    print_table(
        "open promotion requests",
        _REQUEST_COLUMNS,
        _request_rows(waiting),
        empty="no open promotion requests",
    )


def _outcome(detail: PromotionDetailOut) -> str:
    request = detail.request
    target = f"{request.model}/{request.version} -> {request.environment}"
    if request.status.value == "promoted":
        return f"[green]promoted[/green] {target} (request {request.id})"
    if request.status.value != "open":
        return f"{request.status.value} {target} (request {request.id}): {request.comment}"
    reasons = detail.decision.deny_reasons if detail.decision is not None else []
    lines = [f"[yellow]waiting[/yellow] {target} (request {request.id}):"]
    lines += [f"  - {escape(reason)}" for reason in reasons]
    return "\n".join(lines)


def _emit_detail(detail: PromotionDetailOut, as_json: bool) -> None:
    if as_json:
        emit_json(detail)
    else:
        stdout_console().print(_outcome(detail), highlight=False)


@click.command("promote")
@click.argument("ref", metavar="MODEL/VERSION")
@click.option("--to", "environment", required=True, help="The environment to enter.")
@click.option("--reason", required=True, help="Why this version should go there.")
@url_option
@json_option
@pass_state
def promote(state: CliState, ref: str, environment: str, reason: str, as_json: bool) -> None:
    """Ask for MODEL/VERSION to enter an environment. The request is evaluated at once: it
    is promoted when the gates allow, or waits for approvals (the blocking reasons are
    printed)."""
    name, version = _version_ref(ref)
    with state.client() as client:
        detail = client.promotions.request(name, version, to=environment, reason=reason)
    _emit_detail(detail, as_json)


@click.group()
def promotions() -> None:
    """Promotion requests: list, show, approve, reject, cancel and re-check them."""


@promotions.command("list")
@click.option("--model", "name", default=None, help="Only this model's requests.")
@click.option("--version", type=click.IntRange(min=1), default=None, help="With --model.")
@click.option("--status", type=click.Choice(REQUEST_STATUSES), default=None, help="Only these.")
@url_option
@json_option
@pass_state
def list_promotions(
    state: CliState, name: str | None, version: int | None, status: str | None, as_json: bool
) -> None:
    """List promotion requests, newest first (every project you may read, or one model)."""
    if version is not None and name is None:
        raise InvalidInputError("--version needs --model", field="version")
    with state.client() as client:
        found = list(client.promotions.list(name, version=version, status=status))
    if as_json:
        emit_json(found)
        return
    print_table("promotion requests", _REQUEST_COLUMNS, _request_rows(found), empty="no requests")


_REQUEST_COLUMNS = ["id", "version", "to", "status", "requested by", "requested", "reason"]


def _request_rows(requests: Sequence[PromotionOut]) -> list[tuple[Cell, ...]]:
    return [
        (
            r.id,
            f"{r.model}/{r.version}",
            r.environment,
            _status_label(r.status.value),
            r.requested_by,
            r.requested_at,
            escape(r.reason),
        )
        for r in requests
    ]


@promotions.command("show")
@click.argument("promotion_id", metavar="ID")
@url_option
@json_option
@pass_state
def show_promotion(state: CliState, promotion_id: str, as_json: bool) -> None:
    """Show a request with its approvals and its latest gate decision."""
    with state.client() as client:
        detail = client.promotions.get(promotion_id)
    if as_json:
        emit_json(detail)
    else:
        print_promotion(detail)


@promotions.command("approve")
@click.argument("promotion_id", metavar="ID")
@click.option("--comment", default="", help="What you checked.")
@url_option
@json_option
@pass_state
def approve_promotion(state: CliState, promotion_id: str, comment: str, as_json: bool) -> None:
    """Approve a request (not your own, not of a version you authored); it is evaluated
    again and promotes itself when the gates allow."""
    with state.client() as client:
        detail = client.promotions.approve(promotion_id, comment=comment)
    _emit_detail(detail, as_json)


@promotions.command("reject")
@click.argument("promotion_id", metavar="ID")
@click.option("--comment", required=True, help="Why (required).")
@url_option
@json_option
@pass_state
def reject_promotion(state: CliState, promotion_id: str, comment: str, as_json: bool) -> None:
    """Reject a request, saying why; it ends."""
    with state.client() as client:
        detail = client.promotions.reject(promotion_id, comment=comment)
    _emit_detail(detail, as_json)


@promotions.command("cancel")
@click.argument("promotion_id", metavar="ID")
@click.option("--comment", default="", help="Why.")
@url_option
@json_option
@pass_state
def cancel_promotion(state: CliState, promotion_id: str, comment: str, as_json: bool) -> None:
    """Withdraw a request."""
    with state.client() as client:
        detail = client.promotions.cancel(promotion_id, comment=comment)
    _emit_detail(detail, as_json)


@promotions.command("check")
@click.argument("promotion_id", metavar="ID")
@url_option
@json_option
@pass_state
def check_promotion(state: CliState, promotion_id: str, as_json: bool) -> None:
    """Evaluate a request again (after a new comparison, an exception or a policy change)."""
    with state.client() as client:
        detail = client.promotions.check(promotion_id)
    _emit_detail(detail, as_json)


@click.command("tier")
@click.argument("name", metavar="MODEL")
@click.argument("tier", type=click.Choice(["low", "medium", "high", "critical"]))
@click.option(
    "--monitor",
    default=None,
    help="The monitor watching the model (a name or URL); '' removes it. Kept when omitted.",
)
@url_option
@json_option
@pass_state
def tier_command(state: CliState, name: str, tier: str, monitor: str | None, as_json: bool) -> None:
    """Set MODEL's risk tier, which selects its default gates (needs project.manage)."""
    with state.client() as client:
        if monitor is None:
            monitor = client.promotions.governance(name).monitor
        governance = client.promotions.set_tier(name, tier, monitor=monitor or None)
    watched = governance.monitor or "no monitor"
    emit_result(governance, as_json, f"{name}: tier {governance.tier.value}, {watched}")


@click.group()
def environments() -> None:
    """Environments and the history of what was current in each."""


@environments.command("list")
@url_option
@json_option
@pass_state
def list_environments(state: CliState, as_json: bool) -> None:
    """List environments by order."""
    with state.client() as client:
        found = client.environments.list()
    if as_json:
        emit_json(found)
        return
    rows = ((e.name, e.order, e.description, e.created_by) for e in found)
    print_table("environments", ["name", "order", "description", "created by"], rows)


@environments.command("create")
@click.argument("name")
@click.option("--order", type=int, required=True, help="Position: lower comes first.")
@click.option("--description", default="", help="What the environment is for.")
@url_option
@json_option
@pass_state
def create_environment(
    state: CliState, name: str, order: int, description: str, as_json: bool
) -> None:
    """Define environment NAME (platform admins)."""
    with state.client() as client:
        environment = client.environments.create(name, order=order, description=description)
    emit_result(
        environment, as_json, f"created environment {environment.name} (order {environment.order})"
    )


def _change_rows(changes: Sequence[EnvironmentChangeOut]) -> list[tuple[Cell, ...]]:
    return [
        (
            c.environment,
            c.changed_at,
            "removed" if c.version is None else c.version,
            c.previous_version,
            c.requested_by,
            c.changed_by,
            escape(c.reason),
            c.request_id,
        )
        for c in changes
    ]


_CHANGE_COLUMNS = ["environment", "at", "version", "before", "requested by", "by", "reason"]


@environments.command("history")
@click.argument("name", metavar="MODEL")
@click.option("--env", "environment", default=None, help="Only this environment.")
@click.option(
    "--at",
    "moment",
    default=None,
    callback=_parse_time,
    help="What was live then: ISO-8601 with an offset, e.g. 2026-01-31T12:00:00Z.",
)
@url_option
@json_option
@pass_state
def environment_history(
    state: CliState, name: str, environment: str | None, moment: datetime | None, as_json: bool
) -> None:
    """Show what was current in each environment of MODEL and who put it there, why, and by
    which request; with --at, only what was live at that moment."""
    with state.client() as client:
        names = [environment] if environment else [e.name for e in client.environments.list()]
        changes: list[EnvironmentChangeOut] = []
        for env in names:
            if moment is None:
                changes += client.environments.history(name, env)
            elif (live := client.environments.live_at(name, env, moment)) is not None:
                changes.append(live)
    if as_json:
        emit_json(changes)
        return
    title = f"{name} at {moment.isoformat()}" if moment else f"history of {name}"
    empty = "nothing was live then" if moment else "never promoted"
    print_table(title, [*_CHANGE_COLUMNS, "request"], _change_rows(changes), empty=empty)


@click.group()
def exceptions() -> None:
    """Gate exceptions: waive one gate for one version in one environment, until a time."""


@exceptions.command("request")
@click.argument("ref", metavar="MODEL/VERSION")
@click.option("--env", "environment", required=True, help="The environment.")
@click.option("--gate", required=True, help="The gate to waive, e.g. evaluation.")
@click.option("--justification", required=True, help="Why the gate may be waived.")
@click.option("--expires", default=None, callback=_parse_time, help="ISO-8601 expiry.")
@click.option("--days", type=click.IntRange(min=1), default=None, help="Or: expire in N days.")
@url_option
@json_option
@pass_state
def request_exception(
    state: CliState,
    ref: str,
    environment: str,
    gate: str,
    justification: str,
    expires: datetime | None,
    days: int | None,
    as_json: bool,
) -> None:
    """Ask for a gate to be waived for MODEL/VERSION in an environment (it needs approval
    by someone else, and --expires or --days)."""
    if (expires is None) == (days is None):
        raise InvalidInputError("give exactly one of --expires and --days", field="expires_at")
    if expires is None:
        expires = datetime.now(UTC) + timedelta(days=days or 0)
    name, version = _version_ref(ref)
    with state.client() as client:
        exception = client.exceptions.request(
            name,
            version,
            environment=environment,
            gate=gate,
            justification=justification,
            expires_at=expires,
        )
    emit_result(
        exception,
        as_json,
        f"requested exception {exception.id}: {gate} waived for {ref} in {environment} "
        f"until {exception.expires_at.isoformat()} once approved",
    )


@exceptions.command("approve")
@click.argument("exception_id", metavar="ID")
@click.option("--comment", default="", help="What you checked.")
@url_option
@json_option
@pass_state
def approve_exception(state: CliState, exception_id: str, comment: str, as_json: bool) -> None:
    """Approve an exception (not your own): it waives its gate until it expires."""
    with state.client() as client:
        exception = client.exceptions.approve(exception_id, comment=comment)
    emit_result(
        exception, as_json, f"exception {exception.id} is active until {exception.expires_at}"
    )


@exceptions.command("revoke")
@click.argument("exception_id", metavar="ID")
@click.option("--reason", required=True, help="Why (required).")
@url_option
@json_option
@pass_state
def revoke_exception(state: CliState, exception_id: str, reason: str, as_json: bool) -> None:
    """Revoke an exception; it waives nothing after."""
    with state.client() as client:
        exception = client.exceptions.revoke(exception_id, reason=reason)
    emit_result(exception, as_json, f"exception {exception.id} is revoked")


def _exception_rows(found: Sequence[ExceptionOut]) -> list[tuple[Cell, ...]]:
    return [
        (
            e.id,
            f"{e.model}/{e.version}",
            e.environment,
            e.gate,
            e.status.value,
            e.expires_at,
            e.requested_by,
            e.approved_by,
            escape(e.justification),
        )
        for e in found
    ]


@exceptions.command("list")
@click.argument("ref", metavar="MODEL/VERSION")
@click.option("--status", type=click.Choice(EXCEPTION_STATUSES), default=None, help="Only these.")
@url_option
@json_option
@pass_state
def list_exceptions(state: CliState, ref: str, status: str | None, as_json: bool) -> None:
    """List the gate exceptions of MODEL/VERSION."""
    name, version = _version_ref(ref)
    with state.client() as client:
        found = client.exceptions.list(name, version, status=status)
    if as_json:
        emit_json(found)
        return
    columns = ["id", "version", "environment", "gate", "status", "expires", "requested by"]
    print_table(
        f"exceptions of {ref}",
        [*columns, "approved by", "justification"],
        _exception_rows(found),
        empty="no exceptions",
    )
