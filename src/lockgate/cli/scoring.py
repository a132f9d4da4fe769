"""`lockgate score`: run a registered model over a Parquet or CSV input in batches, on this
machine or as a Spark job, and record the job's lineage as a tracking run in the model's
project. The scoring engines live in `lockgate.compute.scoring`; this module fetches the
package, shows progress and talks to the server."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from lockgate.cli.context import CliState, pass_state, url_option
from lockgate.cli.output import error_console, print_fields
from lockgate.cli.packages import fetch_verified, package_options

if TYPE_CHECKING:
    from lockgate.compute.scoring import (
        PredictorFactory,
        ProgressCallback,
        ScoringInput,
        ScoringProgress,
        ScoringResult,
    )
    from lockgate.sdk import Client
    from lockgate.sdk.active_run import ActiveRun
    from lockgate.serving.loader import VerifiedPackage

__all__ = ["KIND", "score"]

KIND = "batch_scoring"
"""The `lockgate.kind` tag of a scoring run."""


@click.command("score")
@click.argument("ref", metavar="MODEL@ALIAS|MODEL/VERSION")
@click.option(
    "--input",
    "input_path",
    required=True,
    metavar="PATH",
    help="Parquet or CSV input: a file, a directory of files, or a quoted glob.",
)
@click.option(
    "--output",
    "output_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Where scores go: a Parquet file (local) or a directory of part files (spark). "
    "It must not exist.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="local: DuckDB and pyarrow on this machine; spark: a Spark job (Parquet input).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Most rows per batch the model scores (default 65,536).",
)
@click.option(
    "--keep",
    multiple=True,
    metavar="COLUMN",
    help="Input column copied to the output before the scores, e.g. an id (repeatable).",
)
@click.option(
    "--spark-master",
    default="local[*]",
    show_default=True,
    help="Spark master URL for --engine spark.",
)
@package_options
@click.option("--no-lineage", is_flag=True, help="Record no tracking run for this job.")
@click.option(
    "--content-hash",
    is_flag=True,
    help="Fingerprint a Parquet input by every byte (reads it twice), not by its footers.",
)
@url_option
@pass_state
def score(
    state: CliState,
    ref: str,
    input_path: str,
    output_path: Path,
    engine: str,
    batch_size: int | None,
    keep: tuple[str, ...],
    spark_master: str,
    cache_dir: Path | None,
    trusted_key: Path | None,
    no_lineage: bool,
    content_hash: bool,
) -> None:
    """Score --input with a registered version (`churn@champion`, `churn/3`) into --output.

    The package is fetched and verified against the registry's signature, the input is
    streamed in batches (memory holds a few batches whatever its size) and the output is
    moved into place only when complete. Unless --no-lineage, a run in the model's project
    records the input dataset, the model version and the output.
    """
    from lockgate.compute.scoring import ScoringPlan, resolve_input
    from lockgate.compute.scoring.output import check_output_free
    from lockgate.serving.loader import load_predictor

    source = resolve_input(input_path)
    check_output_free(output_path)
    with state.client() as client, ExitStack() as stack:
        package = fetch_verified(state, client, ref, cache_dir, trusted_key)
        # The engines check again; checking here keeps a typo from leaving a failed run.
        ScoringPlan.build(source.arrow_schema(), package.model_signature, keep)
        run = None
        if not no_lineage:
            run = stack.enter_context(_start_run(client, package, engine, batch_size, keep))
            _record_input(run, source, content=content_hash)
        with _progress_bar(package.ref) as progress:
            result = _run_engine(
                engine,
                functools.partial(load_predictor, package),
                package,
                source.path,
                output_path,
                keep=keep,
                batch_size=batch_size,
                spark_master=spark_master,
                progress=progress,
            )
        if run is not None:
            _record_output(run, result)
    _print_summary(package.ref, result, run)


def _run_engine(
    engine: str,
    factory: PredictorFactory,
    package: VerifiedPackage,
    input_path: str,
    output_path: Path,
    *,
    keep: tuple[str, ...],
    batch_size: int | None,
    spark_master: str,
    progress: ProgressCallback,
) -> ScoringResult:
    from lockgate.compute.scoring import DEFAULT_BATCH_SIZE, score_local

    signature = package.model_signature
    rows = batch_size or DEFAULT_BATCH_SIZE
    if engine == "spark":
        from lockgate.compute.scoring.spark import score_spark

        return score_spark(
            factory,
            input_path,
            output_path,
            signature=signature,
            keep=keep,
            batch_size=rows,
            progress=progress,
            master=spark_master,
        )
    return score_local(
        factory,
        input_path,
        output_path,
        signature=signature,
        keep=keep,
        batch_size=rows,
        progress=progress,
    )


@contextmanager
def _start_run(
    client: Client,
    package: VerifiedPackage,
    engine: str,
    batch_size: int | None,
    keep: tuple[str, ...],
) -> Iterator[ActiveRun]:
    """A run in the model's project, ended `finished`, or `failed` when scoring fails."""
    from lockgate.compute.scoring import DEFAULT_BATCH_SIZE

    project = client.models.get(package.name).project
    tags = {
        "lockgate.kind": KIND,
        "lockgate.model": package.ref,
        "lockgate.manifest_sha256": package.manifest.digest,
        "lockgate.engine": engine,
    }
    if package.run_id is not None:
        tags["lockgate.model_run_id"] = package.run_id
    with client.start_run(project, f"score {package.ref}", tags=tags) as run:
        run.log_params(
            {
                "engine": engine,
                "batch_size": batch_size or DEFAULT_BATCH_SIZE,
                "keep": ",".join(keep),
            }
        )
        yield run


