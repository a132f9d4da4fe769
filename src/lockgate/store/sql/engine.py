"""The engine factory: one SQLAlchemy engine per metadata URL, tuned per dialect.

SQLite runs in WAL mode with foreign keys on and, by default, an fsync at every commit
(`synchronous=FULL`: an acknowledged change survives a power cut); every write transaction starts
with `BEGIN IMMEDIATE`, so writers queue for the lock up front instead of deadlocking when a
reader upgrades. PostgreSQL goes through psycopg 3 with a pre-pinged connection pool.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.sql.compiler import SQLCompiler

from lockgate.domain.errors import InvalidInputError
from lockgate.store.sql.functions import register_sqlite_functions
from lockgate.store.sql.pipeline import sync_sqlalchemy_statements

__all__ = ["DriverCursor", "DriverStatement", "create_engine_for", "normalize_url"]

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
    engine = sa.create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_recycle=1800,
        # The pipelined writer connection runs in autocommit mode and ends its transactions
        # itself (see pipeline.py): SQLAlchemy's rollback on it would only cost a round trip.
        skip_autocommit_rollback=True,
    )
    sync_sqlalchemy_statements(engine)
    return engine


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
    register_sqlite_functions(dbapi_connection)


READ_ONLY_OPTION = "lockgate_read_only"


def _begin_immediate(connection: sa.Connection) -> None:
    # Readers take a WAL snapshot without the write lock, so they never wait for writers.
    if connection.get_execution_options().get(READ_ONLY_OPTION):
        _BEGIN_DEFERRED.execute(connection, {})
    else:
        _BEGIN_IMMEDIATE.execute(connection, {})


class DriverCursor(Protocol):
    """What the hot paths read from a driver cursor (sqlite3's and psycopg's alike)."""

    @property
    def description(self) -> Sequence[Sequence[Any]] | None: ...

    def fetchone(self) -> Sequence[Any] | None: ...

    def fetchall(self) -> Sequence[Sequence[Any]]: ...


class DriverStatement:
    """A hot-path statement executed on the driver connection itself, inside the SQLAlchemy
    connection's transaction.

    SQLAlchemy spends about 10-15 us per execution (cache key, compiled-cache lookup, event
    dispatch, result wrapping), several times what SQLite takes to run the statement, and a
    single metric point takes six statements. This compiles the statement once per dialect
    and hands the SQL text to the driver, whose own statement cache (sqlite3) or prepared
    statements (psycopg) do the rest.

    Only for statements whose columns need no type conversion either way (strings, integers,
    floats, bytes, NULL): the values go to the driver as they are. Driver errors are raised as
    SQLAlchemy's exception classes, as from `Connection.execute`. While anything listens to
    the engine's cursor events (tracing, a test counting statements), statements go through
    SQLAlchemy so that it sees them.

    On PostgreSQL each statement keeps one cursor per connection and returns it: read the rows
    before the statement runs again on that connection. On a pipelined connection (see
    pipeline.py) the statement is only queued: its rows arrive when the cursor is first read,
    and the error of a statement queued earlier may surface then, at a later statement, or at
    the unit's next sync.

    Args:
        build: the statement for a dialect name (`sqlite` or `postgresql`).
        column_keys: for an INSERT or UPDATE, the columns it sets (as with `compile`).
    """

    def __init__(
        self,
        build: Callable[[str], sa.ClauseElement],
        column_keys: Sequence[str] | None = None,
    ) -> None:
        self._build = build
        self._column_keys = list(column_keys) if column_keys is not None else None
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}

    def execute(self, connection: sa.Connection, params: Mapping[str, Any]) -> DriverCursor:
        """Run with one set of parameters; the cursor holds the rows, if any. Driver errors
        are raised as SQLAlchemy's (IntegrityError, ...), as `Connection.execute` would."""
        sql, positions, defaults = self._compile(connection.dialect)
        values = {**defaults, **params} if defaults else params
        arguments = values if positions is None else tuple(values[key] for key in positions)
        if _is_observed(connection):
            # Someone listens to statements (tracing, a test counting them): let them see it.
            return _ResultCursor(connection.exec_driver_sql(sql, arguments))
        driver: Any = connection.connection.driver_connection  # live, inside its transaction
        dbapi_error: type[Exception] = connection.dialect.loaded_dbapi.Error
        postgresql = connection.dialect.name == "postgresql"
        # sqlite3 makes a cursor per execute in C, at no cost; psycopg's cost CPU.
        runner = self._cursor_on(connection, driver) if postgresql else driver
        try:
            cursor: DriverCursor = runner.execute(sql, arguments)
        except dbapi_error as error:
            raise sa.exc.DBAPIError.instance(sql, arguments, error, dbapi_error) from error
        if postgresql and driver.pgconn.pipeline_status:
            return _QueuedCursor(cursor, sql, arguments, dbapi_error)
        return cursor

    def _cursor_on(self, connection: sa.Connection, driver: Any) -> Any:
        """This statement's psycopg cursor on the connection, made on first use: making one
        takes about as much CPU as executing with it (its adapters, the dumpers it looks up
        again). Kept in the pool's record of the connection, which forgets it with the
        connection."""
        cursors: dict[DriverStatement, Any] | None = connection.info.get(_CURSORS_KEY)
        if cursors is None:
            cursors = connection.info[_CURSORS_KEY] = {}
        cursor = cursors.get(self)
        if cursor is None:
            cursor = cursors[self] = driver.cursor()
        return cursor

    def _compile(self, dialect: sa.Dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = cast(
                SQLCompiler,
                self._build(dialect.name).compile(dialect=dialect, column_keys=self._column_keys),
            )
            # Values the statement carries itself (`audit_head.c.id == 1`).
            defaults = {
                name: bind.effective_value
                for bind, name in compiled.bind_names.items()
                if not bind.required
            }
            positions = tuple(compiled.positiontup or ()) if compiled.positional else None
            found = (compiled.string, positions, defaults)
            self._compiled[dialect.name] = found
        return found


_CURSORS_KEY = "lockgate_driver_cursors"
_BEGIN_DEFERRED = DriverStatement(lambda _: sa.text("BEGIN DEFERRED"))
_BEGIN_IMMEDIATE = DriverStatement(lambda _: sa.text("BEGIN IMMEDIATE"))


def _is_observed(connection: sa.Connection) -> bool:
    dispatch = connection.dispatch
    return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)


