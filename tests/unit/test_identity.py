"""Ids and time: the one id format and the one storage representation of time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.identity import Uuid7Factory, check_id, from_micros, to_micros


def test_ids_are_unique_time_ordered_uuid7_hex() -> None:
    factory = Uuid7Factory()
    ids = [factory.new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(check_id(i, field="id") == i for i in ids)
    assert all(i[12] == "7" for i in ids)
    assert ids == sorted(ids)  # strictly increasing within a millisecond too
    assert all(int(i[16], 16) >> 2 == 0b10 for i in ids)  # the RFC 9562 variant


def test_ids_increase_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    factory = Uuid7Factory()
    monkeypatch.setattr("time.time_ns", lambda: 1_800_000_000_000_000_000)
    first = factory.new_id()
    monkeypatch.setattr("time.time_ns", lambda: 1_700_000_000_000_000_000)
    second = factory.new_id()
    assert int(second, 16) == int(first, 16) + 1


def test_check_id_refuses_other_shapes() -> None:
    for bad in ["", "0" * 31, "G" * 32, "../" + "0" * 29]:
        with pytest.raises(InvalidInputError):
            check_id(bad, field="run_id")


def test_micros_round_trip_and_refuse_naive_times() -> None:
    moment = datetime(2026, 11, 24, 1, 2, 3, 456789, tzinfo=UTC)
    assert from_micros(to_micros(moment)) == moment
    assert to_micros(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    with pytest.raises(ValueError, match="naive"):
        to_micros(datetime(2026, 1, 1))  # noqa: DTZ001 - the naive time is the point
