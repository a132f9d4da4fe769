"""Root fixtures: a metadata database per test on each dialect (SQLite file, PostgreSQL schema).

`db_url` is parametrized over `sqlite` and `postgresql` and yields the URL of an empty database
already migrated to head; `empty_db_url` yields one with no schema at all; `metadata_store` and
`uow_factory` give the SQL store over `db_url`.

PostgreSQL runs on 127.0.0.1:5432 as user postgres (trust auth). Each test session (each xdist
worker) creates its own database `lockgate_test_<hex>` and drops it at the end; each test gets a
fresh schema in it, selected through `search_path` in the URL. When the server is unreachable
the PostgreSQL tests fail, never skip: run `make services` first.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest

from lockgate.store.protocols import UnitOfWork
from lockgate.store.sql import SqlMetadataStore, upgrade
from lockgate.store.sql.schema import render_upgrade_sql

POSTGRES_SERVER = os.environ.get("LOCKGATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")

DIALECTS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _admin_connect(database: str) -> psycopg.Connection[Any]:
    return psycopg.connect(f"{POSTGRES_SERVER}/{database}", autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (this xdist worker); its URL."""
    name = f"lockgate_test_{secrets.token_hex(6)}"
    try:
        with _admin_connect("postgres") as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_SERVER} as user postgres: {exc}\n"
            "Start it with `make services` (scripts/ensure-services.sh); the PostgreSQL tests "
            "never skip.",
            pytrace=False,
        )
    yield f"{POSTGRES_SERVER}/{name}"
    with _admin_connect("postgres") as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_upgrade_sql() -> str:
    """The migrations rendered once as SQL (Alembic offline mode): replaying them into a new
    schema is far faster than running Alembic for every test."""
    return render_upgrade_sql("postgresql")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session; tests get copies."""
    path = tmp_path_factory.mktemp("sqlite-template") / "lockgate.db"
    upgrade(f"sqlite:///{path}")
    return path


def _postgres_schema_url(request: pytest.FixtureRequest, *, migrated: bool) -> Iterator[str]:
    database_url = cast(str, request.getfixturevalue("postgres_database"))
    database = database_url.rsplit("/", 1)[1]
    schema = f"t_{secrets.token_hex(6)}"
    with _admin_connect(database) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
        if migrated:
            ddl = cast(str, request.getfixturevalue("postgres_upgrade_sql"))
            connection.execute(f'SET search_path TO "{schema}"')
            connection.execute(ddl)
    yield f"{database_url}?options=-csearch_path%3D{schema}"
    with _admin_connect(database) as connection:
        # A connection a test leaked must not hang the suite: the database goes at the end.
        connection.execute("SET lock_timeout = '2s'")
        with contextlib.suppress(psycopg.errors.LockNotAvailable):
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    """The metadata dialect of this test: `sqlite` or `postgresql`."""
    return cast(str, request.param)


@pytest.fixture
def db_url(dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh metadata database migrated to head."""
    if dialect == "sqlite":
        path = tmp_path / "metadata" / "lockgate.db"
        path.parent.mkdir()
        shutil.copyfile(cast(Path, request.getfixturevalue("sqlite_template")), path)
        yield f"sqlite:///{path}"
    else:
        yield from _postgres_schema_url(request, migrated=True)


@pytest.fixture
def empty_db_url(dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh metadata database with no schema at all."""
    if dialect == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty' / 'lockgate.db'}"
    else:
        yield from _postgres_schema_url(request, migrated=False)


@pytest.fixture
def metadata_store(db_url: str) -> Iterator[SqlMetadataStore]:
    """The SQL metadata store over `db_url`, disposed after the test."""
    store = SqlMetadataStore.from_url(db_url)
    yield store
    store.dispose()


@pytest.fixture
def uow_factory(metadata_store: SqlMetadataStore) -> Callable[[], UnitOfWork]:
    """Makes units of work over `db_url` (what the services take)."""
    return metadata_store.unit_of_work
