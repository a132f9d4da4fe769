"""Wire schemas for model cards. `ModelCardOut` mirrors the `lockgate.model_card/1` document
(`lockgate.domain.governance.cards.card_document`) member for member, so the JSON export and
the API answer are one and the same document."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from lockgate.api.common import ApiModel, JsonFloat, UtcDatetime
from lockgate.api.evaluation import EstimateIO
from lockgate.api.limits import MAX_INT32
from lockgate.domain.governance.cards import (
    MAX_SECTION_LENGTH,
    CardFormat,
    ModelCard,
    NarrativeSection,
    card_document,
    section_document,
)

__all__ = [
    "CARD_MEDIA_TYPES",
    "CardApprovalOut",
    "CardColumnOut",
    "CardComparisonOut",
    "CardCompletenessOut",
    "CardCriterionOut",
    "CardDatasetOut",
    "CardEvaluationOut",
    "CardFairnessOut",
    "CardGroupOut",
    "CardModelOut",
    "CardPackageOut",
    "CardSectionIn",
    "CardSectionOut",
    "CardSignatureOut",
    "CardTrainingOut",
    "CardVersionOut",
    "CardWorstSegmentOut",
    "ModelCardOut",
]

CARD_MEDIA_TYPES: dict[CardFormat, str] = {
    CardFormat.JSON: "application/json",
    CardFormat.MARKDOWN: "text/markdown; charset=utf-8",
    CardFormat.CYCLONEDX: "application/vnd.cyclonedx+json",
}
"""The media type of each export format."""


class CardModelOut(ApiModel):
    name: str
    project: str
    owner: str
    description: str
    metadata: dict[str, str]


class CardColumnOut(ApiModel):
    name: str
    type: str
    shape: list[int]


class CardSignatureOut(ApiModel):
    inputs: list[CardColumnOut]
    outputs: list[CardColumnOut]


class CardVersionOut(ApiModel):
    """The version: its number, description, metadata, author and where it came from."""

    number: int
    description: str
    metadata: dict[str, str]
    author: str
    created_at: UtcDatetime
    run_id: str | None
    aliases: list[str]
    signature: CardSignatureOut | None


class CardPackageOut(ApiModel):
    """The version's signed package."""

    manifest_sha256: str
    flavor: str
    key_id: str


class CardTrainingOut(ApiModel):
    """The run the version was made from: params and each metric's latest value."""

    run_id: str
    run_name: str
    status: str
    params: dict[str, str]
    metrics: dict[str, JsonFloat]
    git_sha: str | None
    python_version: str | None


class CardDatasetOut(ApiModel):
    """A dataset version by name and content fingerprint."""

    name: str
    fingerprint: str
    row_count: int | None
    source: str | None


class CardGroupOut(ApiModel):
    group: str
    rows: int
    selection_rate: float
    true_positive_rate: float | None
    false_positive_rate: float | None


class CardFairnessOut(ApiModel):
    """Disparity measures (with intervals) across the groups of one sensitive attribute."""

    attribute: str
    measures: dict[str, EstimateIO]
    groups: list[CardGroupOut]


class CardWorstSegmentOut(ApiModel):
    segment: str
    value: str
    rows: int
    metric: str
    estimate: EstimateIO


class CardEvaluationOut(ApiModel):
    """One evaluation of the version: metrics with intervals (`confidence` is None when it
    was computed without resampling), the worst segment, calibration and fairness."""

    id: str
    dataset: CardDatasetOut
    task: str
    target: str
    rows: int
    resamples: int
    confidence: float | None
    package_digest: str
    engine: str
    created_at: UtcDatetime
    created_by: str
    primary_metric: str
    metrics: dict[str, EstimateIO]
    calibration_error: EstimateIO | None
    worst_segment: CardWorstSegmentOut | None
    fairness: list[CardFairnessOut]


class CardComparisonOut(ApiModel):
    """The newest comparison with the version as candidate, and its verdict."""

    id: str
    baseline_version: int
    baseline_alias: str | None
    dataset: str
    passed: bool
    reasons: list[str]
    created_at: UtcDatetime


class CardApprovalOut(ApiModel):
    reviewer: str
    environment: str
    approved_at: UtcDatetime


class CardSectionOut(ApiModel):
    """A narrative section; `row_version` 0 means never written (text empty)."""

    name: str
    title: str
    text: str
    row_version: int
    updated_at: UtcDatetime | None
    updated_by: str | None

    @classmethod
    def from_domain(cls, section: NarrativeSection) -> CardSectionOut:
        return cls.model_validate(section_document(section))


class CardCriterionOut(ApiModel):
    """One completeness criterion: its kind (narrative or generated), weight, whether it is
    met, and what meets it."""

    name: str
    kind: str
    weight: int
    met: bool
    needs: str


class CardCompletenessOut(ApiModel):
    score: float
    missing: list[str]
    criteria: list[CardCriterionOut]


class ModelCardOut(ApiModel):
    """A version's model card (`format` is `lockgate.model_card/1`)."""

    format: str
    generated_at: UtcDatetime
    model: CardModelOut
    version: CardVersionOut
    tier: str | None
    package: CardPackageOut | None
    training: CardTrainingOut | None
    training_data: list[CardDatasetOut]
    evaluations: list[CardEvaluationOut]
    comparison: CardComparisonOut | None
    approvals: list[CardApprovalOut]
    sections: dict[str, CardSectionOut]
    completeness: CardCompletenessOut

    @classmethod
    def from_domain(cls, card: ModelCard) -> ModelCardOut:
        return cls.model_validate(card_document(card))


class CardSectionIn(ApiModel):
    """The new text of a section and the `row_version` the edit is based on (0 for a
    section never written); an empty text clears the section."""

    text: Annotated[str, Field(max_length=MAX_SECTION_LENGTH)]
    row_version: Annotated[int, Field(ge=0, le=MAX_INT32)]
