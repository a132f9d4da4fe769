"""SqlEvaluationRepository: evaluations of model versions and comparisons between two of them,
their settings, reports, thresholds and verdicts kept as canonical JSON documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa

from lockgate.domain.errors import NotFoundError
from lockgate.domain.evaluation import (
    Comparison,
    ComparisonId,
    Evaluation,
    EvaluationId,
    changes_document,
    config_document,
    read_changes,
    read_config,
    read_report,
    read_thresholds,
    read_verdict,
    report_document,
    thresholds_document,
    verdict_document,
)
from lockgate.domain.identity import Actor
from lockgate.domain.pagination import Page, decode_cursor
from lockgate.domain.registry import ModelId
from lockgate.domain.tracking import DatasetInput, ProjectId
from lockgate.store.sql.codec import (
    from_json,
    from_micros,
    page_of,
    to_json,
    to_micros,
    translate_integrity,
)
from lockgate.store.sql.run_details import schema_json
from lockgate.store.sql.tables import evaluation_comparisons, evaluations, registered_models

__all__ = ["SqlEvaluationRepository"]

_evaluations = evaluations
_comparisons = evaluation_comparisons
_models = registered_models


class SqlEvaluationRepository:
    """Evaluations in `evaluations`, comparisons in `evaluation_comparisons` (pointing at the
    two evaluations they compare).

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def add_evaluation(self, evaluation: Evaluation) -> None:
        dataset = evaluation.dataset
        row = {
            "id": evaluation.id,
            "project_id": evaluation.project_id,
            "model_id": evaluation.model_id,
            "version": evaluation.version,
            "dataset_name": dataset.name,
            "dataset_fingerprint": dataset.fingerprint,
            "dataset_row_count": dataset.row_count,
            "dataset_schema": schema_json(dataset.schema),
            "dataset_source": dataset.source,
            "task": evaluation.config.task.value,
            "config": to_json(config_document(evaluation.config)),
            "report": to_json(report_document(evaluation.report)),
            "package_digest": evaluation.package_digest,
            "engine": evaluation.engine,
            "created_at": to_micros(evaluation.created_at),
            "created_by": evaluation.created_by,
        }
        with translate_integrity(
            self._connection,
            duplicate=f"evaluation {evaluation.id} already exists",
            missing=(
                f"model {evaluation.model_name!r} has no version {evaluation.version}"
                " (or its project does not exist)"
            ),
        ):
            self._connection.execute(_evaluations.insert(), row)

    def get_evaluation(self, evaluation_id: EvaluationId) -> Evaluation:
        found = self._load_evaluations(
            _evaluations_query().where(_evaluations.c.id == evaluation_id)
        )
        if not found:
            raise NotFoundError(f"evaluation {evaluation_id} does not exist")
        return found[0]

    def list_evaluations(
        self, model_id: ModelId, version: int | None, page_size: int, cursor: str | None
    ) -> Page[Evaluation]:
        query = (
            _evaluations_query()
            .where(_evaluations.c.model_id == model_id)
            .order_by(_evaluations.c.created_at.desc(), _evaluations.c.id.desc())
            .limit(page_size + 1)
        )
        if version is not None:
            query = query.where(_evaluations.c.version == version)
        if cursor is not None:
            query = query.where(_before(cursor, _evaluations.c.created_at, _evaluations.c.id))
        items = self._load_evaluations(query)
        return page_of(items, page_size, lambda e: [to_micros(e.created_at), e.id])

    def add_comparison(self, comparison: Comparison) -> None:
        row = {
            "id": comparison.id,
            "project_id": comparison.project_id,
            "model_id": comparison.model_id,
            "candidate_evaluation_id": comparison.candidate.id,
            "baseline_evaluation_id": comparison.baseline.id,
            "candidate_version": comparison.candidate.version,
            "baseline_version": comparison.baseline.version,
            "baseline_alias": comparison.baseline_alias,
            "thresholds": to_json(thresholds_document(comparison.thresholds)),
            "changes": to_json(changes_document(comparison.report)),
            "passed": comparison.verdict.passed,
            "verdict": to_json(verdict_document(comparison.verdict)),
            "created_at": to_micros(comparison.created_at),
            "created_by": comparison.created_by,
        }
        with translate_integrity(
            self._connection,
            duplicate=f"comparison {comparison.id} already exists",
            missing=f"an evaluation of comparison {comparison.id} is not stored",
        ):
            self._connection.execute(_comparisons.insert(), row)

    def get_comparison(self, comparison_id: ComparisonId) -> Comparison:
        query = sa.select(_comparisons).where(_comparisons.c.id == comparison_id)
        found = self._load_comparisons(query)
        if not found:
            raise NotFoundError(f"comparison {comparison_id} does not exist")
        return found[0]

    def list_comparisons(
        self,
        model_id: ModelId,
        candidate_version: int | None,
        page_size: int,
        cursor: str | None,
    ) -> Page[Comparison]:
        query = (
            sa.select(_comparisons)
            .where(_comparisons.c.model_id == model_id)
            .order_by(_comparisons.c.created_at.desc(), _comparisons.c.id.desc())
            .limit(page_size + 1)
        )
        if candidate_version is not None:
            query = query.where(_comparisons.c.candidate_version == candidate_version)
        if cursor is not None:
            query = query.where(_before(cursor, _comparisons.c.created_at, _comparisons.c.id))
        items = self._load_comparisons(query)
        return page_of(items, page_size, lambda c: [to_micros(c.created_at), c.id])

    def _load_evaluations(self, query: sa.Select[Any]) -> list[Evaluation]:
        return [_evaluation(row) for row in self._connection.execute(query).mappings()]

    def _load_comparisons(self, query: sa.Select[Any]) -> list[Comparison]:
        """The comparisons a query selects, with their evaluations (one query for all)."""
        rows = self._connection.execute(query).mappings().all()
        if not rows:
            return []
        ids = {row["candidate_evaluation_id"] for row in rows}
        ids |= {row["baseline_evaluation_id"] for row in rows}
        loaded = self._load_evaluations(_evaluations_query().where(_evaluations.c.id.in_(ids)))
        by_id = {evaluation.id: evaluation for evaluation in loaded}
        return [_comparison(row, by_id) for row in rows]


