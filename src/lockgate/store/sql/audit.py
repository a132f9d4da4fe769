"""SqlAuditLog: the hash-chained audit log, appended under a lock on its head row.

On PostgreSQL one statement seals and inserts an event (it is queued on the pipelined writer
connection, and costs no round trip of its own); on SQLite, whose BEGIN IMMEDIATE already made
the transaction the only writer, Python reads the head and seals the event.
"""

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
    encode_hashed_fields,
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
        self._sealed_in_sql = connection.dialect.name == "postgresql"

    def append(self, draft: AuditDraft, *, event_id: str, at: datetime) -> None:
        if self._sealed_in_sql:
            self._append_in_sql(draft, event_id=event_id, at=at)
            return
        # SQLite: BEGIN IMMEDIATE made this transaction the only writer, so the head read here
        # stays the head until the commit.
        row = _READ_HEAD.execute(self._connection, {}).fetchone()
        if row is None:
            raise sa.exc.NoResultFound("No row was found when one was required")
        event = seal(draft, head=ChainHead(row[0], row[1]), event_id=event_id, at=at)
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
        _UPDATE_HEAD.execute(
            self._connection,
            {"new_seq": event.seq, "new_prev_hash": event.prev_hash, "new_hash": event.hash},
        )

    def _append_in_sql(self, draft: AuditDraft, *, event_id: str, at: datetime) -> None:
        """PostgreSQL: one statement moves the head and inserts the event it sealed (see
        _APPEND). On the pipelined writer connection it is only queued, and its outcome
        arrives with the unit's COMMIT."""
        details = canonical_details(draft.details)
        _APPEND.execute(
            self._connection,
            {
                "id": event_id,
                "occurred_at": to_micros(at),
                "action": draft.action,
                "actor": draft.actor,
                "subject_type": draft.subject_type,
                "subject_id": draft.subject_id,
                "details": details,
                "fields": encode_hashed_fields(
                    event_id=event_id,
                    occurred_at=at,
                    action=draft.action,
                    actor=draft.actor,
                    subject_type=draft.subject_type,
                    subject_id=draft.subject_id,
                    details_json=details,
                ),
            },
        )

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
        seq, digest = self._connection.execute(_SELECT_HEAD).one()
        return ChainHead(seq, digest)


# Built once, and run on the driver connection (see DriverStatement; every column here is a
# string, an integer or bytes): the append path runs on every change.
_SELECT_HEAD = sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == _HEAD_ID)
_READ_HEAD = DriverStatement(lambda _: _SELECT_HEAD)
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
        .values(
            seq=sa.bindparam("new_seq"),
            prev_hash=sa.bindparam("new_prev_hash"),
            hash=sa.bindparam("new_hash"),
        )
    )
)

# PostgreSQL's append: the event is sealed by the UPDATE that moves the head, so the head is
# read under its row lock. Every SET expression sees the old row, and an UPDATE that waited for
# another writer's lock re-evaluates them on the row that writer committed (READ COMMITTED), so
# the chain never forks. The hashed body is `compute_hash`'s, byte for byte:
# `[<seq>` + :fields (`encode_hashed_fields`: UTF-8, whatever the server encoding) +
# `,"<prev_hash>"]`; the pieces made here are ASCII, as are the head's hex hashes. VALUES makes
# exactly one row: with no head row the event's seq would be NULL, and the unit fails instead of
# committing its change without its event.
_APPEND = DriverStatement(
    lambda _: sa.text(
        """
        WITH head AS (
            UPDATE audit_head
            SET seq = seq + 1,
                prev_hash = hash,
                hash = encode(
                    sha256(
                        convert_to('[' || CAST(seq + 1 AS TEXT), 'UTF8')
                        || CAST(:fields AS BYTEA)
                        || convert_to(',"' || hash || '"]', 'UTF8')
                    ),
                    'hex'
                )
            WHERE id = 1
            RETURNING seq, prev_hash, hash
        )
        INSERT INTO audit_events
            (seq, id, occurred_at, action, actor, subject_type, subject_id, details, prev_hash, hash)
        VALUES (
            (SELECT seq FROM head), :id, :occurred_at, :action, :actor, :subject_type,
            :subject_id, :details, (SELECT prev_hash FROM head), (SELECT hash FROM head)
        )
        """
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
