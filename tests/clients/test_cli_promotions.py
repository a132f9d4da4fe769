"""`lockgate promote`, `promotions`, `environments`, `exceptions` and `models tier` against
the real app with auth on, on each dialect: what people read, what scripts parse, and the
exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner, Result

from lockgate.cli.context import CliState
from lockgate.cli.main import cli
from tests.support.promotion_clients import Team, team

__all__ = ["team"]  # the fixture, imported for pytest

As = Callable[..., Result]


@pytest.fixture
def run_as(team: Team) -> As:
    """Run `lockgate ARGS...` as one member of the team."""
    runner = CliRunner()

    def run(name: str, *args: str) -> Result:
        state = CliState(transport=team.transport, token=team.tokens[name])
        return runner.invoke(cli, list(args), obj=state)

    return run


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def test_promote_approve_and_read_the_history(run_as: As) -> None:
    tier = _ok(run_as("root", "models", "tier", "clf", "low", "--monitor", "grafana:clf"))
    assert "clf: tier low, grafana:clf" in tier
    assert "tier high, grafana:clf" in _ok(run_as("root", "models", "tier", "clf", "high"))
    _ok(run_as("root", "models", "tier", "clf", "low"))

    promoted = _ok(run_as("erin", "promote", "clf/1", "--to", "dev", "--reason", "smoke test"))
    assert "promoted clf/1 -> dev" in promoted
    waiting = _ok(run_as("erin", "promote", "clf/1", "--to", "staging", "--reason", "ready"))
    assert "waiting clf/1 -> staging" in waiting
    assert "- approvals: 0 of 1 required approvals" in waiting
    listed = json.loads(_ok(run_as("carol", "promotions", "list", "--status", "open", "--json")))
    (request,) = listed
    request_id = request["id"]
    shown = _ok(run_as("carol", "promotions", "show", request_id))
    assert "BLOCKED" in shown
    assert "approvals" in shown
    assert "no approvals yet" in shown

    refused = run_as("root", "promotions", "approve", request_id)
    assert refused.exit_code == 1
    assert "authored clf/1" in refused.output
    approved = _ok(run_as("carol", "promotions", "approve", request_id, "--comment", "fine"))
    assert "promoted clf/1 -> staging" in approved
    detail = json.loads(_ok(run_as("erin", "promotions", "show", request_id, "--json")))
    assert detail["request"]["status"] == "promoted"
    assert detail["decision"]["allowed"] is True
    assert detail["decision"]["input"]["approvals"][0]["reviewer"] == "user:carol"

    history = _ok(run_as("erin", "environments", "history", "clf"))
    assert "smoke test" in history
    assert "ready" in history
    at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    live = json.loads(
        _ok(
            run_as(
                "erin", "environments", "history", "clf", "--env", "staging", "--at", at, "--json"
            )
        )
    )
    assert [(c["version"], c["changed_by"]) for c in live] == [(1, "user:carol")]
    past = _ok(run_as("erin", "environments", "history", "clf", "--at", "2000-01-01T00:00:00Z"))
    assert "nothing was live then" in past
    naive = run_as("erin", "environments", "history", "clf", "--at", "2026-01-01T00:00:00")
    assert naive.exit_code == 2
    shown = _ok(run_as("erin", "models", "show", "clf/1"))
    assert "current in" in shown
    assert "staging" in shown
    assert "no open promotion requests" in shown


def test_reject_cancel_and_check(run_as: As) -> None:
    opened = json.loads(
        _ok(run_as("erin", "promote", "clf/2", "--to", "staging", "--reason", "r", "--json"))
    )
    request_id = opened["request"]["id"]
    checked = _ok(run_as("erin", "promotions", "check", request_id))
    assert "waiting clf/2 -> staging" in checked
    missing = run_as("carol", "promotions", "reject", request_id)
    assert missing.exit_code == 2  # --comment is required
    rejected = _ok(run_as("carol", "promotions", "reject", request_id, "--comment", "no report"))
    assert "rejected clf/2 -> staging" in rejected
    assert "no report" in rejected
    again = run_as("erin", "promotions", "cancel", request_id)
    assert again.exit_code == 1
    assert "rejected" in again.output
    second = json.loads(
        _ok(run_as("erin", "promote", "clf/2", "--to", "staging", "--reason", "r", "--json"))
    )
    cancelled = _ok(run_as("erin", "promotions", "cancel", second["request"]["id"]))
    assert "cancelled clf/2 -> staging" in cancelled
    table = _ok(run_as("erin", "promotions", "list", "--model", "clf", "--version", "2"))
    assert "rejected" in table
    assert "cancelled" in table
    bad = run_as("erin", "promotions", "list", "--version", "2")
    assert bad.exit_code == 1
    assert "--version needs --model" in bad.output
    not_a_version = run_as("erin", "promote", "clf", "--to", "dev", "--reason", "r")
    assert not_a_version.exit_code == 1
    assert "NAME/VERSION" in not_a_version.output


def test_environments_and_exceptions(run_as: As) -> None:
    created = _ok(run_as("root", "environments", "create", "canary", "--order", "25"))
    assert "created environment canary (order 25)" in created
    assert "canary" in _ok(run_as("erin", "environments", "list"))
    refused = run_as("erin", "environments", "create", "qa", "--order", "15")
    assert refused.exit_code == 1
    assert "environment.manage" in refused.output

    requested = json.loads(
        _ok(
            run_as(
                "erin",
                "exceptions",
                "request",
                "clf/2",
                "--env",
                "production",
                "--gate",
                "evaluation",
                "--justification",
                "holdout rebuilt",
                "--days",
                "3",
                "--json",
            )
        )
    )
    assert requested["status"] == "requested"
    both = run_as(
        "erin",
        "exceptions",
        "request",
        "clf/2",
        "--env",
        "production",
        "--gate",
        "evaluation",
        "--justification",
        "x",
    )
    assert both.exit_code == 1
    assert "exactly one of --expires and --days" in both.output
    approved = _ok(run_as("carol", "exceptions", "approve", requested["id"]))
    assert f"exception {requested['id']} is active" in approved
    listed = _ok(run_as("erin", "exceptions", "list", "clf/2"))
    assert "active" in listed
    assert "holdout rebuilt" in listed
    revoked = _ok(run_as("dave", "exceptions", "revoke", requested["id"], "--reason", "back"))
    assert "revoked" in revoked
    revoked_only = json.loads(
        _ok(run_as("erin", "exceptions", "list", "clf/2", "--status", "revoked", "--json"))
    )
    assert [e["id"] for e in revoked_only] == [requested["id"]]
