"""A model card: the facts recorded about one model version (generated) and what people wrote
about it (narrative sections), and how complete it is.

Completeness is a weighted share of fixed criteria. A narrative criterion counts when its
section holds text (not only whitespace); a generated criterion counts only when the facts
behind it were recorded, so no amount of writing makes up for a missing evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.evaluation import Comparison, Evaluation
from lockgate.domain.governance.tiers import RiskTier
from lockgate.domain.identity import Actor
from lockgate.domain.names import check_text
from lockgate.domain.registry import ModelVersion, RegisteredModel
from lockgate.domain.tracking import RunDetail

__all__ = [
    "COMPLETENESS_CRITERIA",
    "MAX_CARD_EVALUATIONS",
    "MAX_SECTION_LENGTH",
    "NARRATIVE_SECTIONS",
    "SECTION_TITLES",
    "CardApproval",
    "CardFormat",
    "CardPackage",
    "Completeness",
    "Criterion",
    "CriterionKind",
    "ModelCard",
    "NarrativeSection",
    "check_section_name",
    "check_section_text",
]

NARRATIVE_SECTIONS: tuple[str, ...] = (
    "intended_use",
    "intended_users",
    "out_of_scope",
    "training_data_notes",
    "limitations",
    "ethical_considerations",
    "caveats",
)
"""The editable sections of every card, in the order a card shows them."""

SECTION_TITLES: Mapping[str, str] = {
    "intended_use": "Intended use",
    "intended_users": "Intended users",
    "out_of_scope": "Out-of-scope uses",
    "training_data_notes": "Notes on the training data",
    "limitations": "Limitations",
    "ethical_considerations": "Ethical considerations",
    "caveats": "Caveats and recommendations",
}

MAX_SECTION_LENGTH = 20_000
MAX_CARD_EVALUATIONS = 10
"""A card describes the version's newest evaluations, at most this many."""


class CardFormat(StrEnum):
    """The forms a card is exported in."""

    JSON = "json"
    MARKDOWN = "markdown"
    CYCLONEDX = "cyclonedx"


class CriterionKind(StrEnum):
    """Whether a criterion is met by writing a section or by recording facts."""

    NARRATIVE = "narrative"
    GENERATED = "generated"


@dataclass(frozen=True, slots=True)
class Criterion:
    """One thing a complete card has, its weight in the score, and what meets it."""

    name: str
    kind: CriterionKind
    weight: int
    needs: str


COMPLETENESS_CRITERIA: tuple[Criterion, ...] = (
    Criterion("intended_use", CriterionKind.NARRATIVE, 2, "the intended_use section is written"),
    Criterion("out_of_scope", CriterionKind.NARRATIVE, 1, "the out_of_scope section is written"),
    Criterion("limitations", CriterionKind.NARRATIVE, 1, "the limitations section is written"),
    Criterion(
        "ethical_considerations",
        CriterionKind.NARRATIVE,
        1,
        "the ethical_considerations section is written",
    ),
    Criterion(
        "training_run",
        CriterionKind.GENERATED,
        1,
        "the version comes from a run that logged at least one param or metric",
    ),
    Criterion(
        "training_data",
        CriterionKind.GENERATED,
        1,
        "that run recorded at least one input dataset version",
    ),
    Criterion(
        "evaluation",
        CriterionKind.GENERATED,
        2,
        "at least one evaluation of the version is recorded",
    ),
    Criterion(
        "fairness",
        CriterionKind.GENERATED,
        1,
        "one of the version's newest evaluations holds fairness results",
    ),
)
"""What the completeness score counts (weights add up to 10). `intended_users`,
`training_data_notes` and `caveats` are shown and exported but not counted."""


def check_section_name(name: str) -> str:
    """An editable section's name; InvalidInputError (field `section`) names the allowed ones
    and says when the name is a generated part of the card."""
    if name in NARRATIVE_SECTIONS:
        return name
    allowed = ", ".join(NARRATIVE_SECTIONS)
    if any(c.name == name for c in COMPLETENESS_CRITERIA):
        message = f"{name!r} is generated from recorded facts and cannot be edited"
    else:
        message = f"{name[:64]!r} is not a model card section"
    raise InvalidInputError(f"{message}; editable sections: {allowed}", field="section")


def check_section_text(text: str) -> str:
    """A section's text: at most MAX_SECTION_LENGTH characters, no control characters but tab
    and newline."""
    return check_text(text, field="text", max_length=MAX_SECTION_LENGTH)


@dataclass(frozen=True, slots=True)
class NarrativeSection:
    """What people wrote in one section of one version's card. `row_version` counts the edits
    (0: never written); an edit names the row_version it was based on."""

    name: str
    text: str = ""
    row_version: int = 0
    updated_at: datetime | None = None
    updated_by: Actor | None = None

    @property
    def is_written(self) -> bool:
        return bool(self.text.strip())

    def edited(self, text: str, at: datetime, by: Actor) -> NarrativeSection:
        """The section after one more edit."""
        return NarrativeSection(self.name, text, self.row_version + 1, at, by)


@dataclass(frozen=True, slots=True)
class CardPackage:
    """The signed package of the version: its manifest digest, flavor and signing key."""

    manifest_sha256: str
    flavor: str
    key_id: str


@dataclass(frozen=True, slots=True)
class CardApproval:
    """A reviewer's approval of the version for an environment."""

    reviewer: Actor
    environment: str
    approved_at: datetime


@dataclass(frozen=True, slots=True)
class Completeness:
    """The score (0 to 1, the met criteria's weights over all weights) and the names of the
    criteria not met, in the order of COMPLETENESS_CRITERIA."""

    score: float
    missing: tuple[str, ...]

    @property
    def is_complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True, slots=True)
class ModelCard:
    """Everything a card says about one model version, as of `generated_at`.

    `run` is the run the version was made from (None when it has none); `evaluations` are its
    newest evaluations (newest first, at most MAX_CARD_EVALUATIONS); `comparison` is the newest
    comparison with the version as candidate; `tier` is None when no tier was recorded.
    `sections` holds every narrative section, written or not.
    """

    model: RegisteredModel
    version: ModelVersion
    generated_at: datetime
    run: RunDetail | None = None
    package: CardPackage | None = None
    evaluations: tuple[Evaluation, ...] = ()
    comparison: Comparison | None = None
    tier: RiskTier | None = None
    approvals: tuple[CardApproval, ...] = ()
    sections: Mapping[str, NarrativeSection] = field(default_factory=dict)

    def section(self, name: str) -> NarrativeSection:
        """A narrative section, blank when never written."""
        return self.sections.get(name) or NarrativeSection(name)

    def criterion_met(self, criterion: Criterion) -> bool:
        """Whether the card meets one completeness criterion."""
        if criterion.kind is CriterionKind.NARRATIVE:
            return self.section(criterion.name).is_written
        run = self.run
        facts = {
            "training_run": run is not None and bool(run.params or run.metrics),
            "training_data": run is not None and bool(run.inputs),
            "evaluation": bool(self.evaluations),
            "fairness": any(e.report.fairness for e in self.evaluations),
        }
        return facts[criterion.name]

    def completeness(self) -> Completeness:
        """The completeness score and the criteria still missing."""
        total = sum(c.weight for c in COMPLETENESS_CRITERIA)
        met = [c for c in COMPLETENESS_CRITERIA if self.criterion_met(c)]
        missing = tuple(c.name for c in COMPLETENESS_CRITERIA if c not in met)
        return Completeness(round(sum(c.weight for c in met) / total, 4), missing)
