"""Evaluation use cases: recording what a version scored on a dataset version, and comparing a
candidate with a baseline on the same rows, with the verdict computed here from the numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lockgate.domain.access import Caller, Permission
from lockgate.domain.audit import JsonValue
from lockgate.domain.errors import ConflictError, InvalidInputError
from lockgate.domain.evaluation import (
    Comparison,
    ComparisonId,
    Evaluation,
    EvaluationConfig,
    EvaluationId,
    ModelReport,
    PairedReport,
    Thresholds,
    check_paired,
    check_report,
    default_thresholds,
    fields_under,
    judge,
)
from lockgate.domain.governance.lineage import LineageEdge, LineageNode, LineageRelation
from lockgate.domain.identity import check_id
from lockgate.domain.names import check_alias, check_text
from lockgate.domain.pagination import Page, check_page_size
from lockgate.domain.registry import RegisteredModel
from lockgate.domain.tracking import DatasetInput
from lockgate.services.context import ServiceContext
from lockgate.store.protocols import UnitOfWork

__all__ = ["EvaluationService", "ScoredVersion"]

_DIGEST = re.compile(r"[0-9a-f]{64}")
MAX_ENGINE_LENGTH = 128
# An audit event names the first failed checks; the comparison holds them all.
MAX_AUDITED_REASONS = 20


@dataclass(frozen=True, slots=True)
class ScoredVersion:
    """A model version as it was scored: its number and the manifest digest (sha256) of the
    package whose predictions were evaluated."""

    version: int
    package_digest: str


class EvaluationService:
    """Evaluations of model versions, and comparisons judged against thresholds."""

    def __init__(self, context: ServiceContext) -> None:
        self._ctx = context

    def record_evaluation(
        self,
        caller: Caller,
        model_name: str,
        version: int,
        dataset: DatasetInput,
        config: EvaluationConfig,
        report: ModelReport,
        package_digest: str,
        engine: str,
    ) -> Evaluation:
        """Record what one version scored on one dataset version.

        An evaluation is evidence only for the exact bytes the registry signed: the version
        must have a signed package whose manifest digest is `package_digest`.

        Raises:
            InvalidInputError: The config, report, dataset or engine breaks a rule, or the
                digest is not the version's (`field` is `package_digest`).
            NotFoundError: The model or version does not exist.
        """
        scored = ScoredVersion(version, package_digest)
        _check_inputs(dataset, config, engine)
        _check_digest(scored, field="package_digest")
        check_report(report, config)
        with self._ctx.uow() as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.MODEL_WRITE)
            _verify_package(uow, model, scored, field="package_digest")
            evaluation = self._evaluation(caller, model, scored, dataset, config, report, engine)
            uow.evaluations.add_evaluation(evaluation)
            self._record_evaluation(uow, caller, evaluation)
            uow.commit()
        return evaluation

    def compare(
        self,
        caller: Caller,
        model_name: str,
        dataset: DatasetInput,
        config: EvaluationConfig,
        candidate: ScoredVersion,
        baseline: ScoredVersion,
        paired: PairedReport,
        baseline_alias: str | None,
        thresholds: Thresholds | None,
        engine: str,
    ) -> Comparison:
        """Record a candidate and a baseline evaluated on the same rows, and the comparison
        of the two, in one transaction; the verdict is computed here with `thresholds`
        (default: the task's primary metric may fall by at most 0.01).

        Raises:
            InvalidInputError: A rule is broken: the same version twice, a report or change
                the submitted numbers do not support, a digest that is not the version's.
            ConflictError: `baseline_alias` no longer points to the baseline version.
            NotFoundError: The model or a version does not exist.
        """
        _check_inputs(dataset, config, engine)
        _check_digest(candidate, field="candidate.package_digest")
        _check_digest(baseline, field="baseline.package_digest")
        if candidate.version == baseline.version:
            raise InvalidInputError(
                "the candidate and the baseline are the same version", field="baseline.version"
            )
        if baseline_alias is not None:
            check_alias(baseline_alias, field="baseline_alias")
        check_report(paired.candidate, config, field="candidate.report")
        check_report(paired.baseline, config, field="baseline.report")
        if paired.candidate.rows != paired.baseline.rows:
            raise InvalidInputError(
                "a comparison scores both versions on the same rows", field="baseline.report.rows"
            )
        with fields_under("changes"):
            check_paired(paired)
        if thresholds is None:
            thresholds = default_thresholds(config.task, config.cutoffs)
        else:
            thresholds.check()
            thresholds.check_task(config.task, config.cutoffs)
        with self._ctx.uow() as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.MODEL_WRITE)
            _verify_package(uow, model, candidate, field="candidate.package_digest")
            _verify_package(uow, model, baseline, field="baseline.package_digest")
            sides = [
                self._evaluation(caller, model, scored, dataset, config, report, engine)
                for scored, report in ((candidate, paired.candidate), (baseline, paired.baseline))
            ]
            for evaluation in sides:
                uow.evaluations.add_evaluation(evaluation)
                self._record_evaluation(uow, caller, evaluation)
            if baseline_alias is not None:
                # After an audit append, which holds the chain head (writers queue there): an
                # alias move either committed before and is seen here, or waits for this one.
                _check_alias_holder(uow, model, baseline_alias, baseline.version)
            comparison = Comparison(
                ComparisonId(self._ctx.ids.new_id()),
                model.project_id,
                model.id,
                model.name,
                sides[0],
                sides[1],
                baseline_alias,
                paired,
                thresholds,
                judge(paired, thresholds),
                self._ctx.clock.now(),
                caller.actor,
            )
            uow.evaluations.add_comparison(comparison)
            for side, relation in (
                (comparison.candidate, LineageRelation.CANDIDATE),
                (comparison.baseline, LineageRelation.BASELINE),
            ):
                uow.lineage.add_edge(
                    LineageEdge(
                        LineageNode.evaluation(side.id),
                        LineageNode.comparison(comparison.id),
                        relation,
                        comparison.created_at,
                        comparison.project_id,
                    )
                )
            self._record_comparison(uow, caller, comparison)
            uow.commit()
        return comparison

    def get_evaluation(self, caller: Caller, evaluation_id: str) -> Evaluation:
        """Raises NotFoundError."""
        check_id(evaluation_id, field="evaluation_id")
        with self._ctx.uow(read_only=True) as uow:
            evaluation = uow.evaluations.get_evaluation(EvaluationId(evaluation_id))
            self._ctx.authorize(
                uow,
                caller,
                Permission.PROJECT_READ,
                project_id=evaluation.project_id,
                subject=("evaluation", evaluation.id),
            )
            return evaluation

    def list_evaluations(
        self,
        caller: Caller,
        model_name: str,
        version: int | None,
        page_size: int,
        cursor: str | None,
    ) -> Page[Evaluation]:
        """Evaluations of a model, or of one of its versions, newest first."""
        check_page_size(page_size)
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            if version is not None:
                uow.models.get_version(model.name, version)  # NotFoundError naming it
            return uow.evaluations.list_evaluations(model.id, version, page_size, cursor)

    def get_comparison(self, caller: Caller, comparison_id: str) -> Comparison:
        """Raises NotFoundError."""
        check_id(comparison_id, field="comparison_id")
        with self._ctx.uow(read_only=True) as uow:
            comparison = uow.evaluations.get_comparison(ComparisonId(comparison_id))
            self._ctx.authorize(
                uow,
                caller,
                Permission.PROJECT_READ,
                project_id=comparison.project_id,
                subject=("comparison", comparison.id),
            )
            return comparison

    def list_comparisons(
        self,
        caller: Caller,
        model_name: str,
        candidate_version: int | None,
        page_size: int,
        cursor: str | None,
    ) -> Page[Comparison]:
        """Comparisons of a model, or those with one candidate version, newest first."""
        check_page_size(page_size)
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            return uow.evaluations.list_comparisons(model.id, candidate_version, page_size, cursor)

    def latest_verdict(self, caller: Caller, model_name: str, version: int) -> Comparison | None:
        """The newest comparison with `version` as the candidate (its verdict, thresholds and
        baseline), or None when the version was never compared."""
        with self._ctx.uow(read_only=True) as uow:
            model = self._ctx.authorized_model(uow, caller, model_name, Permission.PROJECT_READ)
            uow.models.get_version(model.name, version)
            page = uow.evaluations.list_comparisons(model.id, version, 1, None)
            return page.items[0] if page.items else None

    def _evaluation(
        self,
        caller: Caller,
        model: RegisteredModel,
        scored: ScoredVersion,
        dataset: DatasetInput,
        config: EvaluationConfig,
        report: ModelReport,
        engine: str,
    ) -> Evaluation:
        return Evaluation(
            EvaluationId(self._ctx.ids.new_id()),
            model.project_id,
            model.id,
            model.name,
            scored.version,
            dataset,
            config,
            report,
            scored.package_digest,
            engine,
            self._ctx.clock.now(),
            caller.actor,
        )

    def _record_evaluation(self, uow: UnitOfWork, caller: Caller, evaluation: Evaluation) -> None:
        """The lineage edges into a stored evaluation (its version and its dataset version)
        and its audit event."""
        node = LineageNode.evaluation(evaluation.id)
        dataset = evaluation.dataset
        for source, relation in (
            (
                LineageNode.model_version(evaluation.model_id, evaluation.version),
                LineageRelation.EVALUATED,
            ),
            (
                LineageNode.dataset(evaluation.project_id, dataset.name, dataset.fingerprint),
                LineageRelation.INPUT,
            ),
        ):
            uow.lineage.add_edge(
                LineageEdge(source, node, relation, evaluation.created_at, evaluation.project_id)
            )
        primary = evaluation.report.primary_metric
        estimate = evaluation.report.metrics.get(primary)
        self._ctx.record(
            uow,
            "evaluation.recorded",
            caller,
            ("model_version", f"{evaluation.model_name}/{evaluation.version}"),
            {
                "evaluation_id": evaluation.id,
                "dataset": evaluation.dataset.name,
                "dataset_fingerprint": evaluation.dataset.fingerprint,
                "task": evaluation.config.task.value,
                "primary_metric": primary,
                "primary_value": None if estimate is None else estimate.value,
                "package_digest": evaluation.package_digest,
                "engine": evaluation.engine,
            },
        )

    def _record_comparison(self, uow: UnitOfWork, caller: Caller, comparison: Comparison) -> None:
        reasons: list[JsonValue] = list(comparison.verdict.reasons[:MAX_AUDITED_REASONS])
        self._ctx.record(
            uow,
            "evaluation.compared",
            caller,
            ("model_version", f"{comparison.model_name}/{comparison.candidate.version}"),
            {
                "comparison_id": comparison.id,
                "candidate_evaluation_id": comparison.candidate.id,
                "baseline_evaluation_id": comparison.baseline.id,
                "baseline_version": comparison.baseline.version,
                "baseline_alias": comparison.baseline_alias,
                "dataset_fingerprint": comparison.candidate.dataset.fingerprint,
                "passed": comparison.verdict.passed,
                "failed_checks": len(comparison.verdict.reasons),
                "reasons": reasons,
            },
        )


def _check_inputs(dataset: DatasetInput, config: EvaluationConfig, engine: str) -> None:
    dataset.check()
    with fields_under("config"):
        config.check()
    if not engine.strip():
        raise InvalidInputError("name the engine that computed the report", field="engine")
    check_text(engine, field="engine", max_length=MAX_ENGINE_LENGTH)


def _check_digest(scored: ScoredVersion, *, field: str) -> None:
    if not _DIGEST.fullmatch(scored.package_digest):
        raise InvalidInputError(
            "a package digest is 64 lowercase hex characters (the manifest's sha256)",
            field=field,
        )


def _verify_package(
    uow: UnitOfWork, model: RegisteredModel, scored: ScoredVersion, *, field: str
) -> None:
    """The version exists and has a signed package whose manifest digest is the one given."""
    uow.models.get_version(model.name, scored.version)
    signed = uow.packages.get(model.id, scored.version)
    if signed is None:
        raise InvalidInputError(
            f"{model.name} version {scored.version} has no signed package to vouch for",
            field=field,
        )
    manifest, _ = signed
    if manifest.digest != scored.package_digest:
        raise InvalidInputError(
            f"{scored.package_digest} is not the digest of the package the registry signed "
            f"for {model.name} version {scored.version} ({manifest.digest}): an evaluation "
            "is evidence only for the exact bytes that were signed",
            field=field,
        )


def _check_alias_holder(uow: UnitOfWork, model: RegisteredModel, alias: str, version: int) -> None:
    holder = uow.models.current_alias(model.id, alias)
    if holder != version:
        now = "points to no version" if holder is None else f"points to version {holder}"
        raise ConflictError(
            f"{model.name}@{alias} {now} now, not to the baseline version {version}: the "
            "alias moved; compare against its current holder"
        )
