"""Contract of SqlProjectRepository on every dialect."""

from __future__ import annotations

import pytest

from lockgate.domain.errors import AlreadyExistsError, NotFoundError
from lockgate.domain.tracking import ProjectId
from tests.store.sql_builders import UowFactory, make_project


def test_added_project_reads_back_by_id_and_name(uow_factory: UowFactory) -> None:
    project = make_project("churn")
    with uow_factory() as uow:
        uow.projects.add(project)
        uow.commit()
    with uow_factory() as uow:
        assert uow.projects.get(project.id) == project
        assert uow.projects.get_by_name("churn") == project


def test_duplicate_name_is_already_exists_and_the_unit_stays_usable(
    uow_factory: UowFactory,
) -> None:
    with uow_factory() as uow:
        uow.projects.add(make_project("churn"))
        with pytest.raises(AlreadyExistsError, match="project 'churn' already exists"):
            uow.projects.add(make_project("churn"))
        uow.projects.add(make_project("fraud"))
        uow.commit()
    with uow_factory() as uow:
        assert [p.name for p in uow.projects.list_page(10, None).items] == ["churn", "fraud"]


def test_missing_project_is_not_found(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        with pytest.raises(NotFoundError, match="project 'nope' does not exist"):
            uow.projects.get_by_name("nope")
        with pytest.raises(NotFoundError, match="does not exist"):
            uow.projects.get(ProjectId("0" * 32))


def test_uncommitted_work_is_rolled_back(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        uow.projects.add(make_project("churn"))
    with uow_factory() as uow, pytest.raises(NotFoundError):
        uow.projects.get_by_name("churn")


def test_projects_page_by_name(uow_factory: UowFactory) -> None:
    names = ["b", "a", "d", "c", "e"]
    with uow_factory() as uow:
        for name in names:
            uow.projects.add(make_project(name))
        uow.commit()
    seen: list[str] = []
    cursor = None
    with uow_factory() as uow:
        while True:
            page = uow.projects.list_page(2, cursor)
            seen += [p.name for p in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == sorted(names)
