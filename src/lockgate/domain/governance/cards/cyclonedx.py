"""A model card as a CycloneDX 1.6 ML-BOM: one `machine-learning-model` component whose
`modelCard` carries the model parameters (task, datasets, inputs and outputs), the performance
metrics with their confidence intervals, and the considerations (users, use cases, technical
limitations, ethical considerations, fairness assessments)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping

from lockgate.domain.audit import JsonValue
from lockgate.domain.evaluation import Estimate, Evaluation, FairnessReport
from lockgate.domain.governance.cards.document import card_document, format_time
from lockgate.domain.governance.cards.model import ModelCard
from lockgate.domain.tracking import DatasetInput

__all__ = ["cyclonedx_document"]

Document = dict[str, JsonValue]


def _serial(card: ModelCard) -> str:
    """A UUID (version 5 layout) from the card's content: the same card, the same serial."""
    text = json.dumps(card_document(card), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}"


def _property(name: str, value: str) -> Document:
    return {"name": name, "value": value}


def cyclonedx_document(card: ModelCard, *, tool_version: str) -> Document:
    """The card as a CycloneDX 1.6 BOM (JSON) holding the model component and its card."""
    model, version = card.model, card.version
    model_ref = f"model:{model.name}@{version.version}"
    completeness = card.completeness()
    properties = [
        _property("lockgate:project", model.project_name),
        _property("lockgate:owner", model.owner),
        _property("lockgate:tier", "not recorded" if card.tier is None else card.tier.value),
    ]
    if version.run_id is not None:
        properties.append(_property("lockgate:run_id", version.run_id))
    if card.package is not None:
        properties.append(_property("lockgate:manifest_sha256", card.package.manifest_sha256))
        properties.append(_property("lockgate:flavor", card.package.flavor))
    component: Document = {
        "type": "machine-learning-model",
        "bom-ref": model_ref,
        "name": model.name,
        "version": str(version.version),
        "description": model.description,
        "authors": [{"name": version.created_by}],
        "properties": properties,
        "modelCard": {
            "bom-ref": f"model-card:{model.name}@{version.version}",
            "modelParameters": _parameters(card),
            "quantitativeAnalysis": {"performanceMetrics": list(_performance(card))},
            "considerations": _considerations(card),
            "properties": [
                _property("lockgate:card:completeness", f"{completeness.score:g}"),
                _property("lockgate:card:missing", ",".join(completeness.missing)),
                *_narrative_properties(card),
                *(
                    _property(
                        "lockgate:approval",
                        f"{a.reviewer} {a.environment} {format_time(a.approved_at)}",
                    )
                    for a in card.approvals
                ),
            ],
        },
    }
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{_serial(card)}",
        "version": 1,
        "metadata": {
            "timestamp": format_time(card.generated_at),
            "tools": {
                "components": [{"type": "application", "name": "lockgate", "version": tool_version}]
            },
        },
        "components": [component],
    }


def _dataset(dataset: DatasetInput, role: str) -> Document:
    properties = [
        _property("lockgate:role", role),
        _property("lockgate:fingerprint", dataset.fingerprint),
    ]
    if dataset.row_count is not None:
        properties.append(_property("lockgate:rows", str(dataset.row_count)))
    if dataset.source:
        properties.append(_property("lockgate:source", dataset.source))
    return {
        "type": "dataset",
        "bom-ref": f"dataset:{role}:{dataset.name}@{dataset.fingerprint}",
        "name": dataset.name,
        "contents": {"properties": properties},
    }


