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
    assert [i[:12] for i in ids] == sorted(i[:12] for i in ids)


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
