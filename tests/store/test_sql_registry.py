"""Contract of SqlModelRepository on every dialect, with concurrent version allocation."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from lockgate.domain.errors import AlreadyExistsError, NotFoundError
from lockgate.domain.registry import (
    AliasMove,
    ColumnSpec,
    ModelId,
    RegisteredModel,
    Signature,
)
from lockgate.domain.tracking import Project
from tests.store.sql_builders import (
    ALICE,
    UowFactory,
    add_project,
    at,
    make_model,
    make_project,
    make_run,
    make_version,
)


@pytest.fixture
def project(uow_factory: UowFactory) -> Project:
    return add_project(uow_factory)


@pytest.fixture
def model(uow_factory: UowFactory, project: Project) -> RegisteredModel:
    model = make_model(project)
    with uow_factory() as uow:
        uow.models.add_model(model)
        uow.commit()
    return model


def _register(uow_factory: UowFactory, model: RegisteredModel, count: int) -> None:
    with uow_factory() as uow:
        for _ in range(count):
            number = uow.models.allocate_version(model.id)
            uow.models.add_version(make_version(model, number))
        uow.commit()


def test_model_reads_back_and_names_are_unique(
    uow_factory: UowFactory, project: Project, model: RegisteredModel
) -> None:
    with uow_factory() as uow:
        assert uow.models.get_model(model.name) == model
        with pytest.raises(AlreadyExistsError, match="model 'churn-model' already exists"):
            uow.models.add_model(make_model(project, model.name))
        with pytest.raises(NotFoundError, match="model 'nope' does not exist"):
            uow.models.get_model("nope")


def test_models_list_by_name_and_project(uow_factory: UowFactory, project: Project) -> None:
    other = make_project("other")
    with uow_factory() as uow:
        uow.projects.add(other)
        for name in ("c", "a", "b"):
            uow.models.add_model(make_model(project, name))
        uow.models.add_model(make_model(other, "aa"))
        uow.commit()
    with uow_factory() as uow:
        first = uow.models.list_models(project.id, 2, None)
        second = uow.models.list_models(project.id, 2, first.next_cursor)
        everything = uow.models.list_models(None, 10, None)
    assert [m.name for m in first.items] == ["a", "b"]
    assert [m.name for m in second.items] == ["c"]
    assert second.next_cursor is None
    assert [m.name for m in everything.items] == ["a", "aa", "b", "c"]


def test_versions_are_immutable_rows_with_files_and_signature(
    uow_factory: UowFactory, project: Project, model: RegisteredModel
) -> None:
    run = make_run(project)
    signature = Signature(
        inputs=(ColumnSpec("age", "int64"), ColumnSpec("img", "float32", (-1, 28, 28))),
        outputs=(ColumnSpec("p", "float64", (-1,)),),
    )
    with uow_factory() as uow:
        uow.runs.add(run, {})
        number = uow.models.allocate_version(model.id)
        version = dataclasses.replace(make_version(model, number, run), signature=signature)
        uow.models.add_version(version)
        with pytest.raises(AlreadyExistsError, match="version 1 already exists"):
            uow.models.add_version(version)
        uow.commit()
    with uow_factory() as uow:
        stored = uow.models.get_version(model.name, 1)
        assert stored == dataclasses.replace(
            version, files=tuple(sorted(version.files, key=lambda f: f.path))
        )
        with pytest.raises(NotFoundError, match="has no version 2"):
            uow.models.get_version(model.name, 2)


def test_latest_and_paged_versions(uow_factory: UowFactory, model: RegisteredModel) -> None:
    with uow_factory() as uow, pytest.raises(NotFoundError, match="has no versions"):
        uow.models.latest_version(model.name)
    _register(uow_factory, model, 5)
    with uow_factory() as uow:
        assert uow.models.latest_version(model.name).version == 5
        first = uow.models.list_versions(model.name, 3, None)
        second = uow.models.list_versions(model.name, 3, first.next_cursor)
        with pytest.raises(NotFoundError, match="model 'nope'"):
            uow.models.latest_version("nope")
    assert [v.version for v in first.items] == [5, 4, 3]
    assert [v.version for v in second.items] == [2, 1]
    assert second.next_cursor is None


def test_allocate_version_of_a_missing_model_is_not_found(uow_factory: UowFactory) -> None:
    with uow_factory() as uow, pytest.raises(NotFoundError, match="does not exist"):
        uow.models.allocate_version(ModelId("f" * 32))


def test_concurrent_allocations_are_distinct_and_contiguous(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    threads, per_thread = 8, 5
    barrier = threading.Barrier(threads)

    def register(_: int) -> list[int]:
        barrier.wait()
        numbers = []
        for _ in range(per_thread):
            with uow_factory() as uow:
                number = uow.models.allocate_version(model.id)
                uow.models.add_version(make_version(model, number))
                uow.commit()
            numbers.append(number)
        return numbers

    with ThreadPoolExecutor(max_workers=threads) as pool:
        numbers = [n for batch in pool.map(register, range(threads)) for n in batch]
    assert sorted(numbers) == list(range(1, threads * per_thread + 1))


def test_aliases_move_and_keep_their_history(
    uow_factory: UowFactory, model: RegisteredModel
) -> None:
    _register(uow_factory, model, 3)
    moves = [
        AliasMove(model.name, "champion", 1, None, at(10), ALICE),
        AliasMove(model.name, "challenger", 2, None, at(15), ALICE),
        AliasMove(model.name, "champion", 2, 1, at(20), ALICE),
        AliasMove(model.name, "champion", None, 2, at(30), ALICE),
        AliasMove(model.name, "champion", 3, None, at(40), ALICE),
    ]
    with uow_factory() as uow:
        for move in moves:
            uow.models.move_alias(model.id, move)
        uow.commit()
    with uow_factory() as uow:
        models = uow.models
        assert models.current_alias(model.id, "champion") == 3
        assert models.current_alias(model.id, "challenger") == 2
        assert models.current_alias(model.id, "other") is None
        assert [models.alias_at(model.id, "champion", at(s)) for s in (5, 10, 25, 30, 35, 99)] == [
            None,
            1,
            2,
            None,
            None,
            3,
        ]
        assert models.alias_history(model.id, "champion") == [moves[i] for i in (0, 2, 3, 4)]
        assert models.alias_history(model.id, None) == moves
        assert models.get_version(model.name, 2).aliases == ("challenger",)
        assert models.get_version(model.name, 3).aliases == ("champion",)
