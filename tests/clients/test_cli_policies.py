"""`lockgate policy`: `test` runs Rego unit tests locally and its exit code says whether they
all passed; `propose|list|show|approve|reject` talk to the real app in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lockgate.cli.main import cli
from lockgate.sdk import Client
from tests.clients.conftest import CliInvoke

GATE = """package lockgate.gates.ticket

# A promotion to production names its change ticket in the reason.
deny contains "the reason names no change ticket" if {
	input.environment.name == "production"
	not regex.match(`CHG-[0-9]+`, input.request.reason)
}
"""

TESTS = """package lockgate.gates.ticket_test

import data.lockgate.gates.ticket

test_a_ticket_passes if {
	count(ticket.deny) == 0 with input.environment.name as "production"
		with input.request.reason as "CHG-42: better recall"
}

test_no_ticket_denies if {
	count(ticket.deny) == 1 with input.environment.name as "production"
		with input.request.reason as "just because"
}

test_staging_needs_none if {
	count(ticket.deny) == 0 with input.environment.name as "staging"
		with input.request.reason as ""
}

todo_test_emergency_changes if {
	false
}
"""


def _policies(tmp_path: Path, tests: str = TESTS, gate: str = GATE) -> Path:
    folder = tmp_path / "policies"
    (folder / "nested").mkdir(parents=True)
    (folder / "ticket.rego").write_text(gate)
    (folder / "nested" / "ticket_test.rego").write_text(tests)
    return folder


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["policy", "test", *args])
    return result.exit_code, result.output


def test_passing_tests_exit_zero(tmp_path: Path) -> None:
    code, output = _run(str(_policies(tmp_path)))
    assert code == 0, output
    assert "test_a_ticket_passes" in output
    assert "3 passed, 0 failed, 0 error, 1 skipped" in output
    assert "SKIP" in output


def test_a_failing_test_exits_one(tmp_path: Path) -> None:
    folder = _policies(tmp_path, tests=TESTS.replace("== 1 with", "== 2 with"))
    code, output = _run(str(folder))
    assert code == 1
    assert "FAIL" in output
    assert "test_no_ticket_denies" in output
    assert "2 passed, 1 failed" in output


def test_a_module_that_does_not_parse_exits_one(tmp_path: Path) -> None:
    folder = _policies(tmp_path, gate=GATE.replace("not regex", "not regex("))
    code, output = _run(str(folder), "--json")
    assert code == 1
    report = json.loads(output)
    assert not report["ok"]
    (load,) = [r for r in report["results"] if r["name"] == "<load>"]
    assert load["outcome"] == "error"
    assert load["module"].endswith("ticket.rego")
    assert report["counts"]["error"] >= 1


def test_no_tests_at_all_exits_one(tmp_path: Path) -> None:
    folder = _policies(tmp_path, tests="package lockgate.gates.ticket_test\n")
    code, output = _run(str(folder))
    assert code == 1
    assert "no test rules found" in output


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    code, output = _run(str(tmp_path / "nowhere"))
    assert code == 2
    assert "does not exist" in output


def test_tier_loads_the_builtin_requirements(tmp_path: Path) -> None:
    uses_requirements = """package lockgate.gates.strict_test

import data.lockgate.requirements

test_critical_production_needs_two if {
	requirements.current.approvals == 2 with input.environment.name as "production"
}
"""
    path = tmp_path / "strict_test.rego"
    path.write_text(uses_requirements)
    assert _run(str(path), "--tier", "critical")[0] == 0
    assert _run(str(path), "--tier", "low")[0] == 1
    assert _run(str(path))[0] == 1  # without the bundle the requirements are undefined


def test_propose_list_show_and_review(
    invoke: CliInvoke, project: str, tmp_path: Path, client: Client
) -> None:
    folder = _policies(tmp_path)
    proposed = invoke(
        "policy",
        "propose",
        project,
        str(folder / "ticket.rego"),
        "--tests",
        str(folder / "nested" / "ticket_test.rego"),
        "--description",
        "CAB rule",
    )
    assert proposed.exit_code == 0, proposed.output
    assert "proposed policy ticket version 1 in churn" in proposed.output

    listed = invoke("policy", "list", project)
    assert listed.exit_code == 0, listed.output
    assert "ticket" in listed.output
    assert "proposed" in listed.output

    shown = invoke("policy", "show", project, "ticket")
    assert shown.exit_code == 0, shown.output
    assert "lockgate.gates.ticket" in shown.output
    assert "CHG-[0-9]+" in shown.output
    assert "test_a_ticket_passes" in shown.output

    # Local mode has one user, who proposed it: separation of duties refuses the approval.
    own = invoke("policy", "approve", project, "ticket", "1")
    assert own.exit_code == 1
    assert "separation of duties" in own.output

    rejected = invoke(
        "policy", "reject", project, "ticket", "1", "--comment", "withdrawn", "--json"
    )
    assert rejected.exit_code == 0, rejected.output
    assert json.loads(rejected.output)["status"] == "rejected"
    assert client.policies.get(project, "ticket", 1).comment == "withdrawn"
    as_json = invoke("policy", "list", project, "--status", "rejected", "--json")
    assert [p["version"] for p in json.loads(as_json.output)] == [1]


def test_propose_needs_a_gate_package_or_a_name(
    invoke: CliInvoke, project: str, tmp_path: Path
) -> None:
    path = tmp_path / "lib.rego"
    path.write_text("package lockgate.lib\n\nx := 1\n")
    refused = invoke("policy", "propose", project, str(path))
    assert refused.exit_code == 1
    assert "give --name" in refused.output
    named = invoke("policy", "propose", project, str(path), "--name", "lib")
    assert named.exit_code == 1
    assert "must declare `package lockgate.gates.lib`" in named.output


@pytest.mark.parametrize("status", ["proposed", "active"])
def test_the_sdk_lists_by_status(client: Client, project: str, status: str) -> None:
    client.policies.propose(project, "ticket", GATE)
    found = list(client.policies.list(project, status=status))
    assert [p.version for p in found] == ([1] if status == "proposed" else [])
