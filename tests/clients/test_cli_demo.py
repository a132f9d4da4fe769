"""`lockgate demo`, `lockgate db` and local `lockgate audit verify`: the seeded demo is complete,
seeding twice duplicates nothing, and tampering with a copy of the database is caught."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from lockgate.cli.demo_serving import SAMPLE, SCORER, serve_scorer
from lockgate.cli.main import cli
from lockgate.sdk import Client
from lockgate.server.app import create_app
from lockgate.server.inprocess import InProcessTransport
from lockgate.settings import Settings
from tests.serving.server.live import free_port


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def dialect(request: pytest.FixtureRequest) -> str:
    """Only PostgreSQL for `db_url` here: the embedded SQLite home (`demo_home`) already
    covers SQLite, and seeding is the slowest thing in this suite."""
    return str(request.param)


def lockgate(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home seeded once by `lockgate demo --no-serve --home HOME` (embedded SQLite)."""
    home = tmp_path_factory.mktemp("demo") / "home"
    result = lockgate("demo", "--no-serve", "--home", str(home))
    assert result.exit_code == 0, result.output
    assert "seeded project churn: 38 runs (3 failed, 2 killed)" in result.stdout
    stdout = result.stdout.replace("\n", " ")
    assert "evaluated: churn-scorer v2 vs champion v1 on churn-holdout-2026-11: FAIL" in stdout
    assert (
        "promoted: churn-scorer/1 (critical) dev -> staging -> production, approved by dana "
        "and eli" in stdout
    )
    assert "blocked: churn-scorer/2 -> staging is open: approvals: 0 of 2" in stdout
    assert "roc_auc on new customers=true worsened" in stdout
    return home


def test_demo_governs_the_scorer(demo_home: Path) -> None:
    settings = Settings(home=demo_home)
    with Client("http://localhost", transport=InProcessTransport(create_app(settings))) as client:
        assert client.promotions.governance(SCORER).tier == "critical"
        current = {c.environment: c.version for c in client.environments.current(SCORER)}
        assert current == {"dev": 2, "staging": 1, "production": 1}
        promoted = [r for r in client.promotions.list(SCORER) if r.environment == "production"]
        assert [r.status for r in promoted] == ["promoted"]
        approvers = {a.reviewer for a in client.promotions.get(promoted[0].id).approvals}
        assert approvers == {"user:dana", "user:eli"}
        (blocked,) = client.promotions.list(SCORER, status="open")
        assert (blocked.version, blocked.environment) == (2, "staging")
        assert client.models.resolve(f"{SCORER}@production").version == 1


def test_demo_data_is_complete(demo_home: Path) -> None:
    settings = Settings(home=demo_home)
    with Client("http://localhost", transport=InProcessTransport(create_app(settings))) as client:
        runs = list(client.runs.search("churn", page_size=100))
        assert len(runs) == 38
        assert Counter(r.status for r in runs) == {"finished": 33, "failed": 3, "killed": 2}
        best = next(
            client.runs.search("churn", "status = 'finished'", order_by="metrics.val_auc desc")
        )
        assert 0.85 < best.metrics["val_auc"].value < 0.9
        assert best.params["max_depth"] == "6"
        assert {d.name for d in best.inputs} == {"customers-train", "customers-valid"}
        assert best.tags["team"] == "retention"
        history = client.runs.metric_history(best.id, "val_auc")
        assert history.steps == list(range(30))
        assert history.values[-1] > history.values[0]
        paths = [a.path for a in client.artifacts.list(best.id)]
        assert paths == ["model/model.json", "model/requirements.txt", "plots/val_auc.svg"]
        assert [v.version for v in client.models.list_versions("churn-classifier")] == [3, 2, 1]
        assert [v.version for v in client.models.list_versions("churn-ranker")] == [2, 1]
        champion = client.models.resolve("churn-classifier@champion")
        assert champion.version == 2
        assert champion.run_id == best.id
        assert champion.signature is not None
        assert client.models.resolve("churn-classifier@challenger").version == 3
        moves = client.models.alias_history("churn-classifier", "champion")
        assert [(m.previous_version, m.version) for m in moves] == [(None, 1), (1, 2)]
        assert (
            client.models.alias_at("churn-classifier", "champion", moves[0].moved_at).version == 1
        )


def test_the_demo_serves_a_real_champion(demo_home: Path) -> None:
    settings = Settings(home=demo_home)
    with Client("http://localhost", transport=InProcessTransport(create_app(settings))) as client:
        champion = client.models.resolve(f"{SCORER}@champion")
        assert client.models.manifest(SCORER, champion.version).manifest["flavor"] == "sklearn"
        assert client.models.verify(SCORER, champion.version).ok
        with serve_scorer(client, demo_home, "127.0.0.1", free_port()) as served:
            [[stays, leaves]] = served.answer["predictions"]  # probabilities of 0 and 1
            assert leaves > 0.5 > stays  # SAMPLE looks likely to leave
            loyal = {**SAMPLE, "tenure_months": 70.0, "num_support_tickets": 0.0}
            response = httpx.post(
                f"{served.url}/invocations", json={"dataframe_records": [loyal]}, timeout=10
            )
            [[stays, leaves]] = response.json()["predictions"]
            assert leaves < 0.5 < stays
    [scorer] = (demo_home / "predictions" / "records").iterdir()  # a directory per model
    assert list(scorer.glob("v*/*.parquet"))


