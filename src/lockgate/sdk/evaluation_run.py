"""Evaluate registered versions on a dataset on this machine: fetch and verify their packages
(the loader serving uses), stream the dataset through DuckDB, score each batch with the batch
scoring plan, and feed the evaluation engine. Recording the result is `Evaluations`' job."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lockgate.api.evaluation import ComparisonOut, EvaluationOut
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.evaluation import (
    ConfusionMatrix,
    EvaluationConfig,
    ModelReport,
    PairedReport,
    SegmentRule,
    Task,
    Thresholds,
)
from lockgate.domain.tracking import DatasetInput
from lockgate.version import __version__

if TYPE_CHECKING:
    import numpy.typing as npt
    import pyarrow as pa

    from lockgate.compute.evaluation import EvaluationBatch, Evaluator
    from lockgate.compute.evaluation.datasets import EvaluationData
    from lockgate.compute.evaluation.encoding import TargetEncoder
    from lockgate.compute.scoring import ScoringPlan
    from lockgate.sdk.client import Client
    from lockgate.serving.flavors.base import Predictor
    from lockgate.serving.loader import VerifiedPackage

__all__ = [
    "EvaluationOutcome",
    "EvaluationResult",
    "ProgressCallback",
    "build_config",
    "evaluate",
    "resolve_data",
    "run_evaluation",
]

ProgressCallback = Callable[[int, int | None], None]
"""Called after each batch with the rows evaluated so far and the total when known."""


@dataclass(frozen=True, slots=True)
class EvaluationOutcome:
    """What a local evaluation produced, ready to be recorded.

    Attributes:
        dataset: The dataset version, as lineage records it.
        config: The config, with the classes filled in when they were inferred.
        packages: The verified packages scored (candidate first).
        report: One model's report (one package).
        paired: The paired report (two packages: candidate, then baseline).
        seconds: Wall time of reading, scoring and computing.
    """

    dataset: DatasetInput
    config: EvaluationConfig
    packages: tuple[VerifiedPackage, ...]
    report: ModelReport | None
    paired: PairedReport | None
    seconds: float


@dataclass(slots=True)
class _Scorer:
    plan: ScoringPlan
    predictor: Predictor


def run_evaluation(
    client: Client,
    refs: Sequence[str],
    data: EvaluationData,
    config: EvaluationConfig,
    *,
    cache_dir: Path,
    output: str | None = None,
    trusted_key_pem: str | None = None,
    batch_size: int = 65_536,
    progress: ProgressCallback | None = None,
) -> EvaluationOutcome:
    """Score `data` with each of `refs` (one version, or a candidate and a baseline) and
    evaluate the answers as `config` says.

    Raises:
        InvalidInputError: A column the config names is missing, or labels or answers do not
            fit the task; `field` names the option at fault.
        PackageIntegrityError: A package is not what the registry signed.
    """
    from lockgate.compute.evaluation.encoding import TargetEncoder
    from lockgate.compute.scoring import ScoringPlan
    from lockgate.serving.loader import fetch_package, load_predictor

    config.check()
    if not 1 <= len(refs) <= 2:
        raise InvalidInputError(
            "evaluate one version, or a candidate and a baseline", field="model"
        )
    started = time.perf_counter()
    columns = _check_columns(data, config)
    packages = tuple(
        fetch_package(client, ref, cache_dir, trusted_key_pem=trusted_key_pem) for ref in refs
    )
    scorers = []
    for package in packages:
        plan = ScoringPlan.build(data.schema, package.model_signature)
        scorers.append(_Scorer(plan, load_predictor(package)))
        columns += [name for name in plan.read_columns if name not in columns]
    encoder = TargetEncoder.build(config, data.schema.field(config.target).type)
    stream = _Stream(config, encoder, scorers, output)
    predicates = [rule.predicate for rule in config.segments if rule.predicate is not None]
    with data.batches(columns, predicates, order_by=config.query, batch_size=batch_size) as reader:
        for batch in reader:
            stream.update(batch)
            if progress is not None:
                progress(stream.rows, data.rows)
    report, paired = stream.finish(len(packages))
    return EvaluationOutcome(
        data.dataset(),
        stream.config,
        packages,
        report,
        paired,
        time.perf_counter() - started,
    )


def _check_columns(data: EvaluationData, config: EvaluationConfig) -> list[str]:
    columns = [config.target]
    data.require(config.target, field="target")
    for index, rule in enumerate(config.segments):
        if rule.column is not None:
            data.require(rule.column, field=f"segments[{index}].column")
            columns.append(rule.column)
    for column in config.sensitive:
        data.require(column, field="sensitive")
        columns.append(column)
    if config.query is not None:
        data.require(config.query, field="query")
        columns.append(config.query)
    return list(dict.fromkeys(columns))


class _Stream:
    """Batches in, the engine fed; the engine is made at the first batch, when a multiclass
    model's answer has told how many classes there are."""

    def __init__(
        self,
        config: EvaluationConfig,
        encoder: TargetEncoder,
        scorers: list[_Scorer],
        output: str | None,
    ) -> None:
        self.config = config
        self.rows = 0
        self._encoder = encoder
        self._scorers = scorers
        self._output = output
        self._evaluator: Evaluator | None = None

    def update(self, batch: pa.RecordBatch) -> None:
        from lockgate.compute.evaluation.encoding import select_prediction
        from lockgate.compute.scoring.plan import predict_batch

        task = self.config.task
        predictions = tuple(
            select_prediction(
                task,
                predict_batch(scorer.predictor, scorer.plan.to_columns(batch)),
                self._output,
                self._encoder.positive,
            )
            for scorer in self._scorers
        )
        evaluator = self._engine(predictions[0])
        target = self._encoder.encode(batch.column(self.config.target))
        evaluator.update(self._batch(batch, target, predictions))
        self.rows += batch.num_rows

    def _engine(self, first: npt.NDArray[Any]) -> Evaluator:
        from lockgate.compute.evaluation import Evaluator

        if self._evaluator is None:
            if self.config.task is Task.MULTICLASS_CLASSIFICATION:
                self._encoder.infer_classes(int(first.shape[1]))
                self.config = replace(self.config, classes=self._encoder.classes)
            self._evaluator = Evaluator(
                self.config, models=len(self._scorers), labels=self._encoder.labels
            )
        return self._evaluator

    def _batch(
        self,
        batch: pa.RecordBatch,
        target: npt.NDArray[Any],
        predictions: tuple[npt.NDArray[Any], ...],
    ) -> EvaluationBatch:
        from lockgate.compute.evaluation import EvaluationBatch
        from lockgate.compute.evaluation.datasets import PREDICATE_PREFIX

        segments: dict[str, npt.NDArray[Any]] = {}
        predicate_index = 0
        for rule in self.config.segments:
            if rule.column is not None:
                segments[rule.name] = _values(batch.column(rule.column))
            else:
                name = f"{PREDICATE_PREFIX}{predicate_index}"
                segments[rule.name] = _values(batch.column(name)).astype(bool)
                predicate_index += 1
        sensitive = {column: _values(batch.column(column)) for column in self.config.sensitive}
        query = self.config.query
        return EvaluationBatch(
            target=target,
            predictions=predictions,
            segments=segments,
            sensitive=sensitive,
            queries=_values(batch.column(query)) if query is not None else None,
        )

    def finish(self, models: int) -> tuple[ModelReport | None, PairedReport | None]:
        if self._evaluator is None:
            raise InvalidInputError("the dataset has no rows", field="data")
        labels = self._encoder.labels
        if models == 1:
            return _relabel(self._evaluator.report(), labels), None
        paired = self._evaluator.paired_report()
        return None, replace(
            paired,
            candidate=_relabel(paired.candidate, labels),
            baseline=_relabel(paired.baseline, labels),
        )


