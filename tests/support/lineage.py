"""A small lineage through the SDK: a run that read `train` and produced versions 1 and 2 of
`churn-clf`, version 1 evaluated on `holdout`, then version 2 compared with it there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lockgate.sdk import Client
from tests.support.evaluations import HOLDOUT, binary_config, binary_report, pair

TRAIN_FINGERPRINT = "e" * 64
ENGINE = "lineage-test 1.0"


@dataclass(frozen=True)
class Seeded:
    run_id: str
    evaluation_id: str
    comparison_id: str


def seed_lineage(client: Client, project: str, tmp_path: Path) -> Seeded:
    (tmp_path / "model.json").write_text("{}")
    with client.start_run(project, "train", capture_environment=False) as run:
        run.log_input(
            "train", fingerprint=TRAIN_FINGERPRINT, schema={"tenure": "int64"}, row_count=50
        )
        run.log_artifact(tmp_path / "model.json", "model")
    client.models.create("churn-clf", project=project, owner="ml", description="churn")
    for _ in range(2):
        client.models.create_version("churn-clf", run_id=run.id, artifact_path="model")
    client.models.set_alias("churn-clf", "champion", 1)
    digests = {n: client.models.manifest("churn-clf", n).manifest_sha256 for n in (1, 2)}
    evaluation = client.evaluations.record(
        "churn-clf",
        1,
        dataset=HOLDOUT,
        config=binary_config(),
        report=binary_report(),
        package_digest=digests[1],
        engine=ENGINE,
    )
    comparison = client.evaluations.compare(
        "churn-clf",
        candidate=2,
        baseline=1,
        paired=pair(binary_report(0.81), binary_report(0.8)),
        candidate_digest=digests[2],
        baseline_digest=digests[1],
        dataset=HOLDOUT,
        config=binary_config(),
        engine=ENGINE,
        baseline_alias="champion",
    )
    return Seeded(run.id, evaluation.id, comparison.id)
