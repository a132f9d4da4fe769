"""SqlModelCardRepository: the narrative sections of model cards, one row per model version
and section, each edit checked against the row_version it was based on."""

from __future__ import annotations

import sqlalchemy as sa

from lockgate.domain.errors import AlreadyExistsError, ConflictError
from lockgate.domain.governance.cards import NarrativeSection
from lockgate.domain.identity import Actor
from lockgate.domain.registry import ModelId
from lockgate.store.sql.codec import from_micros, to_micros, translate_integrity
from lockgate.store.sql.tables import model_card_sections

__all__ = ["SqlModelCardRepository"]

_sections = model_card_sections


class SqlModelCardRepository:
    """Sections in `model_card_sections`.

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def sections(self, model_id: ModelId, version: int) -> dict[str, NarrativeSection]:
        query = sa.select(_sections).where(
            _sections.c.model_id == model_id, _sections.c.version == version
        )
        return {
            row["section"]: NarrativeSection(
                row["section"],
                row["text"],
                row["row_version"],
                from_micros(row["updated_at"]),
                Actor(row["updated_by"]),
            )
            for row in self._connection.execute(query).mappings()
        }

    def save_section(self, model_id: ModelId, version: int, section: NarrativeSection) -> None:
        if section.updated_at is None or section.updated_by is None or section.row_version < 1:
            raise ValueError("a saved section has been edited: a time, an actor, row_version>0")
        values = {
            "text": section.text,
            "updated_at": to_micros(section.updated_at),
            "updated_by": section.updated_by,
            "row_version": section.row_version,
        }
        stale = ConflictError(
            f"the {section.name} section of version {version} was edited by someone else "
            f"since revision {section.row_version - 1}: reload the card and edit again",
            field="row_version",
        )
        if section.row_version == 1:
            row = {"model_id": model_id, "version": version, "section": section.name, **values}
            try:
                with translate_integrity(
                    self._connection,
                    duplicate="the section exists",
                    missing=f"model version {version} does not exist",
                ):
                    self._connection.execute(_sections.insert(), row)
            except AlreadyExistsError:
                raise stale from None
            return
        updated = self._connection.execute(
            _sections.update()
            .where(
                _sections.c.model_id == model_id,
                _sections.c.version == version,
                _sections.c.section == section.name,
                _sections.c.row_version == section.row_version - 1,
            )
            .values(**values)
        )
        if updated.rowcount != 1:
            raise stale
