"""Model cards: generated facts and narrative sections of a model version, the completeness
score gates read, and the card as JSON, Markdown and a CycloneDX 1.6 ML-BOM."""

from __future__ import annotations

from lockgate.domain.governance.cards.cyclonedx import cyclonedx_document
from lockgate.domain.governance.cards.document import (
    CARD_DOCUMENT_FORMAT,
    card_document,
    format_time,
    section_document,
)
from lockgate.domain.governance.cards.export import render_card
from lockgate.domain.governance.cards.markdown import (
    escape_markdown,
    markdown_block,
    render_markdown,
)
from lockgate.domain.governance.cards.model import (
    COMPLETENESS_CRITERIA,
    MAX_CARD_EVALUATIONS,
    MAX_SECTION_LENGTH,
    NARRATIVE_SECTIONS,
    SECTION_TITLES,
    CardApproval,
    CardFormat,
    CardPackage,
    Completeness,
    Criterion,
    CriterionKind,
    ModelCard,
    NarrativeSection,
    check_section_name,
    check_section_text,
)

__all__ = [
    "CARD_DOCUMENT_FORMAT",
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
    "card_document",
    "check_section_name",
    "check_section_text",
    "cyclonedx_document",
    "escape_markdown",
    "format_time",
    "markdown_block",
    "render_card",
    "render_markdown",
    "section_document",
]
