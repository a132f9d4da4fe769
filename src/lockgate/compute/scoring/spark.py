"""The Spark engine: the same scoring as a Spark job, for inputs beyond one machine. Spark reads
the Parquet input and hands each partition's Arrow batches (`mapInArrow`) to a task that makes
the model once and writes its own part file with pyarrow, so the output's schema is exactly the
local engine's; the driver then moves the finished parts into place, all at once."""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa  # pyarrow ships no type information
import pyarrow.parquet as pq  # as above
from pyspark import Accumulator, TaskContext
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F

from lockgate.compute.scoring.local import check_batch_size
from lockgate.compute.scoring.output import ParquetSink, check_output_free, staging_path
from lockgate.compute.scoring.plan import DEFAULT_BATCH_SIZE, PredictorFactory, ScoringPlan
from lockgate.compute.scoring.result import (
    ProgressCallback,
    ScoredOutput,
    ScoringProgress,
    ScoringResult,
    schema_text,
)
from lockgate.compute.scoring.sources import PARQUET, fingerprint_files, resolve_input
from lockgate.domain.errors import InvalidInputError, LockgateError, error_class_for_code
from lockgate.domain.registry import Signature

__all__ = ["DEFAULT_MASTER", "create_spark_session", "score_spark"]

DEFAULT_MASTER = "local[*]"
_BATCH_ROWS = "spark.sql.execution.arrow.maxRecordsPerBatch"
_PARTS = "partition INT, attempt INT, path STRING, sha256 STRING, rows BIGINT, batches BIGINT"
_MARKER = "[lockgate-error "
_PROGRESS_SECONDS = 0.5


def create_spark_session(
    master: str = DEFAULT_MASTER, *, app_name: str = "lockgate-score"
) -> SparkSession:
    """A Spark session for scoring (or the active one, which keeps its own settings).

    The session works in UTC and prints no console progress. On a `local` master the driver
    binds to 127.0.0.1, the web UI is off, and Python workers run this interpreter (the one
    that has Lockgate and the model's libraries installed).
    """
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
    )
    is_local = master.startswith("local")
    if is_local:
        builder = (
            builder.config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
        )
    session = builder.getOrCreate()
    if is_local:
        session.sparkContext.pythonExec = sys.executable
    return session


def score_spark(
    predictor_factory: PredictorFactory,
    input_path: str | Path,
    output_path: str | Path,
    *,
    signature: Signature | None = None,
    keep: Sequence[str] = (),
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    spark: SparkSession | None = None,
    master: str = DEFAULT_MASTER,
) -> ScoringResult:
    """Score a Parquet input as a Spark job into a directory of Parquet part files.

    Same checks, plan and output schema as `score_local`; the differences are the output (a
    directory `part-NNNNN.parquet`, one file per non-empty partition, moved into place when
    every task has finished, so a failure leaves no output) and the row order (by partition,
    not the input's: keep an id column). The driver and the executors must see the same
    filesystem for the input and the output (one machine, or a shared mount).

    Args:
        predictor_factory: Makes the model once per partition on the executors: it must be
            picklable (a module-level function or a `functools.partial` of one).
        spark: A session to run on; without one a session on `master` is made with
            `create_spark_session` and stopped at the end.
        batch_size: Most rows per Arrow batch handed to the model.

    Raises:
        InvalidInputError: As `score_local`, and for CSV input (the Spark engine reads
            Parquet).
        UserCodeError: The model failed in a task (other Lockgate errors raised in a task
            come back as their own class).
    """
    started = time.perf_counter()
    check_batch_size(batch_size)
    source = resolve_input(input_path)
    if source.format != PARQUET:
        raise InvalidInputError(
            "the spark engine reads Parquet; score CSV with the local engine", field="input"
        )
    target = Path(output_path)
    check_output_free(target)
    plan = ScoringPlan.build(source.arrow_schema(), signature, keep)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_path(target)
    staging.mkdir()
    session = spark
    try:
        session = session or create_spark_session(master)
        frame = session.read.parquet(*(str(f) for f in source.files))
        frame = frame.select(*(F.col(_quoted(name)) for name in plan.read_columns))
        rows = session.sparkContext.accumulator(0)
        scorer = _PartitionScorer(plan, predictor_factory, str(staging), rows)
        with _reporting(rows, source.total_rows, progress):
            parts = _run(session, frame, scorer, batch_size)
        output = _commit(parts, plan, staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if spark is None and session is not None:
            session.stop()
    batches = sum(part.batches for part in parts)
    seconds = time.perf_counter() - started
    return ScoringResult("spark", source, output, output.rows, batches, seconds)


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True, slots=True)
class _Part:
    partition: int
    path: Path
    sha256: str
    rows: int
    batches: int