def _evaluations_query() -> sa.Select[Any]:
    return sa.select(_evaluations, _models.c.name.label("model_name")).join(
        _models, _models.c.id == _evaluations.c.model_id
    )


def _before(
    cursor: str, created_at: sa.Column[int], row_id: sa.Column[str]
) -> sa.ColumnElement[bool]:
    """Rows after the cursor's in newest-first order."""
    micros, last_id = decode_cursor(cursor, arity=2)
    if not isinstance(micros, int) or isinstance(micros, bool) or not isinstance(last_id, str):
        micros, last_id = 0, ""
    return sa.or_(created_at < micros, sa.and_(created_at == micros, row_id < last_id))


def _evaluation(row: sa.RowMapping) -> Evaluation:
    schema = cast(Sequence[Sequence[str]], from_json(row["dataset_schema"]))
    dataset = DatasetInput(
        name=row["dataset_name"],
        fingerprint=row["dataset_fingerprint"],
        row_count=row["dataset_row_count"],
        schema=tuple((column, dtype) for column, dtype in schema),
        source=row["dataset_source"],
    )
    return Evaluation(
        id=EvaluationId(row["id"]),
        project_id=ProjectId(row["project_id"]),
        model_id=ModelId(row["model_id"]),
        model_name=row["model_name"],
        version=row["version"],
        dataset=dataset,
        config=read_config(from_json(row["config"])),
        report=read_report(from_json(row["report"])),
        package_digest=row["package_digest"],
        engine=row["engine"],
        created_at=from_micros(row["created_at"]),
        created_by=Actor(row["created_by"]),
    )


def _comparison(
    row: sa.RowMapping, evaluations_by_id: dict[EvaluationId, Evaluation]
) -> Comparison:
    candidate = evaluations_by_id[EvaluationId(row["candidate_evaluation_id"])]
    baseline = evaluations_by_id[EvaluationId(row["baseline_evaluation_id"])]
    return Comparison(
        id=ComparisonId(row["id"]),
        project_id=ProjectId(row["project_id"]),
        model_id=ModelId(row["model_id"]),
        model_name=candidate.model_name,
        candidate=candidate,
        baseline=baseline,
        baseline_alias=row["baseline_alias"],
        report=read_changes(from_json(row["changes"]), candidate.report, baseline.report),
        thresholds=read_thresholds(from_json(row["thresholds"])),
        verdict=read_verdict(from_json(row["verdict"])),
        created_at=from_micros(row["created_at"]),
        created_by=Actor(row["created_by"]),
    )
