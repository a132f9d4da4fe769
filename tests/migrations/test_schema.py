"""Migrations: upgrade head yields exactly the checked-in schema, the live tables match it,
and the schema check refuses outdated databases."""

from __future__ import annotations

import difflib
import warnings
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from lockgate.domain.errors import SchemaOutdatedError
from lockgate.store.sql import SqlMetadataStore, check_schema_current, current_revision, upgrade
from lockgate.store.sql.schema import head_revision
from lockgate.store.sql.schema_dump import REGENERATE_COMMAND, dump_schema
from lockgate.store.sql.tables import metadata

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"


def test_upgrade_head_matches_the_checked_in_schema(
    dialect: str, empty_db_url: str, engine: sa.Engine
) -> None:
    upgrade(empty_db_url)
    dumped = dump_schema(engine)
    checked_in = (SCHEMA_DIR / f"{dialect}.sql").read_text()
    if dumped != checked_in:
        diff = "".join(
            difflib.unified_diff(
                checked_in.splitlines(keepends=True),
                dumped.splitlines(keepends=True),
                f"schema/{dialect}.sql",
                "after upgrade head",
            )
        )
        pytest.fail(
            f"schema/{dialect}.sql is not what `upgrade head` makes. If the migration is "
            f"right, regenerate the dumps with `{REGENERATE_COMMAND}`.\n{diff}",
            pytrace=False,
        )


def test_the_tables_the_code_queries_match_the_migrations(
    empty_db_url: str, engine: sa.Engine
) -> None:
    upgrade(empty_db_url)
    with engine.connect() as connection, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    # Expression indexes cannot be compared by reflection on SQLite; the dump test covers them.
    differences = [d for d in differences if "value_run_id" not in str(d)]
    assert differences == [], differences


def test_an_empty_database_is_outdated_until_upgraded(empty_db_url: str, engine: sa.Engine) -> None:
    with pytest.raises(SchemaOutdatedError, match="run `lockgate db upgrade`"):
        check_schema_current(engine)
    assert current_revision(empty_db_url) is None
    upgrade(empty_db_url)
    check_schema_current(engine)
    assert current_revision(empty_db_url) == head_revision()


def test_upgrade_is_idempotent_and_keeps_data(db_url: str) -> None:
    store = SqlMetadataStore.from_url(db_url)
    try:
        with store.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO projects (id, name, description, created_at, created_by) "
                    "VALUES (:id, 'kept', '', 0, 'user:a')"
                ),
                {"id": "1" * 32},
            )
        upgrade(db_url)
        upgrade(db_url)
        store.check_schema_current()
        with store.unit_of_work() as uow:
            assert uow.projects.get_by_name("kept").id == "1" * 32
            assert uow.audit.head().seq == 0
    finally:
        store.dispose()


def test_a_database_behind_head_or_from_a_newer_release_is_refused(
    db_url: str,
) -> None:
    store = SqlMetadataStore.from_url(db_url)
    try:
        with store.engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff'"))
        with pytest.raises(SchemaOutdatedError, match=r"does not know .*: upgrade Lockgate"):
            store.check_schema_current()
        with store.engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM alembic_version"))
        with pytest.raises(SchemaOutdatedError, match="lockgate db upgrade"):
            store.check_schema_current()
    finally:
        store.dispose()
