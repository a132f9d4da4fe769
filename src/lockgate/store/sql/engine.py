"""The engine factory: one SQLAlchemy engine per metadata URL, tuned per dialect.

SQLite runs in WAL mode with foreign keys on and, by default, an fsync at every commit
(`synchronous=FULL`: an acknowledged change survives a power cut); every write transaction starts
with `BEGIN IMMEDIATE`, so writers queue for the lock up front instead of deadlocking when a
reader upgrades. PostgreSQL goes through psycopg 3 with a pre-pinged connection pool.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from lockgate.domain.errors import InvalidInputError

__all__ = ["create_engine_for", "normalize_url"]

_SQLITE_BUSY_TIMEOUT_SECONDS = 30


def normalize_url(url: str) -> URL:
    """The SQLAlchemy URL for a Lockgate metadata URL: `sqlite:///ABS/PATH` or
    `postgresql://...` (served by psycopg 3)."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InvalidInputError(
            f"{url!r} is not a database URL: use sqlite:///PATH or postgresql://...",
            field="metadata_url",
        ) from exc
    if parsed.drivername in {"postgresql", "postgres", "postgresql+psycopg"}:
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in {"sqlite", "sqlite+pysqlite"}:
        if not parsed.database or parsed.database == ":memory:":
            raise InvalidInputError(
                "the SQLite metadata store needs a file: use sqlite:///PATH", field="metadata_url"
            )
        return parsed.set(drivername="sqlite+pysqlite")
    raise InvalidInputError(
        f"unsupported metadata URL scheme {parsed.drivername!r}: use sqlite:/// or postgresql://",
        field="metadata_url",
    )


SQLITE_SYNCHRONOUS = ("full", "normal")


def create_engine_for(url: str, *, sqlite_synchronous: str = "full") -> Engine:
    """A pooled engine for a metadata URL (the SQLite file's directory is created).

    `sqlite_synchronous` is `full` (fsync at every commit) or `normal` (fsync at checkpoints:
    a power cut may lose the newest commits but never corrupts the database).
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        if sqlite_synchronous not in SQLITE_SYNCHRONOUS:
            raise InvalidInputError(
                "sqlite_synchronous must be 'full' or 'normal'", field="sqlite_synchronous"
            )
        return _sqlite_engine(parsed, sqlite_synchronous.upper())
    return sa.create_engine(
        parsed, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_recycle=1800
    )


def _sqlite_engine(url: URL, synchronous: str) -> Engine:
    Path(url.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        pool_size=10,
        max_overflow=20,
    )
    event.listen(
        engine, "connect", lambda dbapi, record: _configure_sqlite_connection(dbapi, synchronous)
    )
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, synchronous: str) -> None:
    # Take transaction control away from pysqlite: it would emit a deferred BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        # LIKE is case-sensitive, as on PostgreSQL; ilike is spelled lower() LIKE lower().
        cursor.execute("PRAGMA case_sensitive_like=ON")
    finally:
        cursor.close()


READ_ONLY_OPTION = "lockgate_read_only"


def _begin_immediate(connection: sa.Connection) -> None:
    # Readers take a WAL snapshot without the write lock, so they never wait for writers.
    if connection.get_execution_options().get(READ_ONLY_OPTION):
        connection.exec_driver_sql("BEGIN DEFERRED")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
