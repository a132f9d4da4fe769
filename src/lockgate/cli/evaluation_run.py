"""`lockgate eval run` and `lockgate eval compare`: evaluate a registered version on a dataset
on this machine (and compare it with a baseline on the same rows), then record the result on
the server, which judges a comparison against its thresholds."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lockgate.cli.context import CliState, json_option, pass_state, url_option
from lockgate.cli.output import emit_json, error_console
from lockgate.cli.packages import package_options
from lockgate.domain.errors import InvalidInputError

if TYPE_CHECKING:
    from lockgate.domain.evaluation import EvaluationConfig, Thresholds
    from lockgate.sdk.evaluation_run import EvaluationResult, ProgressCallback

__all__ = ["compare_command", "run_command"]

F = TypeVar("F", bound=Callable[..., Any])
_TASKS = ("binary_classification", "multiclass_classification", "regression", "ranking")
_DROP = re.compile(r"(?P<metric>[a-z0-9_@]+)=(?P<value>[0-9.]+)(?P<percent>%?)")


def _evaluation_options(function: F) -> F:
    options = [
        click.option(
            "--data",
            required=True,
            metavar="PATH",
            help="Parquet or CSV: a file, a directory or a quoted glob.",
        ),
        click.option("--target", required=True, metavar="COLUMN", help="The label column."),
        click.option(
            "--task", required=True, type=click.Choice(_TASKS), help="What the model predicts."
        ),
        click.option(
            "--dataset-name",
            default=None,
            help="The dataset's name in lineage (default: the file's stem).",
        ),
        click.option(
            "--threshold",
            type=float,
            default=0.5,
            show_default=True,
            help="Binary: a row is positive when its score is at least this.",
        ),
        click.option(
            "--positive-label",
            default=None,
            help="Binary: the label value that is positive (default 1/true).",
        ),
        click.option(
            "--classes",
            default=None,
            metavar="A,B,C",
            help="Multiclass: the label of each probability column, in order.",
        ),
        click.option(
            "--k",
            "cutoffs",
            type=click.IntRange(1, 1000),
            multiple=True,
            help="Ranking: a cutoff for ndcg@k and map@k (repeatable; default 10).",
        ),
        click.option(
            "--query", default=None, metavar="COLUMN", help="Ranking: the query id column."
        ),
        click.option(
            "--segment",
            "segment_columns",
            multiple=True,
            metavar="COLUMN",
            help="Metrics per value of this column (repeatable).",
        ),
        click.option(
            "--segment-where",
            "segment_predicates",
            multiple=True,
            metavar="NAME=SQL",
            help="Metrics on the rows where a SQL condition holds, e.g. 'new=tenure_months < 6' (repeatable).",
        ),
        click.option(
            "--sensitive",
            multiple=True,
            metavar="COLUMN",
            help="Binary: fairness measures across this column's groups (repeatable).",
        ),
        click.option(
            "--resamples",
            type=click.IntRange(0, 10_000),
            default=1000,
            show_default=True,
            help="Bootstrap resamples for the intervals (0: none).",
        ),
        click.option(
            "--confidence",
            type=float,
            default=0.95,
            show_default=True,
            help="The intervals' confidence level.",
        ),
        click.option(
            "--seed",
            type=click.IntRange(0),
            default=0,
            show_default=True,
            help="Seed of the bootstrap.",
        ),
        click.option(
            "--output",
            "output_column",
            default=None,
            metavar="NAME",
            help="The model output that holds the score (default: the only one, or a binary model's second).",
        ),
        click.option(
            "--content-hash",
            is_flag=True,
            help="Fingerprint a Parquet dataset by every byte, not by its footers.",
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(1),
            default=65_536,
            show_default=True,
            help="Rows per batch.",
        ),
        package_options,
        json_option,
        url_option,
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command("run")
@click.argument("ref", metavar="MODEL@ALIAS|MODEL/VERSION")
@_evaluation_options
@pass_state
def run_command(state: CliState, /, ref: str, **options: Any) -> None:
    """Evaluate a registered version on a dataset and record the result on the version.

    The package is fetched and verified like `lockgate score` does; metrics carry seeded
    bootstrap intervals.
    """
    result = _evaluate(state, ref, None, None, options)
    _show(result, options["as_json"])


@click.command("compare")
@click.argument("ref", metavar="MODEL@ALIAS|MODEL/VERSION")
@click.option(
    "--baseline",
    default="champion",
    show_default=True,
    help="An alias of the model, a version number, or a full reference.",
)
@click.option(
    "--max-drop",
    "max_drops",
    multiple=True,
    metavar="METRIC=VALUE[%]",
    help="The most a metric may worsen, absolute or as a percentage of the baseline (repeatable; default roc_auc/f1_macro/rmse/ndcg 0.01).",
)
@click.option(
    "--significant-only",
    is_flag=True,
    help="A worsening fails only when its paired interval excludes no change.",
)
@click.option(
    "--no-segment-thresholds", is_flag=True, help="Judge overall metrics only, not every segment."
)
@click.option(
    "--min-segment-rows",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="Segments with fewer rows are not judged.",
)
@_evaluation_options
@pass_state
def compare_command(
    state: CliState,
    /,
    ref: str,
    baseline: str,
    max_drops: tuple[str, ...],
    significant_only: bool,
    no_segment_thresholds: bool,
    min_segment_rows: int,
    **options: Any,
) -> None:
    """Compare a candidate with a baseline (by default the holder of `champion`) on the same
    rows; the server judges the paired changes. Exits 1 when the verdict is FAIL."""
    thresholds = _thresholds(
        max_drops, significant_only, not no_segment_thresholds, min_segment_rows
    )
    result = _evaluate(state, ref, baseline, thresholds, options)
    _show(result, options["as_json"])
    if result.passed is False:
        raise SystemExit(1)


def _thresholds(
    max_drops: tuple[str, ...], significant_only: bool, segments: bool, min_rows: int
) -> Thresholds | None:
    from lockgate.domain.evaluation import Threshold, Thresholds

    if not max_drops and not significant_only and segments and min_rows == 100:
        return None
    rules = []
    for text in max_drops:
        match = _DROP.fullmatch(text.strip())
        if match is None:
            raise InvalidInputError(
                f"{text!r} is not METRIC=VALUE or METRIC=VALUE%", field="max_drop"
            )
        percent = bool(match["percent"])
        value = float(match["value"]) / (100 if percent else 1)
        rules.append(Threshold(match["metric"], value, percent, None, segments, significant_only))
    thresholds = Thresholds(tuple(rules), min_rows)
    return thresholds if rules else None


def _config(options: dict[str, Any]) -> EvaluationConfig:
    from lockgate.domain.evaluation import SegmentRule
    from lockgate.sdk.evaluation_run import build_config

    segments: list[str | SegmentRule] = list(options["segment_columns"])
    for text in options["segment_predicates"]:
        name, sep, predicate = text.partition("=")
        if not sep or not name.strip() or not predicate.strip():
            raise InvalidInputError(f"{text!r} is not NAME=SQL", field="segment_where")
        segments.append(SegmentRule(name.strip(), predicate=predicate.strip()))
    classes = options["classes"]
    return build_config(
        options["task"],
        options["target"],
        threshold=options["threshold"],
        positive_label=options["positive_label"],
        classes=tuple(c.strip() for c in classes.split(",")) if classes else (),
        cutoffs=options["cutoffs"] or (10,),
        query=options["query"],
        resamples=options["resamples"],
        confidence=options["confidence"],
        seed=options["seed"],
        segments=segments,
        sensitive=options["sensitive"],
    )


def _evaluate(
    state: CliState,
    ref: str,
    baseline: str | None,
    thresholds: Thresholds | None,
    options: dict[str, Any],
) -> EvaluationResult:
    from lockgate.compute.evaluation.datasets import EvaluationData
    from lockgate.sdk.evaluation_run import evaluate

    config = _config(options)
    trusted_key: Path | None = options["trusted_key"]
    key = trusted_key.read_text(encoding="utf-8") if trusted_key is not None else None
    with error_console().status(f"fingerprinting {options['data']}"):
        data = EvaluationData.from_path(
            options["data"], name=options["dataset_name"], content_hash=options["content_hash"]
        )
    cache: Path = options["cache_dir"] or state.settings().home / "packages"
    with state.client() as client, _progress(ref) as progress:
        return evaluate(
            client,
            ref,
            data,
            config,
            baseline=baseline,
            thresholds=thresholds,
            output=options["output_column"],
            batch_size=options["batch_size"],
            cache_dir=cache,
            trusted_key_pem=key,
            progress=progress,
        )


@contextmanager
def _progress(label: str) -> Iterator[ProgressCallback]:
    with Progress(
        TextColumn(f"evaluating [bold]{label}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=error_console(),
        transient=True,
    ) as progress:
        task = progress.add_task("rows", total=None)

        def update(rows: int, total: int | None) -> None:
            progress.update(task, completed=rows, total=total)

        yield update


def _show(result: EvaluationResult, as_json: bool) -> None:
    from lockgate.cli.evaluation import print_comparison, print_evaluation

    if as_json:
        emit_json(result.comparison if result.comparison is not None else result.evaluation)
        return
    if result.comparison is not None:
        print_comparison(result.comparison)
    else:
        print_evaluation(result.evaluation)
    error_console().print(f"computed in {result.seconds:.2f} s")
