"""Ids, actors and time: the values every entity is stamped with, injected through protocols."""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import NewType, Protocol

from lockgate.domain.errors import InvalidInputError

__all__ = [
    "Actor",
    "Clock",
    "IdFactory",
    "SystemClock",
    "Uuid7Factory",
    "check_id",
    "from_micros",
    "to_micros",
]

Actor = NewType("Actor", str)
"""Who performs an action: a principal name such as `user:alice` or `local:alice`."""


class Clock(Protocol):
    """Tells the current time, always timezone-aware UTC."""

    def now(self) -> datetime: ...


class IdFactory(Protocol):
    """Makes new, unique, time-ordered ids (32 lowercase hex characters)."""

    def new_id(self) -> str: ...


class SystemClock:
    """The wall clock, truncated to microseconds (the storage resolution)."""

    def now(self) -> datetime:
        return from_micros(to_micros(datetime.now(UTC)))


class Uuid7Factory:
    """UUIDv7 (RFC 9562): 48-bit millisecond time, 12 bits of sub-millisecond time (the RFC's
    method 3), then random bits. Ids from one factory strictly increase, even within one clock
    tick or when the clock steps back (the last id plus one in the random bits)."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def new_id(self) -> str:
        nanos = time.time_ns()
        millis, fraction = divmod(nanos, 1_000_000)
        rand = int.from_bytes(os.urandom(8), "big")
        value = (millis & ((1 << 48) - 1)) << 80
        value |= 0x7 << 76  # version 7
        value |= (fraction * 4096 // 1_000_000) << 64  # rand_a: sub-millisecond time
        value |= 0b10 << 62  # RFC 9562 variant
        value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
        with self._lock:
            if value <= self._last:
                value = self._last + 1  # a tick's later id: version and variant bits hold
            self._last = value
        return f"{value:032x}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch: the one storage representation of time."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: Lockgate stores only timezone-aware UTC times")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    """The UTC datetime for microseconds since the Unix epoch (exact: no float on the way;
    about half the CPU of `datetime.fromtimestamp`, which counts on a 20,000-point history)."""
    return _EPOCH + timedelta(microseconds=micros)


_ID = re.compile(r"[0-9a-f]{32}")


def check_id(value: str, *, field: str) -> str:
    """An id as this system issues them: 32 lowercase hex characters."""
    if not _ID.fullmatch(value):
        raise InvalidInputError(f"{field} {value!r} is not an id (32 hex characters)", field=field)
    return value