@dataclass(frozen=True, slots=True)
class _PartitionScorer:
    """The task: score one partition's batches into a hidden part file in the staging
    directory and answer one row describing it. Pickled to the executors."""

    plan: ScoringPlan
    factory: PredictorFactory
    staging: str
    rows: Accumulator[int]
    """Rows scored, summed on the driver as tasks finish (the progress)."""

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        context = TaskContext.get()
        partition = context.partitionId() if context else 0
        attempt = context.attemptNumber() if context else 0
        path = Path(self.staging) / f".part-{partition:05d}.attempt-{attempt}.parquet"
        sink = ParquetSink(path, self.plan.output_schema, dictionary_columns=self.plan.keep_names)
        try:
            digest, count = self._score(batches, sink)
        except LockgateError as error:
            sink.discard()
            document = {"code": error.code, "message": error.message, "field": error.field}
            raise RuntimeError(f"{_MARKER}{json.dumps(document)}]") from error
        except BaseException:
            sink.discard()
            raise
        yield pa.record_batch(
            {
                "partition": pa.array([partition], pa.int32()),
                "attempt": pa.array([attempt], pa.int32()),
                "path": pa.array([str(path) if count else ""]),
                "sha256": pa.array([digest]),
                "rows": pa.array([sink.rows], pa.int64()),
                "batches": pa.array([count], pa.int64()),
            }
        )

    def _score(self, batches: Iterable[pa.RecordBatch], sink: ParquetSink) -> tuple[str, int]:
        predictor = None
        count = 0
        for batch in batches:
            if batch.num_rows == 0:
                continue
            if predictor is None:
                predictor = self.factory()
            sink.write(self.plan.score(predictor, batch))
            count += 1
            self.rows.add(batch.num_rows)
        if not count:
            return "", 0
        return sink.close(), count


def _run(
    session: SparkSession, frame: DataFrame, scorer: _PartitionScorer, batch_size: int
) -> list[_Part]:
    """Run the job with `batch_size` rows per Arrow batch (for this job only)."""
    previous = session.conf.get(_BATCH_ROWS, None)
    session.conf.set(_BATCH_ROWS, str(batch_size))
    try:
        with warnings.catch_warnings():
            # mapInArrow checks the pandas version even though no pandas is involved.
            warnings.filterwarnings(
                "ignore", "PySpark does not yet fully support pandas", FutureWarning
            )
            job = frame.mapInArrow(scorer, _PARTS)
        collected = job.collect()
    except PySparkException as exc:
        error = _task_error(exc)
        if error is None:
            raise
        raise error from exc
    finally:
        if previous is None:
            session.conf.unset(_BATCH_ROWS)
        else:
            session.conf.set(_BATCH_ROWS, previous)
    return [_part(row) for row in collected]


def _part(row: Row) -> _Part:
    return _Part(row["partition"], Path(row["path"]), row["sha256"], row["rows"], row["batches"])


def _task_error(exc: Exception) -> LockgateError | None:
    """A task's Lockgate error as its own class again (its code, message and field travel
    in the text of the Python exception Spark reports); None for any other failure."""
    text = str(exc)
    start = text.find(_MARKER)
    if start < 0:
        return None
    try:
        document, _ = json.JSONDecoder().raw_decode(text, start + len(_MARKER))
    except json.JSONDecodeError:
        return None
    error_class = error_class_for_code(str(document.get("code")))
    return error_class(str(document.get("message")), field=document.get("field"))


@contextmanager
def _reporting(
    rows: Accumulator[int], total_rows: int | None, progress: ProgressCallback | None
) -> Iterator[None]:
    """Report the rows of finished tasks (the accumulator's value on the driver) while the
    job runs, from a thread."""
    if progress is None:
        yield
        return
    done = threading.Event()

    def report() -> None:
        while not done.wait(_PROGRESS_SECONDS):
            progress(ScoringProgress(rows.value, total_rows))

    thread = threading.Thread(target=report, name="lockgate-scoring-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
    progress(ScoringProgress(rows.value, total_rows))


def _commit(parts: list[_Part], plan: ScoringPlan, staging: Path, target: Path) -> ScoredOutput:
    """Name the finished parts by partition, drop what failed attempts left, write one empty
    part when no partition had rows, then move the directory into place."""
    entries = []
    for part in sorted((p for p in parts if p.rows), key=lambda p: p.partition):
        name = f"part-{part.partition:05d}.parquet"
        os.rename(part.path, staging / name)
        entries.append((name, part.sha256))
    for leftover in staging.glob(".part-*"):
        leftover.unlink()
    if not entries:
        sink = ParquetSink(staging / "part-00000.parquet", plan.output_schema)
        entries.append((sink.path.name, sink.close()))
    check_output_free(target)
    os.rename(staging, target)
    files = tuple(target / name for name, _ in entries)
    schema = schema_text(pq.read_schema(files[0]))
    rows = sum(part.rows for part in parts)
    return ScoredOutput(target, files, fingerprint_files(entries), rows, schema)
