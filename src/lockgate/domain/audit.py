"""The audit log: events sealed into a sha256 hash chain, and the check that finds tampering.

Each event's hash covers its own fields and the previous event's hash, so an edit, a
deletion, an insertion or a reordering breaks the chain at the first altered event. The
chain head (the last sequence number and hash) is kept beside the events, so removing the
newest events is caught too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from lockgate.domain.identity import Actor, to_micros

__all__ = [
    "GENESIS_HASH",
    "AuditDraft",
    "AuditEvent",
    "ChainHead",
    "ChainVerdict",
    "JsonValue",
    "StoredEvent",
    "encode_hashed_fields",
    "seal",
    "verify_chain",
]

JsonValue: TypeAlias = (
    str | int | float | bool | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
)

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditDraft:
    """What a service records about one mutation, before the store seals it into the chain."""

    action: str
    actor: Actor
    subject_type: str
    subject_id: str
    details: Mapping[str, JsonValue]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """A sealed audit event: its place in the chain, its content and both hashes."""

    seq: int
    id: str
    occurred_at: datetime
    action: str
    actor: Actor
    subject_type: str
    subject_id: str
    details: Mapping[str, JsonValue]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last sealed event's sequence number and hash (0 and GENESIS_HASH when empty)."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class ChainVerdict:
    """The outcome of a verification: ok, how many events were checked, and the first bad one."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


def canonical_details(details: Mapping[str, JsonValue]) -> str:
    """Details as canonical JSON (sorted keys, no spaces): the stored and hashed form."""
    return json.dumps(
        details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def encode_hashed_fields(
    *,
    event_id: str,
    occurred_at: datetime,
    action: str,
    actor: str,
    subject_type: str,
    subject_id: str,
    details_json: str,
) -> bytes:
    """An event's own fields as they sit in its hashed JSON array, between its seq and its
    prev_hash (with the comma before them), in UTF-8.

    The hashed text is `[seq,<fields>,"prev_hash"]`: a store that seals events in its
    database puts these bytes between the seq and the prev_hash it reads there under its
    lock, as `compute_hash` does (a hex prev_hash needs no JSON escaping).
    """
    members: list[JsonValue] = [
        event_id,
        to_micros(occurred_at),
        action,
        actor,
        subject_type,
        subject_id,
        details_json,
    ]
    return ("," + _json(members)[1:-1]).encode()  # the members, without the brackets


def compute_hash(
    *,
    seq: int,
    event_id: str,
    occurred_at: datetime,
    action: str,
    actor: str,
    subject_type: str,
    subject_id: str,
    details_json: str,
    prev_hash: str,
) -> str:
    """The sha256 over an event's fields and its predecessor's hash: of the compact JSON
    array `[seq, event_id, occurred_at (micros), action, actor, subject_type, subject_id,
    details_json, prev_hash]`, non-ASCII characters as they are, in UTF-8."""
    fields = encode_hashed_fields(
        event_id=event_id,
        occurred_at=occurred_at,
        action=action,
        actor=actor,
        subject_type=subject_type,
        subject_id=subject_id,
        details_json=details_json,
    )
    body = b"".join((b"[", _json(seq).encode(), fields, b",", _json(prev_hash).encode(), b"]"))
    return hashlib.sha256(body).hexdigest()


def _json(value: JsonValue) -> str:
    # A JSON array's members are encoded exactly as they are alone: joined by the array's
    # separator they give the array's text.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def seal(draft: AuditDraft, *, head: ChainHead, event_id: str, at: datetime) -> AuditEvent:
    """The event that follows `head` in the chain."""
    seq = head.seq + 1
    digest = compute_hash(
        seq=seq,
        event_id=event_id,
        occurred_at=at,
        action=draft.action,
        actor=draft.actor,
        subject_type=draft.subject_type,
        subject_id=draft.subject_id,
        details_json=canonical_details(draft.details),
        prev_hash=head.hash,
    )
    return AuditEvent(
        seq,
        event_id,
        at,
        draft.action,
        draft.actor,
        draft.subject_type,
        draft.subject_id,
        draft.details,
        head.hash,
        digest,
    )


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event exactly as read back from storage, details still as their stored JSON text."""

    seq: int
    id: str
    occurred_at: datetime
    action: str
    actor: str
    subject_type: str
    subject_id: str
    details_json: str
    prev_hash: str
    hash: str

    def content_hash(self) -> str:
        """The hash its content gives: equal to `hash` unless the event was tampered with."""
        return compute_hash(
            seq=self.seq,
            event_id=self.id,
            occurred_at=self.occurred_at,
            action=self.action,
            actor=self.actor,
            subject_type=self.subject_type,
            subject_id=self.subject_id,
            details_json=self.details_json,
            prev_hash=self.prev_hash,
        )


def verify_chain(events: Iterable[StoredEvent], head: ChainHead) -> ChainVerdict:
    """Walk the events in sequence order and name the first one that breaks the chain."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in events:
        if event.seq != expected_seq:
            return ChainVerdict(
                False,
                checked,
                min(event.seq, expected_seq),
                f"sequence jumps from {expected_seq - 1} to {event.seq}: "
                "events were deleted or inserted",
            )
        if event.prev_hash != expected_prev:
            return ChainVerdict(
                False,
                checked,
                event.seq,
                "prev_hash does not match the previous event: the chain was "
                "reordered or an event was replaced",
            )
        if event.content_hash() != event.hash:
            return ChainVerdict(
                False,
                checked,
                event.seq,
                "hash does not match the event's content: the event was edited",
            )
        checked += 1
        expected_prev = event.hash
        expected_seq += 1
    if head.seq != checked or head.hash != expected_prev:
        if head.seq > checked:
            first_bad = checked + 1  # events the head knows of are gone
        elif head.seq < checked:
            first_bad = head.seq + 1  # events were appended behind the head's back
        else:
            first_bad = head.seq  # the head itself was altered
        return ChainVerdict(
            False,
            checked,
            first_bad,
            f"the chain head says {head.seq} events ending in {head.hash[:12]}, but "
            f"{checked} events end in {expected_prev[:12]}: events were deleted or appended "
            "outside Lockgate, or the head was altered",
        )
    return ChainVerdict(True, checked)
