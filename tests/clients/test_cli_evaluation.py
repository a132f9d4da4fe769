"""`lockgate eval` and the evaluations on `lockgate models show` against the real app:
metrics with intervals, confusion matrix, worst segment, fairness, calibration, and
comparisons with PASS/FAIL, every check and the reasons."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from lockgate.api.evaluation import ComparisonOut, EvaluationOut
from lockgate.domain.evaluation import ConfusionMatrix, ModelReport, Task
from lockgate.sdk import Client
from tests.clients.conftest import CliInvoke
from tests.support.evaluations import HOLDOUT, binary_config, binary_report, estimate, pair

ENGINE = "cli-test 1.0"


@dataclass(frozen=True)
class Seeded:
    evaluation: EvaluationOut
    comparison: ComparisonOut


@pytest.fixture
def digests(client: Client, project: str, tmp_path: Path) -> dict[int, str]:
    """`churn-clf` versions 1 and 2, `champion` on 1; their manifest digests."""
    (tmp_path / "model.json").write_text("{}")
    with client.start_run(project, "train", capture_environment=False) as run:
        run.log_artifact(tmp_path / "model.json", "model")
    client.models.create("churn-clf", project=project, owner="ml", description="churn")
    for _ in range(2):
        client.models.create_version("churn-clf", run_id=run.id, artifact_path="model")
    client.models.set_alias("churn-clf", "champion", 1)
    return {n: client.models.manifest("churn-clf", n).manifest_sha256 for n in (1, 2)}


@pytest.fixture
def seeded(client: Client, digests: dict[int, str]) -> Seeded:
    evaluation = client.evaluations.record(
        "churn-clf",
        1,
        dataset=HOLDOUT,
        config=binary_config(),
        report=binary_report(0.842, segments={"basic": (600, 0.85), "pro": (400, 0.71)}),
        package_digest=digests[1],
        engine=ENGINE,
    )
    comparison = client.evaluations.compare(
        "churn-clf",
        candidate=2,
        baseline=1,
        paired=pair(binary_report(0.8), binary_report(0.842)),
        candidate_digest=digests[2],
        baseline_digest=digests[1],
        dataset=HOLDOUT,
        config=binary_config(),
        engine=ENGINE,
        baseline_alias="champion",
    )
    return Seeded(evaluation, comparison)


def test_eval_show_prints_metrics_matrix_worst_segment_fairness_and_calibration(
    invoke: CliInvoke, seeded: Seeded
) -> None:
    shown = invoke("eval", "show", seeded.evaluation.id)
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert "value [interval]" in out
    assert out.index("│ accuracy") < out.index("│ roc_auc")  # the catalog's order
    assert "0.842 [0.832, 0.852]" in out
    assert "0.900" in out  # accuracy, no interval
    assert "confusion matrix" in out
    assert "700" in out
    assert "worst segment" in out
    assert "plan=pro (400 rows): roc_auc 0.710 [0.700, 0.720]" in out
    assert "demographic_parity_difference" in out
    assert "selection rate" in out
    assert "calibration ECE" in out
    assert "0.030 [0.020, 0.040]" in out
    as_json = json.loads(invoke("eval", "show", seeded.evaluation.id, "--json").output)
    assert as_json["id"] == seeded.evaluation.id
    assert as_json["report"]["metrics"]["roc_auc"]["value"] == 0.842


def test_eval_list_names_a_version_by_number_or_alias(invoke: CliInvoke, seeded: Seeded) -> None:
    by_number = invoke("eval", "list", "churn-clf/1")
    assert by_number.exit_code == 0, by_number.output
    assert seeded.evaluation.id in by_number.output
    assert "roc_auc 0.842 [0.832, 0.852]" in by_number.output
    by_alias = invoke("eval", "list", "churn-clf@champion", "--json")
    ids = [e["id"] for e in json.loads(by_alias.output)]
    assert ids[-1] == seeded.evaluation.id
    assert len(ids) == 2  # and the baseline's side of the comparison
    latest = invoke("eval", "list", "churn-clf")  # the latest version, 2
    assert seeded.comparison.candidate.id in latest.output


def test_eval_comparison_shows_the_verdict_each_check_and_the_reasons(
    invoke: CliInvoke, seeded: Seeded
) -> None:
    shown = invoke("eval", "comparison", seeded.comparison.id)
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert "FAIL churn-clf/2 against churn-clf/1 (@champion)" in out
    assert "plan=basic" in out
    assert "-0.0420" in out  # the change
    assert "fail" in out
    for reason in seeded.comparison.verdict.reasons:
        assert reason[:40] in out
    listed = invoke("eval", "comparisons", "churn-clf", "--version", "2")
    assert seeded.comparison.id in listed.output
    assert "FAIL" in listed.output
    assert "1 (@champion)" in listed.output
    assert "no comparisons" in invoke("eval", "comparisons", "churn-clf", "--version", "1").output
    as_json = json.loads(invoke("eval", "comparisons", "churn-clf", "--json").output)
    assert as_json[0]["verdict"]["passed"] is False
    single = json.loads(invoke("eval", "comparison", seeded.comparison.id, "--json").output)
    assert single["id"] == seeded.comparison.id


def test_a_passing_comparison_says_pass(
    invoke: CliInvoke, client: Client, digests: dict[int, str]
) -> None:
    comparison = client.evaluations.compare(
        "churn-clf",
        candidate=2,
        baseline=1,
        paired=pair(binary_report(0.85), binary_report(0.84)),
        candidate_digest=digests[2],
        baseline_digest=digests[1],
        dataset=HOLDOUT,
        config=binary_config(),
        engine=ENGINE,
    )
    out = invoke("eval", "comparison", comparison.id).output
    assert "PASS churn-clf/2 against churn-clf/1" in out
    assert "(@" not in out


def test_models_show_lists_a_versions_evaluations_and_latest_verdict(
    invoke: CliInvoke, seeded: Seeded
) -> None:
    candidate = invoke("models", "show", "churn-clf/2")
    assert candidate.exit_code == 0, candidate.output
    assert "latest evaluations" in candidate.output
    assert seeded.comparison.candidate.id in candidate.output
    assert f"latest comparison: FAIL against version 1 (@champion) ({seeded.comparison.id})" in (
        candidate.output
    )
    assert "roc_auc worsened" in candidate.output
    baseline = invoke("models", "show", "churn-clf@champion")
    assert seeded.evaluation.id in baseline.output
    assert "never compared" in baseline.output
    assert json.loads(invoke("models", "show", "churn-clf/2", "--json").output)["version"] == 2


def test_a_version_without_evaluations_says_so(invoke: CliInvoke, digests: dict[int, str]) -> None:
    shown = invoke("models", "show", "churn-clf/1")
    assert "no evaluations" in shown.output
    assert "never compared" in shown.output


def test_a_large_confusion_matrix_is_left_to_json(
    invoke: CliInvoke, client: Client, digests: dict[int, str]
) -> None:
    classes = tuple(str(i) for i in range(25))
    config = binary_config(
        task=Task.MULTICLASS_CLASSIFICATION, classes=classes, sensitive=(), segments=()
    )
    counts = tuple(tuple(1 if i == j else 0 for j in range(25)) for i in range(25))
    report = ModelReport(
        Task.MULTICLASS_CLASSIFICATION,
        25,
        {"f1_macro": estimate(1.0, None)},
        confusion_matrix=ConfusionMatrix(classes, counts),
    )
    evaluation = client.evaluations.record(
        "churn-clf",
        1,
        dataset=HOLDOUT,
        config=config,
        report=report,
        package_digest=digests[1],
        engine=ENGINE,
    )
    out = invoke("eval", "show", evaluation.id).output
    assert "confusion matrix: 25 classes (see --json)" in out
    assert "worst segment" not in out


def test_errors_are_one_red_line(invoke: CliInvoke, digests: dict[int, str]) -> None:
    missing = invoke("eval", "show", "0" * 32)
    assert missing.exit_code == 1
    assert "does not exist" in missing.output
    unknown = invoke("eval", "list", "churn-clf/3")
    assert unknown.exit_code == 1
    assert "has no version 3" in unknown.output
    malformed = invoke("eval", "list", "Churn CLF")
    assert malformed.exit_code == 1
    assert "(field: ref)" in malformed.output
    assert "no evaluations" in invoke("eval", "list", "churn-clf/2").output


def test_a_regression_without_its_primary_metric_or_matrix(
    invoke: CliInvoke, client: Client, digests: dict[int, str]
) -> None:
    config = binary_config(task=Task.REGRESSION, target="spend", sensitive=(), segments=())
    report = ModelReport(Task.REGRESSION, 10, {"mae": estimate(12_345.678, 100.0)})
    evaluation = client.evaluations.record(
        "churn-clf",
        1,
        dataset=HOLDOUT,
        config=config,
        report=report,
        package_digest=digests[1],
        engine=ENGINE,
    )
    shown = invoke("eval", "show", evaluation.id).output
    assert "1.235e+04 [1.225e+04, 1.245e+04]" in shown
    assert "confusion matrix" not in shown
    assert "calibration" not in shown
    listed = invoke("eval", "list", "churn-clf/1").output
    assert "rmse " in listed  # the primary metric, absent from this report


def test_a_comparison_without_an_alias_shows_the_version_alone(
    invoke: CliInvoke, client: Client, digests: dict[int, str]
) -> None:
    client.evaluations.compare(
        "churn-clf",
        candidate=2,
        baseline=1,
        paired=pair(binary_report(0.85), binary_report(0.84)),
        candidate_digest=digests[2],
        baseline_digest=digests[1],
        dataset=HOLDOUT,
        config=binary_config(),
        engine=ENGINE,
    )
    listed = invoke("eval", "comparisons", "churn-clf").output
    assert "PASS" in listed
    assert "@" not in listed
    shown = invoke("models", "show", "churn-clf/2").output
    assert "latest comparison: PASS against version 1 (" in shown
