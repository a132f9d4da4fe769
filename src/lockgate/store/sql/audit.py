"""SqlAuditLog: the hash-chained audit log, appended under a lock on its head row."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import cast

import sqlalchemy as sa

from lockgate.domain.audit import (
    AuditDraft,
    AuditEvent,
    ChainHead,
    JsonValue,
    StoredEvent,
    canonical_details,
    seal,
)
from lockgate.domain.identity import Actor
from lockgate.store.sql.codec import from_json, from_micros, to_micros
from lockgate.store.sql.engine import DriverStatement
from lockgate.store.sql.tables import audit_events, audit_head

__all__ = ["SqlAuditLog"]

_HEAD_ID = 1
_READ_CHUNK = 1000
_SUBJECT_CHUNK = 200


class SqlAuditLog:
    """Events in `audit_events`, the chain head in the one-row `audit_head`.

    Args:
        connection: the unit of work's connection, inside its transaction.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._connection = connection

    def append(self, draft: AuditDraft, *, event_id: str, at: datetime) -> AuditEvent:
        # FOR UPDATE serializes appends on PostgreSQL (ignored on SQLite, where BEGIN
        # IMMEDIATE already made this transaction the only writer).
        head = self._read_head(for_update=True)
        event = seal(draft, head=head, event_id=event_id, at=at)
        _INSERT_EVENT.execute(
            self._connection,
            {
                "seq": event.seq,
                "id": event.id,
                "occurred_at": to_micros(event.occurred_at),
                "action": event.action,
                "actor": event.actor,
                "subject_type": event.subject_type,
                "subject_id": event.subject_id,
                "details": canonical_details(event.details),
                "prev_hash": event.prev_hash,
                "hash": event.hash,
            },
        )
        _UPDATE_HEAD.execute(self._connection, {"new_seq": event.seq, "new_hash": event.hash})
        return event

    def list_events(
        self,
        after_seq: int,
        limit: int,
        subject_type: str | None = None,
        subject_id: str | None = None,
    ) -> list[AuditEvent]:
        query = (
            sa.select(audit_events)
            .where(audit_events.c.seq > after_seq)
            .order_by(audit_events.c.seq)
            .limit(limit)
        )
        if subject_type is not None:
            query = query.where(audit_events.c.subject_type == subject_type)
        if subject_id is not None:
            query = query.where(audit_events.c.subject_id == subject_id)
        return [_event(row) for row in self._connection.execute(query).mappings()]

    def stored_events(self) -> Iterator[StoredEvent]:
        # Chunked keyset reads: memory stays flat and no cursor stays open between yields.
        after = 0
        while True:
            rows = (
                self._connection.execute(
                    sa.select(audit_events)
                    .where(audit_events.c.seq > after)
                    .order_by(audit_events.c.seq)
                    .limit(_READ_CHUNK)
                )
                .mappings()
                .all()
            )
            for row in rows:
                yield _stored(row)
            if len(rows) < _READ_CHUNK:
                return
            after = rows[-1]["seq"]

    def stored_range(self, first_seq: int, last_seq: int) -> Iterator[StoredEvent]:
        after = first_seq - 1
        while after < last_seq:
            rows = (
                self._connection.execute(
                    sa.select(audit_events)
                    .where(audit_events.c.seq > after, audit_events.c.seq <= last_seq)
                    .order_by(audit_events.c.seq)
                    .limit(_READ_CHUNK)
                )
                .mappings()
                .all()
            )
            for row in rows:
                yield _stored(row)
            if len(rows) < _READ_CHUNK:
                return
            after = rows[-1]["seq"]

    def seqs_about(self, subjects: Iterable[tuple[str, str]], *, through_seq: int) -> list[int]:
        wanted = sorted(set(subjects))
        found: set[int] = set()
        # One indexed lookup per chunk of subjects (subject_type, subject_id, seq).
        for start in range(0, len(wanted), _SUBJECT_CHUNK):
            chunk = wanted[start : start + _SUBJECT_CHUNK]
            query = sa.select(audit_events.c.seq).where(
                sa.tuple_(audit_events.c.subject_type, audit_events.c.subject_id).in_(chunk),
                audit_events.c.seq <= through_seq,
            )
            found.update(self._connection.execute(query).scalars())
        return sorted(found)

    def head(self) -> ChainHead:
        return self._read_head(for_update=False)

    def _read_head(self, *, for_update: bool) -> ChainHead:
        if for_update:
            row = _SELECT_HEAD_FOR_UPDATE.execute(self._connection, {}).fetchone()
            if row is None:
                raise sa.exc.NoResultFound("No row was found when one was required")
            seq, digest = row
        else:
            seq, digest = self._connection.execute(_SELECT_HEAD).one()
        return ChainHead(seq, digest)


# Built once, and run on the driver connection (see DriverStatement; every column here is a
# string or an integer): the append path runs on every change.
_SELECT_HEAD = sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == _HEAD_ID)
_SELECT_HEAD_FOR_UPDATE = DriverStatement(lambda _: _SELECT_HEAD.with_for_update())
_EVENT_COLUMNS = (
    "seq",
    "id",
    "occurred_at",
    "action",
    "actor",
    "subject_type",
    "subject_id",
    "details",
    "prev_hash",
    "hash",
)
_INSERT_EVENT = DriverStatement(lambda _: audit_events.insert(), _EVENT_COLUMNS)
_UPDATE_HEAD = DriverStatement(
    lambda _: (
        audit_head.update()
        .where(audit_head.c.id == _HEAD_ID)
        .values(seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash"))
    )
)


def _stored(row: sa.RowMapping) -> StoredEvent:
    return StoredEvent(
        seq=row["seq"],
        id=row["id"],
        occurred_at=from_micros(row["occurred_at"]),
        action=row["action"],
        actor=row["actor"],
        subject_type=row["subject_type"],
        subject_id=row["subject_id"],
        details_json=row["details"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def _event(row: sa.RowMapping) -> AuditEvent:
    return AuditEvent(
        seq=row["seq"],
        id=row["id"],
        occurred_at=from_micros(row["occurred_at"]),
        action=row["action"],
        actor=Actor(row["actor"]),
        subject_type=row["subject_type"],
        subject_id=row["subject_id"],
        details=cast(Mapping[str, JsonValue], from_json(row["details"])),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
