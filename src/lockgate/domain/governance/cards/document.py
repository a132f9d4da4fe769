"""A model card as a JSON document (`lockgate.model_card/1`): the form the API returns, the
CLI exports and an evidence bundle keeps. Every member is always present (null or empty when
nothing was recorded), so a reader never guesses."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

from lockgate.domain.audit import JsonValue
from lockgate.domain.evaluation import Comparison, Estimate, Evaluation, FairnessReport
from lockgate.domain.governance.cards.model import (
    COMPLETENESS_CRITERIA,
    NARRATIVE_SECTIONS,
    SECTION_TITLES,
    ModelCard,
    NarrativeSection,
)
from lockgate.domain.registry import ColumnSpec, ModelVersion
from lockgate.domain.tracking import DatasetInput, RunDetail

__all__ = [
    "CARD_DOCUMENT_FORMAT",
    "card_document",
    "estimate_document",
    "format_time",
    "section_document",
]

CARD_DOCUMENT_FORMAT = "lockgate.model_card/1"

Document = dict[str, JsonValue]


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, as the API writes times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def card_document(card: ModelCard) -> Document:
    """The whole card as a JSON-compatible document."""
    model, completeness = card.model, card.completeness()
    return {
        "format": CARD_DOCUMENT_FORMAT,
        "generated_at": format_time(card.generated_at),
        "model": {
            "name": model.name,
            "project": model.project_name,
            "owner": model.owner,
            "description": model.description,
            "metadata": dict(sorted(model.metadata.items())),
        },
        "version": _version_document(card.version),
        "tier": None if card.tier is None else card.tier.value,
        "package": None
        if card.package is None
        else {
            "manifest_sha256": card.package.manifest_sha256,
            "flavor": card.package.flavor,
            "key_id": card.package.key_id,
        },
        "training": None if card.run is None else _training_document(card.run),
        "training_data": [] if card.run is None else [_dataset(d) for d in card.run.inputs],
        "evaluations": [_evaluation_document(e) for e in card.evaluations],
        "comparison": None if card.comparison is None else _comparison(card.comparison),
        "approvals": [
            {
                "reviewer": a.reviewer,
                "environment": a.environment,
                "approved_at": format_time(a.approved_at),
            }
            for a in card.approvals
        ],
        "sections": {name: section_document(card.section(name)) for name in NARRATIVE_SECTIONS},
        "completeness": {
            "score": completeness.score,
            "missing": list(completeness.missing),
            "criteria": [
                {
                    "name": c.name,
                    "kind": c.kind.value,
                    "weight": c.weight,
                    "met": card.criterion_met(c),
                    "needs": c.needs,
                }
                for c in COMPLETENESS_CRITERIA
            ],
        },
    }


def _columns(columns: tuple[ColumnSpec, ...]) -> list[JsonValue]:
    return [{"name": c.name, "type": c.type, "shape": list(c.shape)} for c in columns]


def _version_document(version: ModelVersion) -> Document:
    signature = version.signature
    return {
        "number": version.version,
        "description": version.description,
        "metadata": dict(sorted(version.metadata.items())),
        "author": version.created_by,
        "created_at": format_time(version.created_at),
        "run_id": version.run_id,
        "aliases": sorted(version.aliases),
        "signature": None
        if signature is None
        else {"inputs": _columns(signature.inputs), "outputs": _columns(signature.outputs)},
    }


def _json_float(value: float) -> float | str:
    """Non-finite values as the strings "NaN", "Infinity" and "-Infinity", as the API
    writes them (the proto3 JSON mapping)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _training_document(run: RunDetail) -> Document:
    environment = run.run.environment
    return {
        "run_id": run.run.id,
        "run_name": run.run.name,
        "status": run.run.status.value,
        "params": dict(sorted(run.params.items())),
        "metrics": {key: _json_float(run.metrics[key].value) for key in sorted(run.metrics)},
        "git_sha": environment.git_sha,
        "python_version": environment.python_version,
    }


def _dataset(dataset: DatasetInput) -> Document:
    return {
        "name": dataset.name,
        "fingerprint": dataset.fingerprint,
        "row_count": dataset.row_count,
        "source": dataset.source,
    }


def estimate_document(estimate: Estimate) -> Document:
    """An estimate as `{"value", "lower", "upper"}`."""
    return {"value": estimate.value, "lower": estimate.lower, "upper": estimate.upper}


def _metrics(metrics: Mapping[str, Estimate]) -> Document:
    return {name: estimate_document(estimate) for name, estimate in metrics.items()}


def _fairness(fairness: FairnessReport) -> Document:
    return {
        "attribute": fairness.attribute,
        "measures": _metrics(fairness.measures),
        "groups": [
            {
                "group": g.group,
                "rows": g.rows,
                "selection_rate": g.selection_rate,
                "true_positive_rate": g.true_positive_rate,
                "false_positive_rate": g.false_positive_rate,
            }
            for g in fairness.groups
        ],
    }


def _evaluation_document(evaluation: Evaluation) -> Document:
    report, config = evaluation.report, evaluation.config
    worst = report.worst_segment()
    primary = report.primary_metric
    worst_estimate = None if worst is None else worst.metrics.get(primary)
    return {
        "id": evaluation.id,
        "dataset": _dataset(evaluation.dataset),
        "task": report.task.value,
        "target": config.target,
        "rows": report.rows,
        "resamples": config.resamples,
        "confidence": config.confidence if config.resamples > 0 else None,
        "package_digest": evaluation.package_digest,
        "engine": evaluation.engine,
        "created_at": format_time(evaluation.created_at),
        "created_by": evaluation.created_by,
        "primary_metric": primary,
        "metrics": _metrics(report.metrics),
        "calibration_error": None
        if report.calibration is None
        else estimate_document(report.calibration.expected_calibration_error),
        "worst_segment": None
        if worst is None or worst_estimate is None
        else {
            "segment": worst.segment,
            "value": worst.value,
            "rows": worst.rows,
            "metric": primary,
            "estimate": estimate_document(worst_estimate),
        },
        "fairness": [_fairness(f) for f in report.fairness],
    }


def _comparison(comparison: Comparison) -> Document:
    return {
        "id": comparison.id,
        "baseline_version": comparison.baseline.version,
        "baseline_alias": comparison.baseline_alias,
        "dataset": comparison.candidate.dataset.name,
        "passed": comparison.verdict.passed,
        "reasons": list(comparison.verdict.reasons),
        "created_at": format_time(comparison.created_at),
    }


def section_document(section: NarrativeSection) -> Document:
    """One narrative section: its name, title, text and who last edited it when."""
    return {
        "name": section.name,
        "title": SECTION_TITLES[section.name],
        "text": section.text,
        "row_version": section.row_version,
        "updated_at": _time(section.updated_at),
        "updated_by": section.updated_by,
    }
