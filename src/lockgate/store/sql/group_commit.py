"""Group commit: concurrent writers share one transaction and one fsync.

Every commit waits for the disk (SQLite with `synchronous=FULL`, PostgreSQL with
`synchronous_commit=on`), and writers are serialized anyway (SQLite's write lock, the audit
chain head's row lock on PostgreSQL), so instead of one fsync per unit of work, units that arrive while a commit is in
flight run one after another inside the same transaction, each in its own SAVEPOINT (a unit
that fails rolls back alone), and a committer thread makes the whole batch durable with one
COMMIT. A unit's `commit()` returns only after its batch is on disk, so nothing is
acknowledged before it is durable; if the batch's COMMIT fails, every unit in it gets the error
and none of their changes persist.
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import suppress
from types import TracebackType

import sqlalchemy as sa

from lockgate.domain.identity import IdFactory
from lockgate.store.protocols import (
    ArtifactIndex,
    AuditLog,
    CredentialRepository,
    DecommissionRepository,
    EnvironmentRepository,
    EvaluationRepository,
    GrantRepository,
    LineageRepository,
    ModelCardRepository,
    ModelRepository,
    PackageRepository,
    PolicyRepository,
    PrincipalRepository,
    ProjectRepository,
    PromotionRepository,
    RunRepository,
)
from lockgate.store.sql.engine import DriverStatement
from lockgate.store.sql.pipeline import WriterPipeline
from lockgate.store.sql.unit_of_work import bind_repositories

__all__ = ["CommitGroup", "GroupUnitOfWork"]


class _Batch:
    """Units that share one transaction; `durable` is set once its COMMIT has finished."""

    def __init__(self) -> None:
        self.members = 0
        self.durable = threading.Event()
        self.error: BaseException | None = None


class CommitGroup:
    """The shared writer connection of one database, and the thread that commits it."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._writers = _ProcessWriterLock.for_engine(engine)
        self._lock = threading.Lock()  # held while a unit works or a batch commits
        self._wake = threading.Condition(threading.Lock())
        self._connection: sa.Connection | None = None
        self._pipeline: WriterPipeline | None = None  # the connection's, on PostgreSQL
        self._batch: _Batch | None = None  # the batch of the open transaction
        self._ready: list[_Batch] = []  # batches with members, waiting for COMMIT
        self._stopped = False
        self._committer: threading.Thread | None = None
        self._waiting = 0  # units blocked in enter(): the writers a commit could wait for

    def enter(self) -> tuple[sa.Connection, bool]:
        """Take the writer connection (blocks while another unit works or a batch commits),
        opening the shared transaction if none is open. Also tells whether the transaction
        already holds other units' changes (then the caller needs a savepoint)."""
        with self._wake:
            self._waiting += 1
        self._lock.acquire()
        with self._wake:
            self._waiting -= 1
        try:
            if self._connection is None:
                self._connection = self._connect()
            if self._batch is None:
                try:
                    self._writers.acquire()
                    self._connection.begin()  # BEGIN IMMEDIATE on SQLite, via the engine hook
                    if self._pipeline is not None:
                        self._pipeline.begin()  # queued: sent with the unit's first statement
                except BaseException:
                    self._drop_connection()  # e.g. the server restarted: reconnect next time
                    raise
                self._batch = _Batch()
            return self._connection, self._batch.members > 0
        except BaseException:
            self._lock.release()
            raise

    def leave(self, *, joined: bool) -> _Batch | None:
        """Give the connection back. A unit that `joined` adds itself to the open batch and
        gets it (to wait for); a batch nobody joined is rolled back at once, so the write lock
        is not held for nothing.

        A unit in a savepoint must have synced its work (`sync`) before it joins. The batch's
        first unit has no savepoint: it is synced here, or by the COMMIT when it commits
        alone; if that sync fails, the transaction (its alone) is rolled back and the error
        raised."""
        batch = self._batch
        try:
            if batch is None:
                return None
            if joined:
                return self._join(batch)
            if batch.members == 0 and self._connection is not None:
                self._roll_back()
            return None
        finally:
            self._lock.release()

    def sync(self) -> None:
        """Wait until the statements sent so far have run; raise the first error among them
        (as SQLAlchemy's exception class). A no-op unless the connection is pipelined."""
        if self._pipeline is not None:
            self._pipeline.sync()

    def discard(self) -> None:
        """Wait for the statements sent so far and drop their errors (those of a unit that
        failed), so the connection runs statements again. A no-op unless pipelined."""
        if self._pipeline is not None:
            self._pipeline.discard()

    def wait_durable(self, batch: _Batch) -> None:
        """Block until the batch's COMMIT has finished; re-raise its error."""
        if not batch.durable.is_set():
            self._ensure_committer()
            batch.durable.wait()
        if batch.error is not None:
            raise batch.error

    def close(self) -> None:
        """Stop the committer (after the last batch) and close the writer connection."""
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if self._committer is not None:
            self._committer.join(timeout=30)
        with self._lock:
            if self._connection is not None and self._batch is not None:
                self._roll_back()  # drops the connection if that fails
            if self._connection is not None:
                if self._pipeline is not None:
                    self._pipeline.close()
                    self._pipeline = None
                self._connection.close()
                self._connection = None
            self._writers.close()

    def _connect(self) -> sa.Connection:
        """A new writer connection; on PostgreSQL in pipeline mode (see pipeline.py)."""
        connection = self._engine.connect()
        try:
            self._pipeline = WriterPipeline.start(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _join(self, batch: _Batch) -> _Batch:
        with self._wake:
            alone = batch.members == 0 and self._waiting == 0
        if alone:
            # Nobody to share the fsync with: commit now, without a thread hand-off. The
            # COMMIT travels with the unit's last statements and fails if any of them did.
            batch.members = 1
            self._commit(batch)
            return batch
        if batch.members == 0:
            try:
                self.sync()  # others join this transaction: its first unit must have succeeded
            except BaseException:
                self._roll_back()
                raise
        batch.members += 1
        if batch.members == 1:
            with self._wake:
                self._ready.append(batch)
                self._wake.notify()
        return batch

    def _roll_back(self) -> None:
        """Roll back the open transaction (the caller holds the writer lock)."""
        self._batch = None
        try:
            if self._pipeline is not None:
                self._pipeline.rollback()
            if self._connection is not None:
                self._connection.rollback()
        except BaseException:
            self._drop_connection()
            raise
        self._writers.release()

    def _drop_connection(self) -> None:
        """Discard the writer connection (and whatever transaction it held)."""
        connection, self._connection, self._batch = self._connection, None, None
        pipeline, self._pipeline = self._pipeline, None
        try:
            if connection is not None:
                connection.invalidate()
                connection.close()
            if pipeline is not None:
                pipeline.abandon()
        finally:
            self._writers.release()

    def _ensure_committer(self) -> None:
        with self._wake:
            if self._committer is None and not self._stopped:
                self._committer = threading.Thread(
                    target=self._commit_forever, name="lockgate-group-commit", daemon=True
                )
                self._committer.start()

    def _commit_forever(self) -> None:
        while True:
            with self._wake:
                while not self._ready and not self._stopped:
                    self._wake.wait()
                if not self._ready:
                    return
                self._ready.clear()
            self._commit_open_batch()

    def _commit_open_batch(self) -> None:
        with self._lock:
            if self._batch is not None:
                self._commit(self._batch)

    def _commit(self, batch: _Batch) -> None:
        """COMMIT the open transaction for `batch` (the caller holds the writer lock); its
        units learn the outcome from the batch."""
        connection, self._batch = self._connection, None
        try:
            if connection is None:
                raise RuntimeError("a batch is open without a writer connection")
            if self._pipeline is not None:
                self._pipeline.commit()
            connection.commit()
            self._writers.release()
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting unit
            batch.error = exc
            self._after_failed_commit()
        finally:
            batch.durable.set()

    def _after_failed_commit(self) -> None:
        """A pipelined COMMIT fails when a statement queued before it did: the server skipped
        it, and a ROLLBACK leaves the connection as good as new. Otherwise the transaction's
        state is unknown: dropping the DBAPI connection rolls back whatever it held, and the
        next unit starts on a fresh one."""
        if self._pipeline is None:
            self._drop_connection()
            return
        with suppress(Exception):  # the batch has the commit's error; _roll_back dropped
            self._roll_back()


class _ProcessWriterLock:
    """Writers of one SQLite database across processes (several server workers): an
    exclusive flock on the database file, taken before BEGIN IMMEDIATE and released after
    COMMIT or ROLLBACK. A process waiting on it wakes the moment it is free, where SQLite's
    busy handler would sleep and poll (1 ms, then 2, 5, 10 ...). SQLite's own locks are POSIX
    record locks, which Linux keeps apart from flock. A no-op for PostgreSQL, whose writers
    queue on the audit chain head's row lock.
    """

    def __init__(self, path: str | None) -> None:
        self._path = path
        self._fd: int | None = None
        self._held = False

    @classmethod
    def for_engine(cls, engine: sa.Engine) -> _ProcessWriterLock:
        if engine.dialect.name != "sqlite" or not engine.url.database:
            return cls(None)
        return cls(os.path.expanduser(engine.url.database))

    def acquire(self) -> None:
        if self._path is None or self._held:
            return
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._held = True

    def release(self) -> None:
        if self._held and self._fd is not None:
            self._held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.release()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class GroupUnitOfWork:
    """A unit of work inside the shared transaction of a CommitGroup (every writer).

    The first unit of a batch works directly in the transaction (if it fails, the whole
    transaction rolls back: it holds nothing else); later units work inside a SAVEPOINT, so
    a failure undoes only their own changes.

    Args:
        group: the database's commit group.
        ids: makes ids the store mints itself (dataset versions).
    """

    projects: ProjectRepository
    runs: RunRepository
    models: ModelRepository
    artifacts: ArtifactIndex
    audit: AuditLog
    principals: PrincipalRepository
    grants: GrantRepository
    credentials: CredentialRepository
    packages: PackageRepository
    evaluations: EvaluationRepository
    environments: EnvironmentRepository
    promotions: PromotionRepository
    model_cards: ModelCardRepository
    decommission: DecommissionRepository
    lineage: LineageRepository
    policies: PolicyRepository

    def __init__(self, group: CommitGroup, ids: IdFactory | None = None) -> None:
        self._group = group
        self._ids = ids
        self._open = False
        self._connection: sa.Connection | None = None
        self._in_savepoint = False

    def __enter__(self) -> GroupUnitOfWork:
        connection, shared = self._group.enter()
        try:
            if shared:
                _SAVEPOINT.execute(connection, {})
                self._in_savepoint = True
        except BaseException:
            self._group.leave(joined=False)
            raise
        self._open = True
        self._connection = connection
        bind_repositories(self, connection, self._ids)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._open:
            return  # committed: the connection went back to the group already
        self._open = False
        try:
            self._undo()
        finally:
            self._group.leave(joined=False)

    def commit(self) -> None:
        """Hand this unit's changes to the shared transaction and return once the batch
        holding them is durable. The unit is finished afterwards."""
        if not self._open or self._connection is None:
            raise RuntimeError("commit() outside an open unit of work")
        self._open = False
        try:
            if self._in_savepoint:
                _RELEASE_SAVEPOINT.execute(self._connection, {})
                self._group.sync()  # fail alone, before joining the batch
                self._in_savepoint = False
        except BaseException:
            try:
                self._undo()
            finally:
                self._group.leave(joined=False)
            raise
        batch = self._group.leave(joined=True)
        if batch is not None:
            self._group.wait_durable(batch)

    def _undo(self) -> None:
        # Without a savepoint, leaving unjoined rolls the whole transaction back.
        if self._in_savepoint and self._connection is not None:
            self._in_savepoint = False
            self._group.discard()  # the failed unit's own errors, which it raised already
            _ROLLBACK_TO_SAVEPOINT.execute(self._connection, {})
            _RELEASE_SAVEPOINT.execute(self._connection, {})
            self._group.sync()


# Issued on the driver connection: SQLAlchemy's begin_nested() compiles its SAVEPOINT anew
# each time, which cost more than the rest of a unit's statements. Units of one transaction
# run one after another, so one name serves them all.
_SAVEPOINT = DriverStatement(lambda _: sa.text("SAVEPOINT lockgate_unit"))
_RELEASE_SAVEPOINT = DriverStatement(lambda _: sa.text("RELEASE SAVEPOINT lockgate_unit"))
_ROLLBACK_TO_SAVEPOINT = DriverStatement(lambda _: sa.text("ROLLBACK TO SAVEPOINT lockgate_unit"))