def test_the_demo_compares_the_challenger_with_the_champion(demo_home: Path) -> None:
    settings = Settings(home=demo_home)
    with Client("http://localhost", transport=InProcessTransport(create_app(settings))) as client:
        [comparison] = list(client.evaluations.list_comparisons(SCORER))
        assert (comparison.candidate.version, comparison.baseline.version) == (2, 1)
        assert comparison.baseline_alias == "champion"
        assert comparison.candidate.dataset.name == "churn-holdout-2026-11"
        assert not comparison.verdict.passed
        failed = [c for c in comparison.verdict.checks if not c.passed]
        assert [(c.metric, c.target) for c in failed] == [("roc_auc", "new customers=true")]
        overall = next(c for c in comparison.verdict.checks if c.scope == "overall")
        assert overall.passed
        report = comparison.candidate.report
        assert {s.segment for s in report.segments} == {"contract", "new customers"}
        assert report.metrics["roc_auc"].lower is not None
        assert [f.attribute for f in report.fairness] == ["senior_citizen"]
        assert len(list(client.evaluations.list(SCORER, 1))) == 1


def test_seeding_twice_changes_nothing(demo_home: Path) -> None:
    before = json.loads(lockgate("audit", "verify", "--home", str(demo_home), "--json").stdout)
    again = lockgate("demo", "--no-serve", "--home", str(demo_home))
    assert again.exit_code == 0, again.output
    assert "already seeded" in again.stdout
    after = json.loads(lockgate("audit", "verify", "--home", str(demo_home), "--json").stdout)
    assert after["checked"] == before["checked"]


def test_audit_verify_passes_on_the_fresh_demo(demo_home: Path) -> None:
    result = lockgate("--home", str(demo_home), "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "audit chain intact" in result.stdout


def test_audit_verify_names_the_tampered_event_of_a_copied_database(
    demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    copy = tmp_path / "copy.db"
    shutil.copyfile(demo_home / "lockgate.db", copy)
    with sqlite3.connect(copy) as connection:
        connection.execute(
            "UPDATE audit_events SET details = ? WHERE seq = 7", ('{"params":{"lr":"9"}}',)
        )
    connection.close()
    result = lockgate("audit", "verify", "--metadata-url", f"sqlite:///{copy}")
    assert result.exit_code == 1
    assert "audit chain broken at event seq 7" in result.stderr
    verdict = json.loads(
        lockgate("audit", "verify", "--metadata-url", f"sqlite:///{copy}", "--json").stdout
    )
    assert (verdict["ok"], verdict["first_bad_seq"], verdict["checked"]) == (False, 7, 6)
    # The original is untouched and still verifies.
    assert lockgate("audit", "verify", "--home", str(demo_home)).exit_code == 0


def test_demo_seeds_postgresql_too(db_url: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = lockgate("demo", "--no-serve", "--home", str(home), "--metadata-url", db_url)
    assert result.exit_code == 0, result.output
    verified = lockgate("audit", "verify", "--metadata-url", db_url, "--home", str(home))
    assert verified.exit_code == 0, verified.output


def test_db_upgrade_then_current(tmp_path: Path) -> None:
    home = tmp_path / "fresh"
    assert lockgate("db", "current", "--home", str(home)).stdout.strip() == "none"
    upgraded = lockgate("db", "upgrade", "--home", str(home))
    assert upgraded.exit_code == 0, upgraded.output
    revision = lockgate("db", "current", "--home", str(home)).stdout.strip()
    assert revision != "none"
    assert f"is at revision {revision}" in upgraded.stdout


def test_verify_on_a_never_migrated_store_names_the_fix(tmp_path: Path) -> None:
    result = lockgate("--home", str(tmp_path / "empty"), "audit", "verify")
    assert result.exit_code == 1
    assert "lockgate db upgrade" in result.stderr


def test_server_start_refuses_an_outdated_schema_before_binding(tmp_path: Path) -> None:
    result = lockgate("server", "start", "--home", str(tmp_path / "empty"), "--port", "1")
    assert result.exit_code == 1
    assert "lockgate db upgrade" in result.stderr


def test_the_console_script_runs_the_root_group(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lockgate.cli.main import main

    monkeypatch.setattr("sys.argv", ["lockgate", "--version"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0
    assert "lockgate, version 0.1.0" in capsys.readouterr().out
