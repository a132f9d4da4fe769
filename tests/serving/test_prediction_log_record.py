"""Prediction records: what they refuse, and how their inputs and outputs become JSON."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lockgate.serving.prediction_log import (
    UNENCODABLE_KEY,
    PredictionRecord,
    PredictionStatus,
    encode_json,
)


def _record(**changes: object) -> PredictionRecord:
    fields: dict[str, object] = {
        "prediction_id": "0" * 32,
        "model": "churn",
        "version": 1,
        "timestamp": datetime(2026, 11, 24, tzinfo=UTC),
        "latency_ms": 1.0,
        "inputs": {"x": [1]},
        "outputs": {"y": [0]},
    }
    fields.update(changes)
    return PredictionRecord(**fields)  # type: ignore[arg-type]


def test_a_record_refuses_naive_times_and_error_text_that_does_not_fit_its_status() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _record(timestamp=datetime(2026, 11, 24))  # noqa: DTZ001 - the naive time is the point
    with pytest.raises(ValueError, match="error text"):
        _record(status=PredictionStatus.ERROR)
    with pytest.raises(ValueError, match="error text"):
        _record(error="boom")
    failed = _record(status=PredictionStatus.ERROR, error="boom", outputs=None)
    assert failed.outputs is None


class _Tensor:
    def tolist(self) -> list[list[int]]:
        return [[1, 2], [3, 4]]


def test_encode_json_converts_common_types_and_keeps_nan() -> None:
    value = {
        "tensor": _Tensor(),
        "tuple": (1, 2),
        "set": {3},
        "bytes": b"\x00\xff",
        "day": date(2026, 11, 24),
        "price": Decimal("1.50"),
        "nan": math.nan,
        "text": "naïve ✓",
    }
    decoded = json.loads(encode_json(value))
    assert decoded["tensor"] == [[1, 2], [3, 4]]
    assert decoded["tuple"] == [1, 2]
    assert decoded["set"] == [3]
    assert decoded["bytes"] == "AP8="
    assert decoded["day"] == "2026-11-24"
    assert decoded["price"] == "1.50"
    assert math.isnan(decoded["nan"])
    assert decoded["text"] == "naïve ✓"


def test_encode_json_never_raises() -> None:
    cycle: dict[str, object] = {}
    cycle["self"] = cycle
    assert UNENCODABLE_KEY in json.loads(encode_json(cycle))
    assert UNENCODABLE_KEY in json.loads(encode_json({(1, 2): "tuple key"}))


def test_a_record_refuses_fields_of_the_wrong_type() -> None:
    # A record that exists can always be stored: nothing fails a batch at the sink later.
    for changes in [{"version": "3"}, {"version": 2**63}, {"latency_ms": "1"}, {"model": None}]:
        with pytest.raises(TypeError, match="wrong type"):
            _record(**changes)
