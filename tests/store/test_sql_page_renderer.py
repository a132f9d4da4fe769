"""Search pages rendered in halves on two connections (PostgreSQL), and alone otherwise."""

from __future__ import annotations

import json
import threading
import time

import pytest
import sqlalchemy as sa

from lockgate.domain.tracking import Metric, parse_filter, parse_order_by
from lockgate.store.sql import SqlMetadataStore, run_json
from lockgate.store.sql.run_json import PageRenderer, render_runs
from lockgate.store.sql.run_search import search_run_ids
from tests.store.sql_builders import at, make_project, make_run


@pytest.fixture
def run_ids(metadata_store: SqlMetadataStore) -> list[str]:
    """Ids of nine runs of project `pages`, each with a param and a metric, in a mixed order."""
    project = make_project("pages")
    runs = [make_run(project, f"r{i}", started=i) for i in range(9)]
    with metadata_store.unit_of_work() as uow:
        uow.projects.add(project)
        for index, run in enumerate(runs):
            uow.runs.add(run, {"i": str(index)})
            uow.runs.add_params(run, {"p": str(index % 3)})
            uow.runs.add_metrics(run, [Metric("m", index / 7, index, at(index))])
        uow.commit()
    return [run.id for run in runs[4:] + runs[:4]]


def _alone(store: SqlMetadataStore, ids: list[str]) -> list[str]:
    with store.engine.connect() as connection:
        return list(render_runs(connection, ids, "pages"))


def test_a_page_in_halves_is_the_page_rendered_alone(
    metadata_store: SqlMetadataStore, run_ids: list[str], dialect: str
) -> None:
    renderer = PageRenderer(metadata_store.engine, split_from=2)
    used: list[str] = []
    render_alone = renderer._render_alone

    def spy(ids: list[str], project_name: str) -> list[str]:
        used.append(threading.current_thread().name)
        return list(render_alone(ids, project_name))

    renderer._render_alone = spy  # type: ignore[method-assign,assignment]
    try:
        with metadata_store.engine.connect() as connection:
            page = renderer.render(connection, run_ids, "pages")
    finally:
        renderer.close()
    assert page == _alone(metadata_store, run_ids)
    assert [json.loads(text)["id"] for text in page] == run_ids
    # Only PostgreSQL has a helper: SQLite's rendering holds Python's lock for its metrics.
    assert [name.startswith("lockgate-render") for name in used] == (
        [True] if dialect == "postgresql" else []
    )


def test_a_small_page_or_a_busy_helper_renders_on_the_callers_connection(
    metadata_store: SqlMetadataStore, run_ids: list[str]
) -> None:
    renderer = PageRenderer(metadata_store.engine, split_from=5)

    def fail(ids: list[str], project_name: str) -> list[str]:
        raise AssertionError("the helper was used")

    renderer._render_alone = fail  # type: ignore[method-assign,assignment]
    expected = _alone(metadata_store, run_ids)
    try:
        with metadata_store.engine.connect() as connection:
            assert renderer.render(connection, run_ids[:4], "pages") == expected[:4]
            assert renderer._idle.acquire(blocking=False)  # another page has the helper
            try:
                assert renderer.render(connection, run_ids, "pages") == expected
            finally:
                renderer._idle.release()
    finally:
        renderer.close()


def test_the_helper_is_free_again_after_a_half_fails(
    metadata_store: SqlMetadataStore,
    run_ids: list[str],
    dialect: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renderer = PageRenderer(metadata_store.engine, split_from=2)
    finished = threading.Event()

    def helper_half(ids: list[str], project_name: str) -> list[str]:
        with metadata_store.engine.connect() as connection:
            texts: list[str] = list(render_runs(connection, ids, project_name))
        time.sleep(0.2)
        finished.set()
        return texts

    def callers_half(connection: sa.Connection, ids: list[str], project_name: str) -> None:
        raise sa.exc.OperationalError("SELECT", {}, RuntimeError("connection lost"))

    renderer._render_alone = helper_half  # type: ignore[method-assign,assignment]
    monkeypatch.setattr(run_json, "render_runs", callers_half)
    try:
        with (
            metadata_store.engine.connect() as connection,
            pytest.raises(sa.exc.OperationalError),
        ):
            renderer.render(connection, run_ids, "pages")
        # On PostgreSQL it waited for the helper's half before it raised; SQLite has none.
        assert finished.is_set() == (dialect == "postgresql")
        assert renderer._idle.acquire(blocking=False)  # and left the helper free
        renderer._idle.release()
    finally:
        renderer.close()


def test_searches_plan_without_parallel_workers_on_postgresql_only(
    metadata_store: SqlMetadataStore, run_ids: list[str], dialect: str
) -> None:
    with metadata_store.unit_of_work(read_only=True) as uow:
        project = uow.projects.get_by_name("pages")
    sent: list[str] = []
    with metadata_store.engine.connect() as connection, connection.begin():
        sa.event.listen(connection, "before_cursor_execute", lambda *args: sent.append(args[2]))
        ids, _ = search_run_ids(
            connection,
            project.id,
            parse_filter("params.p = '1'"),
            parse_order_by("metrics.m"),
            5,
            None,
        )
    assert len(ids) == 3
    setting = "SET LOCAL max_parallel_workers_per_gather = 0"
    assert (setting in sent) == (dialect == "postgresql")
    if dialect == "postgresql":
        with metadata_store.engine.connect() as connection:  # only for that transaction
            assert (
                connection.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar() != "0"
            )
