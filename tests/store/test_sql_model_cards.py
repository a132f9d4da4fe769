"""Contract of SqlModelCardRepository on every dialect: sections read back as written, per
version; an edit lands only on the revision it was based on; a missing version is refused."""

from __future__ import annotations

import pytest

from lockgate.domain.errors import ConflictError, NotFoundError
from lockgate.domain.governance.cards import NarrativeSection
from lockgate.domain.identity import Actor
from lockgate.domain.registry import RegisteredModel
from lockgate.store.sql import SqlMetadataStore
from lockgate.store.sql.unit_of_work import SqlUnitOfWork
from tests.store.sql_builders import ALICE, UowFactory, add_project, at, make_model, make_version

BOB = Actor("user:bob")


@pytest.fixture
def model(uow_factory: UowFactory) -> RegisteredModel:
    model = make_model(add_project(uow_factory))
    with uow_factory() as uow:
        uow.models.add_model(model)
        for _ in range(2):
            uow.models.add_version(make_version(model, uow.models.allocate_version(model.id)))
        uow.commit()
    return model


def _save(
    uow_factory: UowFactory, model: RegisteredModel, version: int, section: NarrativeSection
) -> None:
    with uow_factory() as uow:
        uow.model_cards.save_section(model.id, version, section)
        uow.commit()


def _sections(
    uow_factory: UowFactory, model: RegisteredModel, version: int
) -> dict[str, NarrativeSection]:
    with uow_factory() as uow:
        return uow.model_cards.sections(model.id, version)


def test_sections_read_back_per_version(uow_factory: UowFactory, model: RegisteredModel) -> None:
    assert _sections(uow_factory, model, 1) == {}
    first = NarrativeSection("limitations").edited(
        "Weak on new customers.\n\nÜnïcode ✓", at(1), ALICE
    )
    _save(uow_factory, model, 1, first)
    _save(uow_factory, model, 1, NarrativeSection("caveats").edited("c", at(2), BOB))
    assert _sections(uow_factory, model, 1) == {
        "limitations": first,
        "caveats": NarrativeSection("caveats", "c", 1, at(2), BOB),
    }
    assert _sections(uow_factory, model, 2) == {}


def test_an_edit_lands_only_on_the_revision_it_was_based_on(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    first = NarrativeSection("limitations").edited("one", at(1), ALICE)
    _save(uow_factory, model, 1, first)
    second = first.edited("two", at(2), BOB)
    _save(uow_factory, model, 1, second)
    with pytest.raises(ConflictError, match="edited by someone else") as stale:
        _save(uow_factory, model, 1, first.edited("stale", at(3), ALICE))
    assert stale.value.field == "row_version"
    with pytest.raises(ConflictError):
        _save(uow_factory, model, 1, NarrativeSection("limitations").edited("again", at(3), ALICE))
    assert _sections(uow_factory, model, 1) == {"limitations": second}


def test_a_section_of_a_missing_version_is_refused(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    with pytest.raises(NotFoundError, match="version 9"):
        _save(uow_factory, model, 9, NarrativeSection("limitations").edited("x", at(1), ALICE))
    assert _sections(uow_factory, model, 9) == {}


def test_two_transactions_racing_on_one_section_leave_one_winner(
    metadata_store: SqlMetadataStore, model: RegisteredModel, dialect: str
) -> None:
    """Two writers both based on the same revision, in two open transactions: the first to
    commit wins and the other is a conflict (the unique key decides a first edit, the
    row_version condition a later one). SQLite serializes writers, so there the second simply
    starts after the first committed; PostgreSQL lets both read before either writes."""
    engine = metadata_store.engine
    first = NarrativeSection("intended_use").edited("a", at(1), ALICE)
    for based_on, winner, loser in (
        (NarrativeSection("intended_use"), first, first),
        (first, first.edited("b", at(2), BOB), first.edited("c", at(2), ALICE)),
    ):
        if dialect == "sqlite":
            with SqlUnitOfWork(engine) as uow:
                uow.model_cards.save_section(model.id, 1, winner)
                uow.commit()
            with SqlUnitOfWork(engine) as uow, pytest.raises(ConflictError):
                uow.model_cards.save_section(model.id, 1, loser)
            continue
        with SqlUnitOfWork(engine) as slow:
            seen = slow.model_cards.sections(model.id, 1).get("intended_use")
            assert (seen or NarrativeSection("intended_use")).row_version == based_on.row_version
            with SqlUnitOfWork(engine) as fast:
                fast.model_cards.save_section(model.id, 1, winner)
                fast.commit()
            with pytest.raises(ConflictError):
                slow.model_cards.save_section(model.id, 1, loser)
    assert _sections(metadata_store.unit_of_work, model, 1)["intended_use"].text == "b"
