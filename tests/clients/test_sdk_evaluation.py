"""`client.evaluations` against the real app: versions logged with a real flavor, their
packages fetched and verified as an evaluation runner does, the evaluation recorded for that
package's digest, and comparisons judged by the server."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from lockgate.api.evaluation import ComparisonOut
from lockgate.domain.errors import ConflictError, InvalidInputError, NotFoundError
from lockgate.domain.evaluation import PairedReport, Threshold, Thresholds
from lockgate.sdk import Client
from lockgate.serving.loader import VerifiedPackage, fetch_package
from tests.support.evaluations import HOLDOUT, binary_config, binary_report, pair

RNG = np.random.default_rng(5)
X = RNG.normal(size=(40, 3))
Y = (X[:, 0] > 0).astype(np.int64)
ENGINE = "sdk-test 1.0"


@pytest.fixture
def packages(client: Client, project: str, tmp_path: Path) -> dict[int, VerifiedPackage]:
    """Two versions of `churn-clf` logged with the sklearn flavor, `champion` on 1, and their
    packages as fetched and verified locally."""
    client.models.create("churn-clf", project=project, owner="retention", description="churn")
    for c in (1.0, 0.1):
        with client.start_run(project, f"train C={c}", capture_environment=False) as run:
            run.log_model(
                LogisticRegression(C=c).fit(X, Y),
                "classifier",
                input_example=X[:5],
                registered_model_name="churn-clf",
                method="predict_proba",
            )
    client.models.set_alias("churn-clf", "champion", 1)
    return {n: fetch_package(client, f"churn-clf/{n}", tmp_path / "cache") for n in (1, 2)}


def test_an_evaluation_of_a_verified_package_is_recorded(
    client: Client, packages: dict[int, VerifiedPackage]
) -> None:
    evaluation = client.evaluations.record(
        "churn-clf",
        1,
        dataset=HOLDOUT,
        config=binary_config(),
        report=binary_report(0.84),
        package_digest=packages[1].manifest.digest,
        engine=ENGINE,
    )
    assert evaluation.package_digest == packages[1].manifest.digest
    assert evaluation.report.to_domain() == binary_report(0.84)
    assert evaluation.config.to_domain() == binary_config()
    assert evaluation.dataset.fingerprint == HOLDOUT.fingerprint
    assert client.evaluations.get(evaluation.id) == evaluation
    assert list(client.evaluations.list("churn-clf", 1, page_size=1)) == [evaluation]
    assert list(client.evaluations.list("churn-clf", 2)) == []


def _compare(
    client: Client,
    packages: dict[int, VerifiedPackage],
    paired: PairedReport,
    *,
    baseline_alias: str | None = "champion",
    thresholds: Thresholds | None = None,
) -> ComparisonOut:
    return client.evaluations.compare(
        "churn-clf",
        candidate=2,
        baseline=1,
        paired=paired,
        candidate_digest=packages[2].manifest.digest,
        baseline_digest=packages[1].manifest.digest,
        dataset=HOLDOUT,
        config=binary_config(),
        engine=ENGINE,
        baseline_alias=baseline_alias,
        thresholds=thresholds,
    )


def test_a_comparison_is_judged_by_the_server(
    client: Client, packages: dict[int, VerifiedPackage]
) -> None:
    paired = pair(binary_report(0.83), binary_report(0.84))
    strict = _compare(
        client,
        packages,
        paired,
        baseline_alias=None,
        thresholds=Thresholds((Threshold("roc_auc", 0.005),)),
    )
    assert not strict.verdict.passed
    assert len(strict.verdict.reasons) == 2  # overall and on plan=basic
    assert strict.baseline_alias is None
    assert strict.changes.to_domain(paired.candidate, paired.baseline) == paired
    default = _compare(client, packages, paired)
    assert default.verdict.passed  # a drop of 0.01 is within the default threshold
    assert default.baseline_alias == "champion"
    assert client.evaluations.get_comparison(strict.id) == strict
    listed = list(client.evaluations.list_comparisons("churn-clf", candidate_version=2))
    assert [c.id for c in listed] == [default.id, strict.id]
    assert list(client.evaluations.list_comparisons("churn-clf", candidate_version=1)) == []
    assert len(list(client.evaluations.list_comparisons("churn-clf", page_size=1))) == 2
    assert [e.version for e in client.evaluations.list("churn-clf", 2)] == [2, 2]


def test_refusals_raise_the_error_the_server_names(
    client: Client, packages: dict[int, VerifiedPackage]
) -> None:
    with pytest.raises(InvalidInputError, match="not the digest") as wrong:
        client.evaluations.record(
            "churn-clf",
            1,
            dataset=HOLDOUT,
            config=binary_config(),
            report=binary_report(),
            package_digest=packages[2].manifest.digest,
            engine=ENGINE,
        )
    assert wrong.value.field == "package_digest"
    with pytest.raises(InvalidInputError) as client_side:
        client.evaluations.record(
            "churn-clf",
            1,
            dataset=HOLDOUT,
            config=binary_config(),
            report=binary_report(),
            package_digest=packages[1].manifest.digest,
            engine="e" * 200,
        )
    assert client_side.value.field == "engine"
    client.models.set_alias("churn-clf", "champion", 2)
    with pytest.raises(ConflictError, match="alias moved"):
        _compare(client, packages, pair(binary_report(), binary_report()))
    lie = dataclasses.replace(pair(binary_report(0.7), binary_report(0.8)), segment_changes=())
    lie = dataclasses.replace(
        lie, changes=tuple(dataclasses.replace(c, candidate=0.9) for c in lie.changes)
    )
    with pytest.raises(InvalidInputError) as inconsistent:
        _compare(client, packages, lie, baseline_alias=None)
    assert inconsistent.value.field == "changes.changes.roc_auc"
    assert list(client.evaluations.list_comparisons("churn-clf")) == []
    with pytest.raises(NotFoundError):
        client.evaluations.get("0" * 32)
    with pytest.raises(NotFoundError):
        client.evaluations.get_comparison("0" * 32)
