"""`lockgate audit verify` finds every kind of tampering done directly in the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from lockgate.domain.access import Caller
from lockgate.domain.audit import compute_hash
from lockgate.domain.identity import Actor, from_micros
from lockgate.domain.tracking import RunEnvironment
from lockgate.server.composition import Platform
from lockgate.store.sql.engine import create_engine_for

ALICE = Caller.local(Actor("user:alice"))


@pytest.fixture
def chained(platform: Platform, db_url: str) -> Iterator[sa.Engine]:
    """Five events in the chain, and a raw engine to tamper with."""
    platform.tracking.create_project(ALICE, "churn")
    run = platform.tracking.start_run(ALICE, "churn", "r1", {}, RunEnvironment()).run
    platform.tracking.log_params(ALICE, run.id, {"lr": "0.1"})
    platform.tracking.set_tags(ALICE, run.id, {"team": "a"})
    platform.tracking.end_run(ALICE, run.id, "finished")
    assert platform.audit.verify(ALICE).ok
    engine = create_engine_for(db_url)
    yield engine
    engine.dispose()


def _execute(engine: sa.Engine, sql: str, **params: object) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(sql), params)


def test_an_edited_event_is_named(platform: Platform, chained: sa.Engine) -> None:
    _execute(
        chained,
        "UPDATE audit_events SET details = :d WHERE seq = 3",
        d='{"keys":["lr","momentum"]}',
    )
    verdict = platform.audit.verify(ALICE)
    assert not verdict.ok
    assert verdict.first_bad_seq == 3
    assert "edited" in (verdict.reason or "")


def test_an_edited_actor_is_named(platform: Platform, chained: sa.Engine) -> None:
    _execute(chained, "UPDATE audit_events SET actor = 'user:mallory' WHERE seq = 2")
    assert platform.audit.verify(ALICE).first_bad_seq == 2


def test_a_deleted_event_is_named(platform: Platform, chained: sa.Engine) -> None:
    _execute(chained, "DELETE FROM audit_events WHERE seq = 2")
    verdict = platform.audit.verify(ALICE)
    assert not verdict.ok
    assert verdict.first_bad_seq == 2


def test_deleting_the_newest_event_is_caught_by_the_head(
    platform: Platform, chained: sa.Engine
) -> None:
    _execute(chained, "DELETE FROM audit_events WHERE seq = 5")
    verdict = platform.audit.verify(ALICE)
    assert not verdict.ok
    assert verdict.first_bad_seq == 5


def _forge(connection: sa.Connection, seq: int, prev_hash: str, event_id: str) -> None:
    """Insert an event at `seq` whose own hash is correct for its content."""
    at = 1_700_000_000_000_000
    forged = compute_hash(
        seq=seq,
        event_id=event_id,
        occurred_at=from_micros(at),
        action="model.created",
        actor="user:mallory",
        subject_type="model",
        subject_id="x",
        details_json="{}",
        prev_hash=prev_hash,
    )
    connection.execute(
        sa.text(
            "INSERT INTO audit_events (seq, id, occurred_at, action, actor, subject_type, "
            "subject_id, details, prev_hash, hash) VALUES (:seq, :id, :at, 'model.created', "
            "'user:mallory', 'model', 'x', '{}', :prev, :hash)"
        ),
        {"seq": seq, "id": event_id, "at": at, "prev": prev_hash, "hash": forged},
    )


def test_an_inserted_event_is_named(platform: Platform, chained: sa.Engine) -> None:
    # Make room at seq 3 (two passes: seq is unique) and forge a valid-looking event there.
    with chained.begin() as connection:
        rows = connection.execute(
            sa.text("SELECT seq, hash FROM audit_events ORDER BY seq DESC")
        ).all()
        for shift in (100, -99):
            for seq, _ in rows:
                if seq >= 3:
                    base = seq if shift == 100 else seq + 100
                    connection.execute(
                        sa.text("UPDATE audit_events SET seq = :n WHERE seq = :o"),
                        {"n": base + shift, "o": base},
                    )
        _forge(connection, 3, dict(rows)[2], "f" * 32)
    verdict = platform.audit.verify(ALICE)
    assert not verdict.ok
    assert verdict.first_bad_seq == 4


def test_an_event_appended_behind_the_heads_back_is_caught(
    platform: Platform, chained: sa.Engine
) -> None:
    with chained.begin() as connection:
        prev = connection.execute(sa.text("SELECT hash FROM audit_events WHERE seq = 5")).scalar()
        _forge(connection, 6, str(prev), "e" * 32)
    verdict = platform.audit.verify(ALICE)
    assert not verdict.ok
    assert verdict.first_bad_seq == 6


def test_reordered_events_are_named(platform: Platform, chained: sa.Engine) -> None:
    with chained.begin() as connection:
        connection.execute(sa.text("UPDATE audit_events SET seq = 100 WHERE seq = 3"))
        connection.execute(sa.text("UPDATE audit_events SET seq = 3 WHERE seq = 4"))
        connection.execute(sa.text("UPDATE audit_events SET seq = 4 WHERE seq = 100"))
    verdict = platform.audit.verify(ALICE)
    assert not verdict.ok
    assert verdict.first_bad_seq == 3
