"""Contract of the archive methods of SqlModelRepository and of SqlDecommissionRepository on
every dialect: archives are written once and hide models and versions from listings, pending
model retirements come and go, the holders of every blob of an expired archived version are
found (in chunks), and purges are kept and paged newest first."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from lockgate.domain.artifacts import RunArtifact
from lockgate.domain.errors import ConflictError, NotFoundError
from lockgate.domain.governance.retention import ArtifactPurge, PurgeId, RunHold, VersionHold
from lockgate.domain.governance.retirement import PendingModelRetirement
from lockgate.domain.pagination import encode_cursor
from lockgate.domain.registry import Archive, ModelId, RegisteredModel, VersionFile
from lockgate.domain.tracking import Project, Run
from tests.store.sql_builders import (
    ALICE,
    UowFactory,
    add_project,
    add_run,
    at,
    make_model,
    make_version,
    new_id,
)

DAY = timedelta(days=1)


def _archive(archived: float, days: int = 30) -> Archive:
    return Archive(at(archived), ALICE, "retired", at(archived) + days * DAY)


@pytest.fixture
def project(uow_factory: UowFactory) -> Project:
    return add_project(uow_factory)


@pytest.fixture
def run(uow_factory: UowFactory, project: Project) -> Run:
    return add_run(uow_factory, project)


@pytest.fixture
def model(uow_factory: UowFactory, project: Project, run: Run) -> RegisteredModel:
    """Versions 1 and 2 of `churn-model`, both from `run`."""
    model = make_model(project)
    with uow_factory() as uow:
        uow.models.add_model(model)
        for number in (1, 2):
            uow.models.allocate_version(model.id)
            uow.models.add_version(make_version(model, number, run))
        uow.commit()
    return model


def test_an_archived_version_is_read_but_not_listed_or_latest(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    archive = _archive(10)
    with uow_factory() as uow:
        uow.models.archive_version(model.id, 2, archive)
        uow.commit()

    with uow_factory() as uow:
        assert uow.models.get_version(model.name, 2).archive == archive
        assert uow.models.get_version(model.name, 1).archive is None
        assert uow.models.latest_version(model.name).version == 1
        assert [v.version for v in uow.models.list_versions(model.name, 10, None).items] == [1]
        every = uow.models.list_versions(model.name, 10, None, include_archived=True)
        assert [v.version for v in every.items] == [2, 1]
        uow.models.archive_version(model.id, 1, _archive(11))
        with pytest.raises(NotFoundError, match="no versions yet"):
            uow.models.latest_version(model.name)


def test_an_archive_is_written_once(uow_factory: UowFactory, model: RegisteredModel) -> None:
    with uow_factory() as uow:
        uow.models.archive_version(model.id, 1, _archive(10))
        uow.models.archive_model(model.id, _archive(10))
        with pytest.raises(ConflictError, match="archived already"):
            uow.models.archive_version(model.id, 1, _archive(20))
        with pytest.raises(ConflictError, match="archived already"):
            uow.models.archive_model(model.id, _archive(20))
        with pytest.raises(NotFoundError, match="has no version 9"):
            uow.models.archive_version(model.id, 9, _archive(20))
        with pytest.raises(NotFoundError, match="does not exist"):
            uow.models.archive_model(ModelId(new_id()), _archive(20))
        uow.commit()
    with uow_factory() as uow:
        assert uow.models.get_version(model.name, 1).archive == _archive(10)


def test_an_archived_model_is_read_but_listed_only_when_asked(
    uow_factory: UowFactory, project: Project, model: RegisteredModel
) -> None:
    other = make_model(project, "other-model")
    with uow_factory() as uow:
        uow.models.add_model(other)
        uow.models.archive_model(model.id, _archive(5))
        uow.commit()

    with uow_factory() as uow:
        assert uow.models.get_model(model.name).archive == _archive(5)
        assert uow.models.get_model(model.name).archived_at == at(5)
        assert uow.models.get_model(other.name).archive is None
        live = uow.models.list_models(project.id, 10, None)
        assert [m.name for m in live.items] == ["other-model"]
        every = uow.models.list_models(project.id, 10, None, include_archived=True)
        assert [m.name for m in every.items] == ["churn-model", "other-model"]


def test_pending_model_retirements_come_and_go(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    pending = PendingModelRetirement(model.id, at(3), ALICE, "sunset")
    with uow_factory() as uow:
        assert uow.decommission.model_retirement(model.id) is None
        uow.decommission.add_model_retirement(pending)
        uow.decommission.lock_model(model.id)
        uow.commit()
    with uow_factory() as uow:
        assert uow.decommission.model_retirement(model.id) == pending
        uow.decommission.remove_model_retirement(model.id)
        uow.commit()
    with uow_factory() as uow:
        assert uow.decommission.model_retirement(model.id) is None


def _file(digest_char: str, size: int = 10) -> VersionFile:
    return VersionFile(f"{digest_char}.bin", digest_char * 64, size)


def test_the_holders_of_every_blob_of_an_expired_archive_are_found(
    uow_factory: UowFactory, project: Project, run: Run
) -> None:
    """Version 1 of `a` (expired) holds blobs a and s; version 1 of `b` (live) holds s;
    version 2 of `a` (archived, not expired) holds r. Run files point at a and s."""
    other_run = add_run(uow_factory, project)
    model_a, model_b = make_model(project, "a"), make_model(project, "b")
    with uow_factory() as uow:
        for model in (model_a, model_b):
            uow.models.add_model(model)
        uow.models.add_version(
            dataclasses.replace(make_version(model_a, 1, run), files=(_file("a"), _file("c")))
        )
        uow.models.add_version(
            dataclasses.replace(make_version(model_a, 2, run), files=(_file("d"),))
        )
        uow.models.add_version(
            dataclasses.replace(make_version(model_b, 1, other_run), files=(_file("c"),))
        )
        uow.models.archive_version(model_a.id, 1, _archive(0, days=10))
        uow.models.archive_version(model_a.id, 2, _archive(0, days=100))
        uow.artifacts.add_run_artifact(RunArtifact(run.id, "model/a.bin", "a" * 64, 10, at(1)))
        uow.artifacts.add_run_artifact(RunArtifact(run.id, "model/c.bin", "c" * 64, 10, at(1)))
        uow.commit()

    with uow_factory() as uow:
        assert uow.decommission.expired_blob_holds(at(0) + 9 * DAY) == []
        holds = {h.digest: h for h in uow.decommission.expired_blob_holds(at(0) + 10 * DAY)}

    assert set(holds) == {"a" * 64, "c" * 64}  # d's version is still retained
    until = at(0) + 10 * DAY
    sources = (until, at(0) + 100 * DAY)  # the run fed versions a/1 and a/2
    assert holds["a" * 64].versions == (VersionHold("a", 1, at(1), until),)
    assert holds["a" * 64].runs == (RunHold(run.id, "model/a.bin", at(1), sources),)
    assert holds["a" * 64].size == 10
    assert holds["c" * 64].versions == (
        VersionHold("a", 1, at(1), until),
        VersionHold("b", 1, at(1), None),
    )
    assert holds["c" * 64].last_purged_at is None


def test_holds_are_read_in_chunks_beyond_the_parameter_limit(
    uow_factory: UowFactory, project: Project, run: Run
) -> None:
    model = make_model(project, "wide")
    files = tuple(VersionFile(f"f{i}", f"{i:064x}", i) for i in range(1, 1201))
    with uow_factory() as uow:
        uow.models.add_model(model)
        uow.models.add_version(dataclasses.replace(make_version(model, 1, run), files=files))
        uow.models.archive_version(model.id, 1, _archive(0, days=0))
        uow.commit()

    with uow_factory() as uow:
        holds = uow.decommission.expired_blob_holds(at(0))

    assert len(holds) == 1200
    assert sorted(h.size for h in holds) == list(range(1, 1201))
    assert all(len(h.versions) == 1 for h in holds)


def _purge(digest: str, purged: float) -> ArtifactPurge:
    return ArtifactPurge(
        PurgeId(new_id()), digest, 7, at(purged), ALICE, "retention", ("m/1", "m/2")
    )


def test_purges_are_kept_and_paged_newest_first(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    purges = [_purge("a" * 64, 1), _purge("b" * 64, 2), _purge("a" * 64, 3)]
    with uow_factory() as uow:
        assert uow.decommission.last_purge("a" * 64) is None
        for purge in purges:
            uow.decommission.add_purge(purge)
        uow.commit()

    with uow_factory() as uow:
        assert uow.decommission.last_purge("a" * 64) == purges[2]
        first = uow.decommission.list_purges(2, None)
        assert first.items == [purges[2], purges[1]]
        assert first.next_cursor is not None
        rest = uow.decommission.list_purges(2, first.next_cursor)
        assert rest.items == [purges[0]]
        assert rest.next_cursor is None
        # The last purge shows in the holds of an expired archive.
        uow.models.add_version(dataclasses.replace(make_version(model, 3), files=(_file("a"),)))
        uow.models.archive_version(model.id, 3, _archive(0, days=0))
        (held,) = [h for h in uow.decommission.expired_blob_holds(at(0)) if h.digest == "a" * 64]
        assert held.last_purged_at == at(3)


@pytest.mark.parametrize("values", [["x", 5], [1.5, None], [True, "id"]])
def test_a_forged_purge_cursor_pages_nothing_it_should_not(
    uow_factory: UowFactory, values: list[object]
) -> None:
    with uow_factory() as uow:
        uow.decommission.add_purge(_purge("a" * 64, 1))
        uow.commit()

    with uow_factory() as uow:
        page = uow.decommission.list_purges(10, encode_cursor(values))  # type: ignore[arg-type]

    assert page.items == []