class _QueuedCursor:
    """A DriverStatement's cursor on a pipelined connection. Its rows arrive when it is first
    read (the client waits then, for this statement and every one queued before it); a driver
    error surfacing then is raised as SQLAlchemy's exception class, naming this statement."""

    __slots__ = ("_arguments", "_cursor", "_dbapi_error", "_first", "_sql")

    def __init__(
        self, cursor: DriverCursor, sql: str, arguments: Any, dbapi_error: type[Exception]
    ) -> None:
        self._cursor = cursor
        self._sql = sql
        self._arguments = arguments
        self._dbapi_error = dbapi_error
        self._first: list[Sequence[Any] | None] | None = None  # the first row, once waited for

    @property
    def description(self) -> Sequence[Sequence[Any]] | None:
        self._wait()
        return self._cursor.description

    def fetchone(self) -> Sequence[Any] | None:
        self._wait()
        if self._first:
            return self._first.pop()
        return self._fetch()

    def fetchall(self) -> Sequence[Sequence[Any]]:
        self._wait()
        first, self._first = self._first or [], []
        rows = [row for row in first if row is not None]
        try:
            rows.extend(self._cursor.fetchall())
        except self._dbapi_error as error:
            raise sa.exc.DBAPIError.instance(
                self._sql, self._arguments, error, self._dbapi_error
            ) from error
        return rows

    def _wait(self) -> None:
        if self._first is None:
            self._first = [self._fetch()]

    def _fetch(self) -> Sequence[Any] | None:
        try:
            return self._cursor.fetchone()
        except self._dbapi_error as error:
            raise sa.exc.DBAPIError.instance(
                self._sql, self._arguments, error, self._dbapi_error
            ) from error


class _ResultCursor:
    """A SQLAlchemy result seen as a driver cursor."""

    def __init__(self, result: sa.CursorResult[Any]) -> None:
        self._result = result
        self.description: list[tuple[str]] | None = None
        if result.returns_rows:
            keys = result.keys()
            self.description = [(key,) for key in keys]

    def fetchone(self) -> Sequence[Any] | None:
        return self._result.fetchone()

    def fetchall(self) -> Sequence[Sequence[Any]]:
        return self._result.fetchall()
