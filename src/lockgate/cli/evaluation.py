"""`lockgate eval`: the evaluations recorded for model versions and the comparisons with their
verdicts. `evaluation_group` is the click group; commands that run evaluations attach to it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import islice

import click
from rich.markup import escape

from lockgate.api.evaluation import (
    ComparisonOut,
    EstimateIO,
    EvaluationOut,
    FairnessIO,
    ReportIO,
)
from lockgate.cli.context import CliState, json_option, pass_state, url_option
from lockgate.cli.output import Cell, emit_json, print_fields, print_table, stdout_console
from lockgate.domain.evaluation import FAIRNESS_MEASURES, Estimate, task_metrics
from lockgate.domain.registry import ModelRef
from lockgate.sdk import Client

__all__ = [
    "evaluation_group",
    "format_estimate",
    "print_comparison",
    "print_evaluation",
    "print_version_evaluations",
    "verdict_label",
]

MAX_MATRIX_LABELS = 20


@click.group("eval")
def evaluation_group() -> None:
    """Evaluations of model versions, and comparisons judged against thresholds."""


def format_number(value: float | None) -> str:
    """A metric value for people: three decimals, or four significant digits when large."""
    if value is None:
        return ""
    return f"{value:.3f}" if abs(value) < 10_000 else f"{value:.4g}"


def format_estimate(estimate: EstimateIO | Estimate | None) -> str:
    """`0.842 [0.831, 0.853]`, or the value alone when it has no interval."""
    if estimate is None:
        return ""
    text = format_number(estimate.value)
    if estimate.lower is not None and estimate.upper is not None:
        text += f" [{format_number(estimate.lower)}, {format_number(estimate.upper)}]"
    return text


def verdict_label(passed: bool) -> str:
    """PASS in green or FAIL in red (rich markup)."""
    return "[bold green]PASS[/bold green]" if passed else "[bold red]FAIL[/bold red]"


def _primary(report: ReportIO) -> tuple[str, str]:
    name = report.to_domain().primary_metric
    return name, format_estimate(report.metrics.get(name))


def _version_ref(client: Client, ref: str) -> tuple[str, int]:
    parsed = ModelRef.parse(ref, field="ref")
    if parsed.version is not None:
        return parsed.name, parsed.version
    return parsed.name, client.models.resolve(ref).version


def _evaluation_rows(evaluations: Iterable[EvaluationOut]) -> Iterable[Sequence[Cell]]:
    for e in evaluations:
        metric, value = _primary(e.report)
        yield (
            e.id,
            f"{e.model}/{e.version}",
            escape(e.dataset.name),
            e.dataset.fingerprint[:12],
            e.report.rows,
            f"{metric} {value}",
            escape(e.engine),
            e.created_at,
        )


_EVALUATION_COLUMNS = ["id", "version", "dataset", "fingerprint", "rows", "primary", "engine"]


def print_evaluations(title: str, evaluations: Sequence[EvaluationOut]) -> None:
    """One row per evaluation with its primary metric and interval."""
    print_table(
        title,
        [*_EVALUATION_COLUMNS, "created"],
        _evaluation_rows(evaluations),
        empty="no evaluations",
    )


def _metrics_table(
    title: str, metrics: Mapping[str, EstimateIO], order: Sequence[str] = ()
) -> None:
    """Metrics in `order` (the catalog's, for a task), then any others by name."""
    names = [name for name in order if name in metrics]
    names += sorted(set(metrics) - set(names))
    rows = ((name, format_estimate(metrics[name])) for name in names)
    print_table(title, ["metric", escape("value [interval]")], rows, empty="no metrics")


def _confusion_matrix(report: ReportIO) -> None:
    matrix = report.confusion_matrix
    if matrix is None:
        return
    if len(matrix.labels) > MAX_MATRIX_LABELS:
        stdout_console().print(
            f"confusion matrix: {len(matrix.labels)} classes (see --json)", highlight=False
        )
        return
    labels = [escape(label) for label in matrix.labels]
    rows: Iterable[Sequence[Cell]] = (
        [label, *counts] for label, counts in zip(labels, matrix.counts, strict=True)
    )
    print_table("confusion matrix (rows: actual, columns: predicted)", ["", *labels], rows)


def _fairness(fairness: FairnessIO) -> None:
    attribute = escape(fairness.attribute)
    _metrics_table(f"fairness across {attribute}", fairness.measures, FAIRNESS_MEASURES)
    rows = (
        (
            escape(g.group),
            g.rows,
            format_number(g.selection_rate),
            format_number(g.true_positive_rate),
            format_number(g.false_positive_rate),
        )
        for g in fairness.groups
    )
    print_table(
        f"groups of {attribute}",
        ["group", "rows", "selection rate", "true positive rate", "false positive rate"],
        rows,
    )


def print_evaluation(evaluation: EvaluationOut) -> None:
    """An evaluation: where it came from, its metrics with intervals, confusion matrix,
    worst segment, fairness measures and calibration."""
    report = evaluation.report
    domain_report = report.to_domain()
    worst = domain_report.worst_segment()
    primary = domain_report.primary_metric
    fields: list[tuple[str, Cell]] = [
        ("model", f"{evaluation.model}/{evaluation.version}"),
        ("dataset", f"{evaluation.dataset.name} ({evaluation.dataset.fingerprint[:16]})"),
        ("task", report.task.value),
        ("target", evaluation.config.target),
        ("rows", report.rows),
        ("package", evaluation.package_digest[:16]),
        ("engine", evaluation.engine),
        ("created by", evaluation.created_by),
        ("created", evaluation.created_at),
    ]
    if worst is not None:
        value = format_estimate(worst.metrics.get(primary))
        where = f"{worst.segment}={worst.value} ({worst.rows} rows)"
        fields.append(("worst segment", f"{where}: {primary} {value}"))
    if report.calibration is not None:
        ece = format_estimate(report.calibration.expected_calibration_error)
        fields.append(("calibration ECE", ece))
    print_fields(f"evaluation {evaluation.id}", fields)
    _metrics_table("metrics", report.metrics, task_metrics(report.task, domain_report.cutoffs))
    _confusion_matrix(report)
    for fairness in report.fairness:
        _fairness(fairness)


def _comparison_rows(comparisons: Iterable[ComparisonOut]) -> Iterable[Sequence[Cell]]:
    for c in comparisons:
        baseline = str(c.baseline.version)
        if c.baseline_alias:
            baseline += f" (@{c.baseline_alias})"
        yield (
            c.id,
            c.candidate.version,
            baseline,
            escape(c.candidate.dataset.name),
            verdict_label(c.verdict.passed),
            len(c.verdict.reasons),
            c.created_at,
        )


def print_comparisons(title: str, comparisons: Sequence[ComparisonOut]) -> None:
    """One row per comparison with its verdict."""
    print_table(
        title,
        ["id", "candidate", "baseline", "dataset", "verdict", "failed checks", "created"],
        _comparison_rows(comparisons),
        empty="no comparisons",
    )


def print_comparison(comparison: ComparisonOut) -> None:
    """A comparison: PASS or FAIL, every check with its numbers, and the reasons."""
    verdict = comparison.verdict
    baseline = f"{comparison.model}/{comparison.baseline.version}"
    if comparison.baseline_alias:
        baseline += f" (@{comparison.baseline_alias})"
    stdout_console().print(
        f"{verdict_label(verdict.passed)} {escape(comparison.model)}/"
        f"{comparison.candidate.version} against {escape(baseline)}",
        highlight=False,
    )
    print_fields(
        f"comparison {comparison.id}",
        [
            ("dataset", comparison.candidate.dataset.name),
            ("rows", comparison.candidate.report.rows),
            ("candidate evaluation", comparison.candidate.id),
            ("baseline evaluation", comparison.baseline.id),
            ("min rows per segment", comparison.thresholds.min_rows),
            ("created by", comparison.created_by),
            ("created", comparison.created_at),
        ],
    )
    rows = (
        (
            check.scope.value,
            escape(check.target),
            check.metric,
            format_number(check.baseline),
            format_number(check.candidate),
            "" if check.delta is None else f"{check.delta:+.4f}",
            ""
            if check.lower is None or check.upper is None
            else f"{check.lower:+.4f}, {check.upper:+.4f}",
            format_number(check.allowed),
            "[green]pass[/green]" if check.passed else "[red]fail[/red]",
        )
        for check in verdict.checks
    )
    print_table(
        "checks",
        [
            "scope",
            "target",
            "metric",
            "baseline",
            "candidate",
            "change",
            "interval",
            "allowed",
            "result",
        ],
        rows,
    )
    console = stdout_console()
    for reason in verdict.reasons:
        console.print(f"[red]-[/red] {escape(reason)}", highlight=False)


def print_version_evaluations(client: Client, name: str, version: int, *, limit: int = 5) -> None:
    """The latest evaluations of a version and the verdict of its latest comparison."""
    evaluations = list(islice(client.evaluations.list(name, version, page_size=limit), limit))
    print_evaluations("latest evaluations", evaluations)
    latest = next(
        iter(client.evaluations.list_comparisons(name, candidate_version=version, page_size=1)),
        None,
    )
    if latest is None:
        stdout_console().print("[dim]never compared[/dim]")
        return
    baseline = f"version {latest.baseline.version}"
    if latest.baseline_alias:
        baseline += f" (@{latest.baseline_alias})"
    stdout_console().print(
        f"latest comparison: {verdict_label(latest.verdict.passed)} against {baseline} "
        f"({latest.id})",
        highlight=False,
    )
    for reason in latest.verdict.reasons:
        stdout_console().print(f"  [red]-[/red] {escape(reason)}", highlight=False)


@evaluation_group.command("list")
@click.argument("ref", metavar="MODEL/VERSION")
@url_option
@json_option
@pass_state
def list_evaluations(state: CliState, ref: str, as_json: bool) -> None:
    """List the evaluations of a version (MODEL/VERSION or MODEL@ALIAS), newest first."""
    with state.client() as client:
        name, version = _version_ref(client, ref)
        found = list(client.evaluations.list(name, version))
    if as_json:
        emit_json(found)
    else:
        print_evaluations(f"evaluations of {name}/{version}", found)


@evaluation_group.command("show")
@click.argument("evaluation_id", metavar="ID")
@url_option
@json_option
@pass_state
def show_evaluation(state: CliState, evaluation_id: str, as_json: bool) -> None:
    """Show one evaluation: metrics with intervals, confusion matrix, worst segment,
    fairness and calibration."""
    with state.client() as client:
        evaluation = client.evaluations.get(evaluation_id)
    if as_json:
        emit_json(evaluation)
    else:
        print_evaluation(evaluation)


@evaluation_group.command("comparisons")
@click.argument("name", metavar="MODEL")
@click.option(
    "--version",
    "candidate_version",
    type=click.IntRange(min=1),
    default=None,
    help="Only comparisons with this candidate version.",
)
@url_option
@json_option
@pass_state
def list_comparisons(
    state: CliState, name: str, candidate_version: int | None, as_json: bool
) -> None:
    """List the comparisons of a model, newest first, with their verdicts."""
    with state.client() as client:
        found = list(client.evaluations.list_comparisons(name, candidate_version=candidate_version))
    if as_json:
        emit_json(found)
    else:
        print_comparisons(f"comparisons of {name}", found)


@evaluation_group.command("comparison")
@click.argument("comparison_id", metavar="ID")
@url_option
@json_option
@pass_state
def show_comparison(state: CliState, comparison_id: str, as_json: bool) -> None:
    """Show one comparison: PASS or FAIL, each check and the reasons; exit 0 either way."""
    with state.client() as client:
        comparison = client.evaluations.get_comparison(comparison_id)
    if as_json:
        emit_json(comparison)
    else:
        print_comparison(comparison)
