"""PostgreSQL pipeline mode on the writer connection: a unit's statements travel together.

Logging one metric point takes five statements (BEGIN, the run, the point, the latest value,
the audit event, COMMIT). Sent one at a time, each is a round trip, and on PostgreSQL the waits
cost more than the statements. In pipeline mode (psycopg's `Connection.pipeline()`) a
statement is sent without waiting for its result; the client waits only when it reads a row or
syncs. The commit group's writer connection stays in pipeline mode while it lives, so a unit
costs one round trip per read and one at its end: [BEGIN, the run], [the point, the latest
value, the event, COMMIT]. The audit event reads nothing on the client: one statement moves
the chain head and seals the event in the database (see audit.py, ADR 0013).

What keeps the rest working:

- Transactions: in pipeline mode psycopg syncs after the BEGIN it issues itself, a round trip
  of its own. So the writer connection runs in autocommit mode and `WriterPipeline` queues
  BEGIN, COMMIT and ROLLBACK as statements; SQLAlchemy's begin, commit and rollback on it are
  bookkeeping only (the engine skips rollbacks in autocommit mode).
- SQLAlchemy statements read the cursor's description as soon as they run. The engine's
  `do_execute` hooks (`sync_sqlalchemy_statements`) sync after each one on a pipelined
  connection, so it behaves as without the pipeline: one round trip, which also carries
  whatever was queued before it. Only `DriverStatement` queues.
- Errors: a queued statement's error surfaces at the next read or sync, possibly from a later
  statement, and the server skips every statement until that sync. It is raised as
  SQLAlchemy's exception class (by SQLAlchemy itself, or wrapped here and in
  `DriverStatement`). `discard` and `rollback` clear the aborted state before the connection
  is used again.
"""

from __future__ import annotations

from contextlib import ExitStack, suppress
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine.interfaces import ExecutionContext

__all__ = ["WriterPipeline", "sync_sqlalchemy_statements"]

# The open pipelines, by psycopg connection (the hooks look up a cursor's connection); a
# pipeline removes itself when it is closed or abandoned.
_PIPELINES: dict[Any, WriterPipeline] = {}
# A sync after an error collects what the failed statements left; the next one is clean.
_DISCARD_ATTEMPTS = 3


class WriterPipeline:
    """Pipeline mode and transaction control for the commit group's writer connection on
    PostgreSQL. Build it with `start`; `close` it before the connection goes back to the pool.

    Args:
        connection: the writer connection, in autocommit mode and outside any transaction.
        driver: its psycopg connection.
    """

    def __init__(self, connection: sa.Connection, driver: Any) -> None:
        self._driver = driver
        self._error: type[Exception] = connection.dialect.loaded_dbapi.Error
        self._scope = ExitStack()
        self._pipeline = self._scope.enter_context(driver.pipeline())
        self._commands = driver.cursor()  # BEGIN, COMMIT and ROLLBACK: one cursor, made once
        _PIPELINES[driver] = self

    @classmethod
    def start(cls, connection: sa.Connection) -> WriterPipeline | None:
        """Put a fresh writer connection in pipeline mode (PostgreSQL only: None otherwise)."""
        if connection.dialect.name != "postgresql":
            return None
        connection.execution_options(isolation_level="AUTOCOMMIT")
        return cls(connection, connection.connection.driver_connection)

    def begin(self) -> None:
        """Queue BEGIN: it travels with the unit's first statement."""
        self._queue(b"BEGIN")

    def sync(self) -> None:
        """Wait for everything queued; the first error among it is raised as SQLAlchemy's
        exception class (the server skipped the statements after it)."""
        try:
            self._pipeline.sync()
        except self._error as error:
            raise _wrap("-- pipeline sync", error, self._error) from error

    def sync_raw(self) -> None:
        """`sync`, raising the driver's error as it is (for SQLAlchemy, which wraps it)."""
        self._pipeline.sync()

    def commit(self) -> None:
        """COMMIT, in the same round trip as the unit's last statements. An error of any of
        them fails it: the server skipped the COMMIT, and the transaction awaits `rollback`."""
        self._queue(b"COMMIT")
        self.sync()

    def rollback(self) -> None:
        """End the transaction, whatever state the failed work left it in."""
        self.discard()
        self._queue(b"ROLLBACK")
        self.sync()

    def discard(self) -> None:
        """Wait for everything queued and drop its errors: they belong to work that failed
        already. Afterwards the server runs statements again (a transaction in error still
        needs its ROLLBACK). Raises when the connection itself is broken."""
        for _ in range(_DISCARD_ATTEMPTS - 1):
            try:
                self._pipeline.sync()
            except self._error:
                continue
            return
        self.sync()

    def close(self) -> None:
        """Leave pipeline mode (the connection goes back to the pool as it came)."""
        _PIPELINES.pop(self._driver, None)
        self._scope.close()

    def abandon(self) -> None:
        """Let go of a connection that was invalidated (closed): leaving pipeline mode then
        fails at once, without talking to the server, and that is all it has to do."""
        _PIPELINES.pop(self._driver, None)
        with suppress(self._error):
            self._scope.close()

    def _queue(self, command: bytes) -> None:
        try:
            self._commands.execute(command, prepare=False)
        except self._error as error:
            raise _wrap(command.decode(), error, self._error) from error


def _wrap(statement: str, error: Exception, dbapi_error: type[Exception]) -> sa.exc.StatementError:
    return sa.exc.DBAPIError.instance(statement, None, error, dbapi_error)


def sync_sqlalchemy_statements(engine: sa.Engine) -> None:
    """Make SQLAlchemy's statements wait for their results on a pipelined connection, as
    SQLAlchemy expects (it reads the cursor's description right away). Other connections
    execute as usual."""
    event.listen(engine, "do_execute", _execute)
    event.listen(engine, "do_execute_no_params", _execute_no_params)
    event.listen(engine, "do_executemany", _executemany)


def _execute(cursor: Any, statement: str, parameters: Any, context: ExecutionContext) -> bool:
    writer = _PIPELINES.get(cursor.connection)
    if writer is None:
        return False  # SQLAlchemy executes it
    cursor.execute(statement, parameters)
    writer.sync_raw()  # a driver error: SQLAlchemy wraps it, as any from execute
    return True


def _execute_no_params(cursor: Any, statement: str, context: ExecutionContext) -> bool:
    writer = _PIPELINES.get(cursor.connection)
    if writer is None:
        return False
    cursor.execute(statement)
    writer.sync_raw()
    return True


def _executemany(cursor: Any, statement: str, parameters: Any, context: ExecutionContext) -> bool:
    writer = _PIPELINES.get(cursor.connection)
    if writer is None:
        return False
    cursor.executemany(statement, parameters)
    writer.sync_raw()
    return True
