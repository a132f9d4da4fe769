"""The Spark engine on local[2]: the same scores and the same output schema as the local
engine, part files moved into place only when the job succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark import cloudpickle
from pyspark.sql import SparkSession

import tests.compute.predictors
from lockgate.compute.scoring import ScoringProgress, score_local
from lockgate.compute.scoring.sources import fingerprint_files, hash_file
from lockgate.compute.scoring.spark import create_spark_session, score_spark
from lockgate.domain.errors import InvalidInputError, UserCodeError
from tests.compute.data import table, write_csv, write_parquet
from tests.compute.predictors import SIGNATURE, FailingAt, WeightedSum

# The executors cannot import the tests package: its predictors travel by value.
cloudpickle.register_pickle_by_value(tests.compute.predictors)  # type: ignore[no-untyped-call]  # cloudpickle is untyped


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = create_spark_session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two files of several row groups each."""
    folder = tmp_path_factory.mktemp("spark-input")
    write_parquet(folder / "a.parquet", table(3_000), row_group_size=700)
    write_parquet(folder / "b.parquet", table(2_000, start=3_000, seed=1), row_group_size=700)
    return folder


def test_spark_writes_what_the_local_engine_writes(
    spark: SparkSession, source: Path, tmp_path: Path
) -> None:
    seen: list[ScoringProgress] = []
    local = score_local(
        WeightedSum, source, tmp_path / "local.parquet", signature=SIGNATURE, keep=["id", "tag"]
    )

    result = score_spark(
        WeightedSum,
        source,
        tmp_path / "spark",
        signature=SIGNATURE,
        keep=["id", "tag"],
        batch_size=1_000,
        spark=spark,
        progress=seen.append,
    )

    assert result.engine == "spark"
    assert result.output.path.is_dir()
    assert result.output.files
    assert all(f.parent == tmp_path / "spark" for f in result.output.files)
    assert sorted(p.name for p in result.output.path.iterdir()) == [
        f.name for f in result.output.files
    ]
    for part in result.output.files:
        assert pq.read_schema(part) == pq.read_schema(local.output.path)
    assert result.output.schema == local.output.schema
    assert result.rows == result.output.rows == local.rows == 5_000
    assert result.batches >= 5  # at most 1,000 rows a batch
    entries = [(f.name, hash_file(f)) for f in result.output.files]
    assert result.output.sha256 == fingerprint_files(entries)
    # Spark does not keep the input's row order: compare by id.
    scored = pa.concat_tables(pq.read_table(f) for f in result.output.files).sort_by("id")
    assert scored.equals(pq.read_table(local.output.path))
    assert seen[-1] == ScoringProgress(5_000, 5_000)
    # The batch size was set for this job only.
    assert spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch") == "10000"


def test_a_model_failing_in_a_task_fails_the_job_with_no_output(
    spark: SparkSession, source: Path, tmp_path: Path
) -> None:
    with pytest.raises(UserCodeError, match="ran out of coffee"):
        score_spark(
            lambda: FailingAt(fail_at=2),
            source,
            tmp_path / "out",
            signature=SIGNATURE,
            batch_size=500,
            spark=spark,
        )
    assert list(tmp_path.iterdir()) == []


def test_the_spark_engine_reads_parquet_only(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "data.csv", table(10))
    with pytest.raises(InvalidInputError, match="reads Parquet") as caught:
        score_spark(WeightedSum, csv, tmp_path / "out", signature=SIGNATURE)
    assert caught.value.field == "input"


def test_checks_run_before_spark_starts(source: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(InvalidInputError, match="exists") as caught:
        score_spark(WeightedSum, source, tmp_path / "out", signature=SIGNATURE)
    assert caught.value.field == "output"
