"""The hash chain in isolation: sealing, and verification of intact and altered chains."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from lockgate.domain.audit import (
    GENESIS_HASH,
    AuditDraft,
    ChainHead,
    StoredEvent,
    canonical_details,
    seal,
    verify_chain,
)
from lockgate.domain.identity import Actor

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _chain(n: int) -> tuple[list[StoredEvent], ChainHead]:
    head = ChainHead(0, GENESIS_HASH)
    stored = []
    for i in range(n):
        draft = AuditDraft("run.started", Actor("user:a"), "run", f"r{i}", {"i": i, "k": [1, "x"]})
        event = seal(draft, head=head, event_id=f"{i:032x}", at=T0 + timedelta(seconds=i))
        stored.append(
            StoredEvent(
                event.seq,
                event.id,
                event.occurred_at,
                event.action,
                event.actor,
                event.subject_type,
                event.subject_id,
                canonical_details(event.details),
                event.prev_hash,
                event.hash,
            )
        )
        head = ChainHead(event.seq, event.hash)
    return stored, head


def test_an_intact_chain_verifies() -> None:
    events, head = _chain(5)
    assert verify_chain(events, head).ok
    assert verify_chain([], ChainHead(0, GENESIS_HASH)).ok


def test_each_alteration_names_the_first_bad_event() -> None:
    events, head = _chain(5)
    edited = [*events[:2], dataclasses.replace(events[2], actor="user:m"), *events[3:]]
    assert verify_chain(edited, head).first_bad_seq == 3
    retimed = [*events[:1], dataclasses.replace(events[1], occurred_at=T0), *events[2:]]
    assert verify_chain(retimed, head).first_bad_seq == 2
    deleted = events[:1] + events[2:]
    assert verify_chain(deleted, head).first_bad_seq == 2
    assert verify_chain(events[:4], head).first_bad_seq == 5
    swapped = [
        events[0],
        dataclasses.replace(events[2], seq=2),
        dataclasses.replace(events[1], seq=3),
        *events[3:],
    ]
    assert verify_chain(swapped, head).first_bad_seq == 2
    rehead = ChainHead(5, "0" * 64)
    assert not verify_chain(events, rehead).ok


def test_details_are_canonical() -> None:
    assert canonical_details({"b": 1, "a": ["é"]}) == '{"a":["é"],"b":1}'