def _values(column: pa.Array | pa.ChunkedArray) -> npt.NDArray[Any]:
    import numpy as np

    return np.asarray(column.to_numpy(zero_copy_only=False))


def _relabel(report: ModelReport, labels: tuple[str, ...]) -> ModelReport:
    """The confusion matrix under the labels known once every row was read (a binary
    label's negative value is learnt from the data)."""
    matrix = report.confusion_matrix
    if matrix is None or len(matrix.labels) != len(labels):
        return report
    return replace(report, confusion_matrix=ConfusionMatrix(labels, matrix.counts))


ENGINE = f"lockgate {__version__}"
"""What computed an evaluation, as recorded with it."""


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """A recorded evaluation and, when a baseline was named, the recorded comparison.

    Attributes:
        evaluation: The candidate's evaluation as the server keeps it.
        comparison: The comparison with its verdict, or None without a baseline.
        report: The candidate's report.
        paired: Both reports and their paired changes, or None without a baseline.
        seconds: Wall time of reading, scoring and computing (recording excluded).
    """

    evaluation: EvaluationOut
    comparison: ComparisonOut | None
    report: ModelReport
    paired: PairedReport | None
    seconds: float

    @property
    def passed(self) -> bool | None:
        """The comparison's verdict; None when nothing was compared."""
        return None if self.comparison is None else self.comparison.verdict.passed