def _record_input(run: ActiveRun, source: ScoringInput, *, content: bool) -> None:
    from lockgate.compute.scoring.result import schema_text

    with error_console().status(f"fingerprinting {source.path}"):
        fingerprint = source.fingerprint(content=content)
    run.log_input(
        source.dataset_name(),
        fingerprint=fingerprint,
        schema=schema_text(source.arrow_schema()),
        row_count=source.total_rows,
        source=Path(source.path).resolve().as_uri(),
    )


def _record_output(run: ActiveRun, result: ScoringResult) -> None:
    run.set_tags(
        {
            "lockgate.output.path": str(result.output.path.resolve()),
            "lockgate.output.sha256": result.output.sha256,
            "lockgate.output.rows": str(result.output.rows),
        }
    )
    run.log_metrics(
        {
            "rows": float(result.rows),
            "rows_per_second": result.rows_per_second,
            "seconds": result.seconds,
        },
        step=0,
    )


@contextmanager
def _progress_bar(label: str) -> Iterator[ProgressCallback]:
    """A rich progress bar on stderr, in rows (a spinner-like bar when the total is not
    known, as for CSV); yields the engines' progress callback."""
    with Progress(
        TextColumn(f"scoring [bold]{label}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=error_console(),
    ) as progress:
        task = progress.add_task("rows", total=None)

        def update(step: ScoringProgress) -> None:
            progress.update(task, completed=step.rows, total=step.total_rows)

        yield update


def _print_summary(ref: str, result: ScoringResult, run: ActiveRun | None) -> None:
    files = len(result.input.files)
    print_fields(
        f"scored {result.rows:,} rows with {ref}",
        [
            ("engine", result.engine),
            ("input", f"{result.input.path} ({files} file{'s' if files != 1 else ''})"),
            ("output", str(result.output.path)),
            ("output sha256", result.output.sha256),
            ("batches", result.batches),
            ("seconds", round(result.seconds, 3)),
            ("rows/s", f"{result.rows_per_second:,.0f}"),
            ("lineage run", run.id if run is not None else "not recorded (--no-lineage)"),
        ],
    )
