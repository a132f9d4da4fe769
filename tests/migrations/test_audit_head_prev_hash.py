"""Migration 0010 on databases with an audit chain from before it: the head's new prev_hash is
the last event's (GENESIS_HASH for an empty chain), and appends after the upgrade, sealed in
SQL on PostgreSQL, continue the chain, which verifies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from lockgate.domain.audit import (
    GENESIS_HASH,
    AuditDraft,
    ChainHead,
    canonical_details,
    seal,
    verify_chain,
)
from lockgate.domain.identity import Actor, to_micros
from lockgate.store.sql import SqlMetadataStore, upgrade
from tests.migrations.conftest import UpgradeTo

T0 = datetime(2026, 1, 2, tzinfo=UTC)


def _write_chain_as_before(engine: sa.Engine, length: int) -> ChainHead:
    """Events and head as the Python append wrote them before revision 0010."""
    head = ChainHead(0, GENESIS_HASH)
    with engine.begin() as connection:
        for index in range(length):
            draft = AuditDraft("run.started", Actor("user:zoë"), "run", f"r{index}", {"i": "é"})
            event = seal(draft, head=head, event_id=f"{index:032x}", at=T0 + timedelta(index))
            connection.execute(
                sa.text(
                    "INSERT INTO audit_events (seq, id, occurred_at, action, actor, "
                    "subject_type, subject_id, details, prev_hash, hash) VALUES (:seq, :id, "
                    ":at, :action, :actor, :type, :subject, :details, :prev_hash, :hash)"
                ),
                {
                    "seq": event.seq,
                    "id": event.id,
                    "at": to_micros(event.occurred_at),
                    "action": event.action,
                    "actor": event.actor,
                    "type": event.subject_type,
                    "subject": event.subject_id,
                    "details": canonical_details(event.details),
                    "prev_hash": event.prev_hash,
                    "hash": event.hash,
                },
            )
            head = ChainHead(event.seq, event.hash)
        connection.execute(
            sa.text("UPDATE audit_head SET seq = :seq, hash = :hash"),
            {"seq": head.seq, "hash": head.hash},
        )
    return head


@pytest.mark.parametrize("length", [0, 1, 3])
def test_the_head_takes_the_last_events_prev_hash(
    empty_db_url: str, engine: sa.Engine, upgrade_to: UpgradeTo, length: int
) -> None:
    upgrade_to(engine, "0009")
    head = _write_chain_as_before(engine, length)
    upgrade(empty_db_url)
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT seq, prev_hash, hash FROM audit_head")).one()
        last = connection.execute(
            sa.text("SELECT prev_hash FROM audit_events WHERE seq = :seq"), {"seq": length}
        ).scalar()
    assert tuple(row) == (head.seq, last or GENESIS_HASH, head.hash)

    store = SqlMetadataStore.from_url(empty_db_url)
    try:
        with store.unit_of_work() as uow:
            draft = AuditDraft("run.ended", Actor("user:zoë"), "run", "r", {"status": "✓"})
            uow.audit.append(draft, event_id="f" * 32, at=T0)
            uow.commit()
        with store.unit_of_work(read_only=True) as uow:
            verdict = verify_chain(uow.audit.stored_events(), uow.audit.head())
            (appended,) = uow.audit.list_events(length, 10)
    finally:
        store.dispose()
    assert (verdict.ok, verdict.checked) == (True, length + 1)
    assert (appended.seq, appended.prev_hash) == (length + 1, head.hash)
