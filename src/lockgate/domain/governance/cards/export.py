"""A card rendered in one of its export formats, as text."""

from __future__ import annotations

import json

from lockgate.domain.governance.cards.cyclonedx import cyclonedx_document
from lockgate.domain.governance.cards.document import card_document
from lockgate.domain.governance.cards.markdown import render_markdown
from lockgate.domain.governance.cards.model import CardFormat, ModelCard

__all__ = ["render_card"]


def render_card(card: ModelCard, card_format: CardFormat, *, tool_version: str) -> str:
    """The card as JSON (`lockgate.model_card/1`), Markdown or a CycloneDX 1.6 ML-BOM
    (`tool_version` names the Lockgate that made it), ending with a newline."""
    if card_format is CardFormat.MARKDOWN:
        return render_markdown(card)
    if card_format is CardFormat.CYCLONEDX:
        document = cyclonedx_document(card, tool_version=tool_version)
    else:
        document = card_document(card)
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
