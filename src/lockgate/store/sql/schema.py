"""Schema versions: upgrading a database to head with Alembic, and refusing to run on an
outdated one. Alembic is configured in code; the scripts ship inside this package."""

from __future__ import annotations

import contextlib
import functools
import io
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from lockgate.domain.errors import SchemaOutdatedError
from lockgate.store.sql.engine import create_engine_for

__all__ = [
    "check_schema_current",
    "current_revision",
    "head_revision",
    "render_upgrade_sql",
    "upgrade",
]

_SCRIPT_LOCATION = Path(__file__).with_name("migrations")
# Any constant works: it only has to be the same for every Lockgate process.
_UPGRADE_LOCK_KEY = 0x6C6F636B67617465 & 0x7FFFFFFFFFFFFFFF


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPT_LOCATION))
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    """The revision this code expects."""
    return str(_scripts().get_current_head())


def upgrade(url: str) -> None:
    """Migrate the database at `url` to head in one transaction (a no-op when it is there).

    Concurrent upgrades of one PostgreSQL database wait for each other on an advisory lock.
    """
    engine = create_engine_for(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_UPGRADE_LOCK_KEY)))
            config = _config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def render_upgrade_sql(dialect_name: str) -> str:
    """The SQL script that upgrades an empty database of a dialect to head (Alembic offline
    mode): for review, for DBAs who run DDL themselves, and for fast test fixtures."""
    config = _config()
    buffer = io.StringIO()
    config.output_buffer = buffer
    config.attributes["dialect_name"] = dialect_name
    with contextlib.redirect_stdout(buffer):
        command.upgrade(config, "head", sql=True)
    return buffer.getvalue()


def _current_revisions(connection: sa.Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at, or None when it has no Lockgate schema."""
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            revisions = _current_revisions(connection)
    finally:
        engine.dispose()
    return revisions[0] if revisions else None


def check_schema_current(engine: sa.Engine) -> None:
    """Raise SchemaOutdatedError unless the database is at head (empty counts as behind)."""
    with engine.connect() as connection:
        revisions = _current_revisions(connection)
    head = head_revision()
    if revisions == (head,):
        return
    if not revisions:
        raise SchemaOutdatedError(
            "the metadata database has no Lockgate schema yet: run `lockgate db upgrade`"
        )
    known = {script.revision for script in _scripts().walk_revisions()}
    if any(revision not in known for revision in revisions):
        raise SchemaOutdatedError(
            f"the metadata schema is at revision {', '.join(revisions)}, which this version "
            f"of Lockgate does not know (it expects {head}): upgrade Lockgate"
        )
    raise SchemaOutdatedError(
        f"the metadata schema is at revision {', '.join(revisions)} but this version of "
        f"Lockgate needs {head}: run `lockgate db upgrade`"
    )
