"""`lockgate score` against the in-process app: a real scikit-learn package fetched, verified and
loaded, its scores written to Parquet, and the job's lineage recorded as a run."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LinearRegression

from lockgate.compute.scoring.sources import hash_parquet_footer
from lockgate.sdk import Client
from tests.clients.conftest import CliInvoke

RNG = np.random.default_rng(11)


@pytest.fixture
def model(client: Client, project: str) -> LinearRegression:
    """`churn-model@champion`: a linear regression on `tenure` (int64) and `charges`."""
    frame = pd.DataFrame({"tenure": RNG.integers(0, 60, 80), "charges": RNG.normal(50.0, 10.0, 80)})
    fitted = LinearRegression().fit(frame, frame["tenure"] * 0.5 + frame["charges"])
    client.models.create(
        "churn-model", project=project, owner="team:ml", description="monthly churn score"
    )
    with client.start_run(project, "train") as run:
        run.log_model(
            fitted, "model", input_example=frame.head(5), registered_model_name="churn-model"
        )
    client.models.set_alias("churn-model", "champion", 1)
    return fitted


def _input(path: Path, rows: int) -> pa.Table:
    data = pa.table(
        {
            "customer": pa.array([f"c{i:05d}" for i in range(rows)]),
            "tenure": pa.array(RNG.integers(0, 60, rows).astype(np.int32)),
            "charges": RNG.normal(50.0, 10.0, rows),
        }
    )
    pq.write_table(data, path, row_group_size=250)
    return data


def _score_runs(client: Client, project: str) -> list[str]:
    runs = client.runs.search(project, "tags.lockgate.kind = 'batch_scoring'")
    return [run.id for run in runs]


def test_score_writes_scores_and_records_lineage(
    invoke: CliInvoke, client: Client, project: str, model: LinearRegression, tmp_path: Path
) -> None:
    data = _input(tmp_path / "customers.parquet", 1_000)
    output = tmp_path / "scores" / "march.parquet"

    result = invoke(
        "score",
        "churn-model@champion",
        "--input",
        str(tmp_path / "customers.parquet"),
        "--output",
        str(output),
        "--keep",
        "customer",
        "--batch-size",
        "300",
        "--cache-dir",
        str(tmp_path / "cache"),
    )

    assert result.exit_code == 0, result.output
    assert "scored 1,000 rows with churn-model/1" in result.stdout
    scored = pq.read_table(output)
    assert scored.column_names == ["customer", "prediction"]
    assert scored.column("customer").equals(data.column("customer"))
    features = data.select(["tenure", "charges"]).to_pandas()
    np.testing.assert_allclose(
        scored.column("prediction").to_numpy(), model.predict(features), rtol=1e-9
    )

    (run_id,) = _score_runs(client, project)
    run = client.runs.get(run_id)
    assert run.status == "finished"
    assert run.name == "score churn-model/1"
    manifest = client.models.manifest("churn-model", 1)
    assert run.tags["lockgate.model"] == "churn-model/1"
    assert run.tags["lockgate.engine"] == "local"
    assert run.tags["lockgate.model_run_id"] == manifest.manifest["run_id"]
    assert len(run.tags["lockgate.manifest_sha256"]) == 64
    assert run.tags["lockgate.output.path"] == str(output.resolve())
    assert run.tags["lockgate.output.sha256"] == hashlib.sha256(output.read_bytes()).hexdigest()
    assert run.tags["lockgate.output.rows"] == "1000"
    assert run.params == {"engine": "local", "batch_size": "300", "keep": "customer"}
    assert run.metrics["rows"].value == 1_000
    assert run.metrics["rows_per_second"].value > 0
    (dataset,) = run.inputs
    assert dataset.name == "customers"
    assert dataset.fingerprint == hash_parquet_footer(tmp_path / "customers.parquet")
    assert dataset.row_count == 1_000
    assert dataset.schema_ == {"customer": "string", "tenure": "int32", "charges": "double"}
    assert dataset.source == (tmp_path / "customers.parquet").resolve().as_uri()


def test_no_lineage_records_no_run(
    invoke: CliInvoke, client: Client, project: str, model: LinearRegression, tmp_path: Path
) -> None:
    _input(tmp_path / "in.parquet", 10)
    result = invoke(
        "score",
        "churn-model/1",
        "--input",
        str(tmp_path / "in.parquet"),
        "--output",
        str(tmp_path / "out.parquet"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-lineage",
    )
    assert result.exit_code == 0, result.output
    assert pq.read_table(tmp_path / "out.parquet").column_names == ["prediction"]
    assert _score_runs(client, project) == []


def test_a_missing_column_fails_before_a_run_starts(
    invoke: CliInvoke, client: Client, project: str, model: LinearRegression, tmp_path: Path
) -> None:
    pq.write_table(pa.table({"tenure": [1, 2]}), tmp_path / "in.parquet")
    result = invoke(
        "score",
        "churn-model@champion",
        "--input",
        str(tmp_path / "in.parquet"),
        "--output",
        str(tmp_path / "out.parquet"),
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert result.exit_code == 1
    assert "no column charges" in result.stderr
    assert "(field: input.charges)" in result.stderr
    assert not (tmp_path / "out.parquet").exists()
    assert _score_runs(client, project) == []


def test_a_job_failing_midway_ends_its_run_failed_and_writes_nothing(
    invoke: CliInvoke, client: Client, project: str, model: LinearRegression, tmp_path: Path
) -> None:
    tenure = pa.array([1] * 500 + [None] + [2] * 499, pa.int32())
    pq.write_table(
        pa.table({"tenure": tenure, "charges": np.ones(1_000)}),
        tmp_path / "in.parquet",
        row_group_size=100,
    )
    result = invoke(
        "score",
        "churn-model@champion",
        "--input",
        str(tmp_path / "in.parquet"),
        "--output",
        str(tmp_path / "out.parquet"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--batch-size",
        "100",
    )
    assert result.exit_code == 1
    assert "1 missing values" in result.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".") or "out" in p.name]
    (run_id,) = _score_runs(client, project)
    assert client.runs.get(run_id).status == "failed"
