"""`client.evaluate` and `lockgate eval run|compare` against the in-process app: real
scikit-learn packages fetched, verified and scored on a Parquet dataset, the metrics recorded
on the version, and a regressing challenger judged FAIL naming the metric and the segment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import mean_absolute_error, roc_auc_score

from lockgate.domain.errors import ConflictError, InvalidInputError
from lockgate.domain.evaluation import SegmentRule, Threshold, Thresholds
from lockgate.sdk import Client
from tests.clients.conftest import CliInvoke

RNG = np.random.default_rng(5)
ROWS = 3_000
FEATURES = ["tenure", "charges", "tickets"]


def _customers(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure": rng.integers(1, 72, rows).astype(float),
            "charges": rng.uniform(20, 120, rows),
            "tickets": rng.poisson(1.2, rows).astype(float),
        }
    )
    logit = -0.5 - 0.06 * frame["tenure"] + 0.02 * frame["charges"] + 0.5 * frame["tickets"]
    frame["churned"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame["plan"] = rng.choice(["basic", "pro"], rows)
    return frame


@pytest.fixture
def holdout(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    frame = _customers(ROWS, seed=2)
    path = tmp_path / "holdout.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return path, frame


def _log(client: Client, project: str, model: object, name: str = "churn") -> int:
    with client.start_run(project, "train", capture_environment=False) as run:
        logged = run.log_model(
            model,
            "model",
            input_example=_customers(5, 0)[FEATURES],
            registered_model_name=name,
            method="predict_proba",
        )
    assert logged.version is not None
    return logged.version.version


@pytest.fixture
def models(client: Client, project: str) -> dict[str, object]:
    """`churn/1` (champion) learns from every customer; `churn/2` (challenger) learnt from
    shuffled labels among new customers, so it is worse where tenure is short."""
    client.models.create("churn", project=project, owner="team:ml", description="churn")
    train = _customers(4_000, seed=1)
    champion = LogisticRegression(max_iter=500).fit(train[FEATURES], train["churned"])
    new = (train["tenure"] < 12).to_numpy()
    labels = train["churned"].to_numpy().copy()
    labels[new] = np.random.default_rng(3).permutation(labels[new])
    challenger = GradientBoostingClassifier(n_estimators=60, max_depth=3, random_state=0)
    challenger.fit(train[FEATURES], labels)
    assert _log(client, project, champion) == 1
    assert _log(client, project, challenger) == 2
    client.models.set_alias("churn", "champion", 1)
    return {"champion": champion, "challenger": challenger}


def test_an_evaluation_is_computed_and_recorded_on_the_version(
    client: Client, models: dict[str, object], holdout: tuple[Path, pd.DataFrame]
) -> None:
    path, frame = holdout
    result = client.evaluate(
        "churn@champion",
        path,
        targets="churned",
        task="binary_classification",
        segments=["plan", SegmentRule("new", predicate="tenure < 12")],
        resamples=200,
    )
    champion = models["champion"]
    assert isinstance(champion, LogisticRegression)
    scores = champion.predict_proba(frame[FEATURES])[:, 1]
    auc = result.report.metrics["roc_auc"]
    assert auc.value == pytest.approx(roc_auc_score(frame["churned"], scores), abs=1e-12)
    assert auc.lower is not None
    assert auc.upper is not None
    assert auc.lower < auc.value < auc.upper
    new = (frame["tenure"] < 12).to_numpy()
    [segment] = [s for s in result.report.segments if s.segment == "new"]
    assert segment.rows == int(new.sum())
    assert segment.metrics["roc_auc"].value == pytest.approx(
        roc_auc_score(frame["churned"][new], scores[new]), abs=1e-12
    )
    assert result.comparison is None
    assert result.passed is None
    recorded = client.evaluations.get(result.evaluation.id)
    assert recorded.version == 1
    assert recorded.dataset.name == "holdout"
    assert recorded.dataset.row_count == ROWS
    assert recorded.package_digest == client.models.manifest("churn", 1).manifest_sha256
    assert recorded.config.resamples == 200
    assert recorded.report.metrics["roc_auc"].value == auc.value
    assert [e.id for e in client.evaluations.list("churn", 1)] == [recorded.id]


def test_the_same_seed_gives_the_same_report(
    client: Client, models: dict[str, object], holdout: tuple[Path, pd.DataFrame]
) -> None:
    path, frame = holdout
    table = pa.Table.from_pandas(frame, preserve_index=False)
    first = client.evaluate(
        "churn/1", path, targets="churned", task="binary_classification", resamples=100, seed=3
    )
    again = client.evaluate(
        "churn/1",
        table,
        targets="churned",
        task="binary_classification",
        resamples=100,
        seed=3,
        batch_size=700,
    )
    assert again.report.metrics == first.report.metrics
    assert again.evaluation.dataset.name == "data"


def test_a_regressing_challenger_fails_naming_the_metric_and_the_segment(
    client: Client, models: dict[str, object], holdout: tuple[Path, pd.DataFrame]
) -> None:
    path, _ = holdout
    result = client.evaluate(
        "churn/2",
        path,
        targets="churned",
        task="binary_classification",
        baseline="champion",
        segments=[SegmentRule("new customers", predicate="tenure < 12")],
        thresholds=Thresholds((Threshold("roc_auc", 0.02),)),
        resamples=200,
    )
    assert result.comparison is not None
    assert result.passed is False
    verdict = result.comparison.verdict
    failed = [(c.scope, c.metric, c.target) for c in verdict.checks if not c.passed]
    assert ("segment", "roc_auc", "new customers=true") in failed
    assert any("roc_auc on new customers=true worsened" in r for r in verdict.reasons)
    assert result.comparison.baseline_alias == "champion"
    assert (result.comparison.candidate.version, result.comparison.baseline.version) == (2, 1)
    [stored] = list(client.evaluations.list_comparisons("churn", candidate_version=2))
    assert stored.verdict.passed is False


def test_a_moved_alias_refuses_the_comparison(
    client: Client, models: dict[str, object], holdout: tuple[Path, pd.DataFrame]
) -> None:
    """The champion moves while the evaluation runs: nothing is recorded."""
    path, _ = holdout

    def move_champion(rows: int, total: int | None) -> None:
        if rows == total:
            client.models.set_alias("churn", "champion", 2)

    with pytest.raises(ConflictError):
        client.evaluate(
            "churn/2",
            path,
            targets="churned",
            task="binary_classification",
            baseline="champion",
            resamples=0,
            progress=move_champion,
        )
    assert list(client.evaluations.list_comparisons("churn")) == []
    assert list(client.evaluations.list("churn", 2)) == []


def test_bad_options_are_named_before_anything_is_scored(
    client: Client, models: dict[str, object], holdout: tuple[Path, pd.DataFrame]
) -> None:
    path, _ = holdout
    cases = [
        ({"targets": "churn_flag"}, "target"),
        ({"task": "clustering"}, "task"),
        ({"segments": ["region"]}, "segments[0].column"),
        ({"output": "score"}, "output"),
    ]
    for changes, field in cases:
        options = {"targets": "churned", "task": "binary_classification", **changes}
        with pytest.raises(InvalidInputError) as caught:
            client.evaluate("churn/1", path, resamples=0, **options)  # type: ignore[arg-type]
        assert caught.value.field == field, changes
    with pytest.raises(InvalidInputError, match=r"pyarrow\.Table or a pandas DataFrame"):
        client.evaluate("churn/1", [1, 2], targets="churned", task="binary_classification")
    assert list(client.evaluations.list("churn", 1)) == []


def test_a_regression_model_is_evaluated(client: Client, project: str, tmp_path: Path) -> None:
    frame = _customers(800, seed=4)
    frame["spend"] = frame["charges"] * 1.5 + RNG.normal(0, 5, len(frame))
    model = LinearRegression().fit(frame[FEATURES], frame["spend"])
    client.models.create("spend", project=project, owner="team:ml", description="spend")
    with client.start_run(project, "train", capture_environment=False) as run:
        run.log_model(
            model, "model", input_example=frame[FEATURES].head(5), registered_model_name="spend"
        )
    result = client.evaluate("spend/1", frame, targets="spend", task="regression", resamples=50)
    expected = mean_absolute_error(frame["spend"], model.predict(frame[FEATURES]))
    assert result.report.metrics["mae"].value == pytest.approx(expected, rel=1e-12)


def test_the_cli_runs_and_compares(
    invoke: CliInvoke,
    client: Client,
    models: dict[str, object],
    holdout: tuple[Path, pd.DataFrame],
) -> None:
    path, _ = holdout
    common = [
        "--data",
        str(path),
        "--target",
        "churned",
        "--task",
        "binary_classification",
        "--resamples",
        "100",
    ]
    ran = invoke("eval", "run", "churn@champion", *common, "--segment", "plan")
    assert ran.exit_code == 0, ran.output
    assert "roc_auc" in ran.stdout
    shown = invoke("eval", "run", "churn/1", *common, "--json")
    assert json.loads(shown.stdout)["version"] == 1
    failing = invoke(
        "eval",
        "compare",
        "churn/2",
        *common,
        "--segment-where",
        "new customers=tenure < 12",
        "--max-drop",
        "roc_auc=0.02",
        "--json",
    )
    assert failing.exit_code == 1, failing.output
    verdict = json.loads(failing.stdout)["verdict"]
    assert not verdict["passed"]
    assert any("new customers=true" in reason for reason in verdict["reasons"])
    lenient = invoke(
        "eval",
        "compare",
        "churn/2",
        *common,
        "--baseline",
        "1",
        "--max-drop",
        "roc_auc=50%",
        "--no-segment-thresholds",
    )
    assert lenient.exit_code == 0, lenient.output
    assert "PASS" in lenient.stdout
    bad = invoke("eval", "compare", "churn/2", *common, "--max-drop", "auc>0.1")
    assert bad.exit_code != 0
    assert "METRIC=VALUE" in bad.output
