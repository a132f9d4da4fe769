"""Routes for model cards: a version's card in each export format, and section edits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from lockgate.api import ERROR_RESPONSES
from lockgate.api.limits import NameText, VersionNumber
from lockgate.api.model_cards import CARD_MEDIA_TYPES, CardSectionIn, CardSectionOut, ModelCardOut
from lockgate.domain.access import Permission
from lockgate.domain.governance.cards import CardFormat
from lockgate.server.deps import CallerDep, PlatformDep
from lockgate.server.permissions import requires

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["model cards"], responses=ERROR_RESPONSES)

FormatQuery = Annotated[
    CardFormat,
    Query(
        alias="format",
        description="json (`ModelCardOut`), markdown, or cyclonedx (a CycloneDX 1.6 ML-BOM).",
    ),
]
SectionName = Annotated[str, Path(max_length=64, description="An editable section's name.")]


@router.get(
    "/models/{name}/versions/{version}/card",
    response_model=ModelCardOut,
    responses={
        200: {
            "content": {
                CARD_MEDIA_TYPES[CardFormat.MARKDOWN]: {},
                CARD_MEDIA_TYPES[CardFormat.CYCLONEDX]: {},
            },
            "description": "The card as JSON, Markdown or CycloneDX 1.6 JSON.",
        }
    },
    openapi_extra=requires(Permission.PROJECT_READ),
)
def get_card(
    name: NameText,
    version: VersionNumber,
    platform: PlatformDep,
    caller: CallerDep,
    card_format: FormatQuery = CardFormat.JSON,
) -> Response:
    """The version's model card: recorded facts, narrative sections and completeness."""
    text = platform.model_cards.export(caller, name, version, card_format)
    return Response(text, media_type=CARD_MEDIA_TYPES[card_format])


@router.put(
    "/models/{name}/versions/{version}/card/sections/{section}",
    openapi_extra=requires(Permission.MODEL_WRITE),
)
def set_card_section(
    name: NameText,
    version: VersionNumber,
    section: SectionName,
    body: CardSectionIn,
    platform: PlatformDep,
    caller: CallerDep,
) -> CardSectionOut:
    """Write one narrative section, based on the row_version the editor saw."""
    edited = platform.model_cards.set_section(
        caller, name, version, section, body.text, body.row_version
    )
    return CardSectionOut.from_domain(edited)