def build_config(
    task: str | Task,
    targets: str,
    *,
    threshold: float = 0.5,
    positive_label: str | None = None,
    classes: Sequence[str] = (),
    cutoffs: Sequence[int] = (10,),
    query: str | None = None,
    resamples: int = 1_000,
    confidence: float = 0.95,
    seed: int = 0,
    segments: Sequence[str | SegmentRule] = (),
    sensitive: Sequence[str] = (),
    calibration_bins: int = 10,
    max_segment_values: int = 50,
) -> EvaluationConfig:
    """A checked config; a segment given as a string is a column (one segment per value)."""
    try:
        kind = Task(task)
    except ValueError:
        known = ", ".join(t.value for t in Task)
        raise InvalidInputError(f"task {task!r} is not one of {known}", field="task") from None
    config = EvaluationConfig(
        task=kind,
        target=targets,
        threshold=threshold,
        positive_label=positive_label,
        classes=tuple(classes),
        cutoffs=tuple(cutoffs),
        query=query,
        resamples=resamples,
        confidence=confidence,
        seed=seed,
        segments=tuple(
            SegmentRule(rule, column=rule) if isinstance(rule, str) else rule for rule in segments
        ),
        sensitive=tuple(sensitive),
        calibration_bins=calibration_bins,
        max_segment_values=max_segment_values,
    )
    config.check()
    return config


def baseline_ref(model: str, baseline: str) -> tuple[str, str | None]:
    """The baseline's reference and the alias it was named by: `champion` is the alias of the
    candidate's model, `3` its version, `other@alias` or `other/3` a reference as it is."""
    if "@" in baseline or "/" in baseline:
        alias = baseline.split("@", 1)[1] if "@" in baseline else None
        return baseline, alias
    name = model.split("@", 1)[0].split("/", 1)[0]
    if baseline.isdigit():
        return f"{name}/{baseline}", None
    return f"{name}@{baseline}", baseline


def evaluate(
    client: Client,
    model: str,
    data: EvaluationData,
    config: EvaluationConfig,
    *,
    baseline: str | None = None,
    thresholds: Thresholds | None = None,
    output: str | None = None,
    batch_size: int = 65_536,
    cache_dir: Path,
    trusted_key_pem: str | None = None,
    progress: ProgressCallback | None = None,
) -> EvaluationResult:
    """Evaluate `model` (and `baseline`, on the same rows) and record the result."""
    refs = [model]
    alias = None
    if baseline is not None:
        ref, alias = baseline_ref(model, baseline)
        refs.append(ref)
    outcome = run_evaluation(
        client,
        refs,
        data,
        config,
        cache_dir=cache_dir,
        output=output,
        trusted_key_pem=trusted_key_pem,
        batch_size=batch_size,
        progress=progress,
    )
    candidate = outcome.packages[0]
    if outcome.report is not None:
        evaluation = client.evaluations.record(
            candidate.name,
            candidate.version,
            dataset=outcome.dataset,
            config=outcome.config,
            report=outcome.report,
            package_digest=candidate.manifest.digest,
            engine=ENGINE,
        )
        return EvaluationResult(evaluation, None, outcome.report, None, outcome.seconds)
    paired = outcome.paired
    assert paired is not None  # noqa: S101  # two packages give a paired report
    base = outcome.packages[1]
    if base.name != candidate.name:
        raise InvalidInputError(
            "the baseline is a version of the candidate's model", field="baseline"
        )
    comparison = client.evaluations.compare(
        candidate.name,
        candidate=candidate.version,
        baseline=base.version,
        paired=paired,
        candidate_digest=candidate.manifest.digest,
        baseline_digest=base.manifest.digest,
        dataset=outcome.dataset,
        config=outcome.config,
        engine=ENGINE,
        baseline_alias=alias,
        thresholds=thresholds,
    )
    return EvaluationResult(
        comparison.candidate, comparison, paired.candidate, paired, outcome.seconds
    )


def resolve_data(
    data: str | Path | Any, *, name: str | None = None, content_hash: bool = False
) -> EvaluationData:
    """A path, a `pyarrow.Table` or a pandas DataFrame as a dataset to evaluate on."""
    import pyarrow as pa

    from lockgate.compute.evaluation.datasets import EvaluationData

    if isinstance(data, str | Path):
        return EvaluationData.from_path(data, name=name, content_hash=content_hash)
    if isinstance(data, pa.Table):
        return EvaluationData.from_table(data, name=name or "data")
    if type(data).__name__ == "DataFrame" and hasattr(data, "to_numpy"):
        table = pa.Table.from_pandas(data, preserve_index=False)
        return EvaluationData.from_table(table, name=name or "data")
    raise InvalidInputError(
        f"data is a path, a pyarrow.Table or a pandas DataFrame, not {type(data).__name__}",
        field="data",
    )
