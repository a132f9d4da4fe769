"""`lockgate projects` and `lockgate runs` against the real app: tables, --json, errors."""

from __future__ import annotations

import json

import pytest

from lockgate.sdk import Client
from tests.clients.conftest import CliInvoke


@pytest.fixture
def runs(client: Client, project: str) -> list[str]:
    """Three finished runs with a val_auc each, oldest first."""
    ids = []
    for depth, auc in ((3, 0.71), (6, 0.83), (9, 0.78)):
        with client.start_run(project, f"depth-{depth}", capture_environment=False) as run:
            run.log_param("max_depth", depth)
            run.log_metrics({"val_auc": auc, "val_loss": 1 - auc})
            run.log_metric("val_auc", auc + 0.01)
        ids.append(run.id)
    return ids


def test_projects_create_list_show(invoke: CliInvoke) -> None:
    created = invoke("projects", "create", "fraud", "--description", "card fraud")
    assert created.exit_code == 0, created.output
    assert "created project fraud" in created.stdout
    table = invoke("projects", "list")
    assert "fraud" in table.stdout
    assert "card fraud" in table.stdout
    listed = json.loads(invoke("projects", "list", "--json").stdout)
    assert [p["name"] for p in listed] == ["fraud"]
    shown = json.loads(invoke("projects", "show", "fraud", "--json").stdout)
    assert shown["description"] == "card fraud"
    assert "card fraud" in invoke("projects", "show", "fraud").stdout


def test_runs_list_filters_orders_and_prints_json(
    invoke: CliInvoke, project: str, runs: list[str]
) -> None:
    result = invoke(
        "runs",
        "list",
        project,
        "--filter",
        "metrics.val_auc > 0.75",
        "--order-by",
        "metrics.val_auc desc",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in json.loads(result.stdout)] == [runs[1], runs[2]]
    table = invoke("runs", "list", project, "--order-by", "metrics.val_auc desc", "--limit", "2")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert runs[1] in table.stdout
    assert runs[0] not in table.stdout
    header = next(line for line in lines if "val_auc" in line)
    assert header.index("val_auc") < header.index("val_loss")
    assert "0.84" in table.stdout
    empty = invoke("runs", "list", project, "--filter", "metrics.val_auc > 2")
    assert "no runs match" in empty.stdout


def test_runs_show_and_metric_history(invoke: CliInvoke, runs: list[str]) -> None:
    shown = invoke("runs", "show", runs[1])
    assert shown.exit_code == 0, shown.output
    for text in ("depth-6", "finished", "max_depth", "val_auc", "0.84"):
        assert text in shown.stdout
    detail = json.loads(invoke("runs", "show", runs[1], "--json").stdout)
    assert detail["params"] == {"max_depth": "6"}
    history = json.loads(invoke("runs", "history", runs[1], "val_auc", "--json").stdout)
    assert history["steps"] == [0, 1]
    assert history["values"] == [0.83, 0.84]
    assert "0.84" in invoke("runs", "history", runs[1], "val_auc").stdout


def test_a_lockgate_error_is_one_red_line_and_exit_code_1(invoke: CliInvoke) -> None:
    missing = invoke("projects", "show", "nope")
    assert missing.exit_code == 1
    assert missing.stdout == ""
    assert missing.stderr.startswith("error: ")
    assert len(missing.stderr.splitlines()) == 1
    colored = invoke("projects", "create", "Bad Name", color=True)
    assert colored.exit_code == 1
    assert "\x1b[31m" in colored.stderr
    assert "(field: name)" in colored.stderr


def test_usage_errors_exit_2(invoke: CliInvoke) -> None:
    assert invoke("runs", "list").exit_code == 2
    assert invoke("runs", "list", "churn", "--limit", "0").exit_code == 2
    assert invoke("nonsense").exit_code == 2


def test_an_unreachable_server_is_named() -> None:
    from click.testing import CliRunner

    from lockgate.cli.main import cli

    result = CliRunner().invoke(cli, ["projects", "list", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "cannot reach the Lockgate server at http://127.0.0.1:9" in result.stderr