def _parameters(card: ModelCard) -> Document:
    datasets: dict[str, Document] = {}
    inputs = () if card.run is None else card.run.inputs
    roles = [(d, "training") for d in inputs]
    roles += [(e.dataset, "evaluation") for e in card.evaluations]
    for dataset, role in roles:
        entry = _dataset(dataset, role)
        datasets.setdefault(str(entry["bom-ref"]), entry)
    parameters: Document = {}
    if card.evaluations:
        # Every task Lockgate evaluates (classification, regression, ranking) learns from labels.
        parameters["approach"] = {"type": "supervised"}
        parameters["task"] = card.evaluations[0].report.task.value
    parameters["datasets"] = list(datasets.values())
    signature = card.version.signature
    if signature is not None:
        parameters["inputs"] = [{"format": f"{c.name} ({c.type})"} for c in signature.inputs]
        parameters["outputs"] = [{"format": f"{c.name} ({c.type})"} for c in signature.outputs]
    return parameters


def _metric(kind: str, estimate: Estimate, slice_name: str) -> Document:
    metric: Document = {"type": kind, "value": repr(estimate.value), "slice": slice_name}
    if estimate.lower is not None and estimate.upper is not None:
        metric["confidenceInterval"] = {
            "lowerBound": repr(estimate.lower),
            "upperBound": repr(estimate.upper),
        }
    return metric


def _metrics(metrics: Mapping[str, Estimate], slice_name: str) -> Iterator[Document]:
    for name, estimate in metrics.items():
        yield _metric(name, estimate, slice_name)


def _performance(card: ModelCard) -> Iterator[Document]:
    for evaluation in card.evaluations:
        report = evaluation.report
        where = f"dataset {evaluation.dataset.name}@{evaluation.dataset.fingerprint[:16]}"
        yield from _metrics(report.metrics, where)
        if report.calibration is not None:
            ece = report.calibration.expected_calibration_error
            yield _metric("expected_calibration_error", ece, where)
        worst = report.worst_segment()
        primary = report.primary_metric
        if worst is not None and primary in worst.metrics:
            segment = f"{where}; worst segment {worst.segment}={worst.value}"
            yield _metric(primary, worst.metrics[primary], segment)
        for fairness in report.fairness:
            attribute = f"{where}; sensitive attribute {fairness.attribute}"
            yield from _metrics(fairness.measures, attribute)
            for group in fairness.groups:
                yield _metric(
                    "selection_rate",
                    Estimate(group.selection_rate),
                    f"{attribute}={group.group}",
                )


def _fairness_assessment(evaluation: Evaluation, fairness: FairnessReport) -> Document:
    groups = ", ".join(g.group for g in fairness.groups)
    measured = "; ".join(
        f"{name} {estimate.value!r}"
        + (
            f" [{estimate.lower!r}, {estimate.upper!r}]"
            if estimate.lower is not None and estimate.upper is not None
            else ""
        )
        for name, estimate in fairness.measures.items()
    )
    harms = f"Disparity measured on {evaluation.dataset.name}: {measured or 'no measure defined'}"
    return {
        "groupAtRisk": f"{fairness.attribute} (groups: {groups})",
        "harms": harms,
    }


def _considerations(card: ModelCard) -> Document:
    considerations: Document = {}

    def written(name: str) -> str | None:
        section = card.section(name)
        return section.text.strip() if section.is_written else None

    users, use, scope = written("intended_users"), written("intended_use"), written("out_of_scope")
    limitations, ethics = written("limitations"), written("ethical_considerations")
    if users:
        considerations["users"] = [users]
    if use:
        considerations["useCases"] = [use]
    technical = [text for text in (limitations, scope and f"Out of scope: {scope}") if text]
    if technical:
        considerations["technicalLimitations"] = technical
    if ethics:
        considerations["ethicalConsiderations"] = [{"name": ethics}]
    assessments = [_fairness_assessment(e, f) for e in card.evaluations for f in e.report.fairness]
    if assessments:
        considerations["fairnessAssessments"] = assessments
    return considerations


def _narrative_properties(card: ModelCard) -> Iterator[Document]:
    for name in ("training_data_notes", "caveats"):
        section = card.section(name)
        if section.is_written:
            yield _property(f"lockgate:card:{name}", section.text.strip())
