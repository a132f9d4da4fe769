"""Model card resource of the SDK: read a version's card, export it as JSON, Markdown or a
CycloneDX ML-BOM, and write its narrative sections."""

from __future__ import annotations

from lockgate.api.model_cards import CardSectionIn, CardSectionOut, ModelCardOut
from lockgate.domain.errors import InvalidInputError
from lockgate.domain.governance.cards import CardFormat
from lockgate.sdk.http import HttpSession, request_body, segment

__all__ = ["ModelCards"]


def _format(value: CardFormat | str) -> CardFormat:
    try:
        return CardFormat(value)
    except ValueError:
        allowed = ", ".join(f.value for f in CardFormat)
        raise InvalidInputError(
            f"{value!r} is not a card format: use one of {allowed}", field="format"
        ) from None


class ModelCards:
    """Model cards of model versions (`client.model_cards`): the facts recorded about a
    version, the narrative sections people wrote, and the completeness score gates read."""

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    def get(self, name: str, version: int) -> ModelCardOut:
        """The card of version `version` of model `name`, with its `completeness` (`score`,
        `missing`, every criterion) and every narrative section (`row_version` 0: never
        written).

        Raises:
            NotFoundError: The model or version does not exist.
        """
        path = f"/models/{segment(name)}/versions/{segment(version)}/card"
        return self._http.call("GET", path, ModelCardOut, params={"format": "json"})

    def export(self, name: str, version: int, card_format: CardFormat | str = "markdown") -> str:
        """The card as text: `json` (the `lockgate.model_card/1` document), `markdown`, or
        `cyclonedx` (a CycloneDX 1.6 ML-BOM whose model component holds the `modelCard`).

        Raises:
            InvalidInputError: An unknown format (`field` is `format`).
            NotFoundError: The model or version does not exist.
        """
        chosen = _format(card_format)
        path = f"/models/{segment(name)}/versions/{segment(version)}/card"
        return self._http.request("GET", path, params={"format": chosen.value}).text

    def set_section(
        self, name: str, version: int, section: str, text: str, *, row_version: int
    ) -> CardSectionOut:
        """Write one narrative section (`intended_use`, `intended_users`, `out_of_scope`,
        `training_data_notes`, `limitations`, `ethical_considerations` or `caveats`).

        Args:
            text: The new text; an empty text clears the section.
            row_version: The section's `row_version` this edit is based on (from `get`; 0
                for a section never written).

        Raises:
            InvalidInputError: Not an editable section (`field` is `section`) or a bad text.
            ConflictError: Someone edited the section since `row_version`; reload and retry.
        """
        body = request_body(CardSectionIn, text=text, row_version=row_version)
        path = (
            f"/models/{segment(name)}/versions/{segment(version)}/card/sections/{segment(section)}"
        )
        return self._http.call("PUT", path, CardSectionOut, body=body)
