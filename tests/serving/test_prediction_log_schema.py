"""Batches become tables: one row per prediction, each column of the model typed as a list of
the prediction's rows, JSON text only for values Arrow has no type for, one table per model
version and layout, order kept."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from lockgate.serving.prediction_log import (
    JSON_ENCODING,
    SCHEMA_VERSION,
    PredictionBatch,
    PredictionRecord,
    PredictionStatus,
    batches_to_tables,
)
from lockgate.serving.protocol import MatrixColumns

_T0 = 1_790_000_000_000_000  # microseconds


def _batch(
    rows: list[int],
    inputs: Mapping[str, Any],
    outputs: Mapping[str, Any] | None,
    *,
    model: str = "churn",
    version: int = 3,
    start: int = 0,
) -> PredictionBatch:
    count = len(rows)
    return PredictionBatch(
        model=model,
        version=version,
        timestamp=_T0 + start,
        prediction_ids=[f"{start + n:032x}" for n in range(count)],
        latencies_ms=[0.5 + n for n in range(count)],
        request_ids=[f"r-{start + n}" if n % 2 == 0 else None for n in range(count)],
        rows=rows,
        inputs=inputs,
        outputs=outputs,
        error=None if outputs is not None else "ValueError: negative input",
    )


def test_a_batch_becomes_one_row_per_prediction_with_typed_lists_of_its_rows() -> None:
    batch = _batch(
        [2, 1],
        {
            "age": np.array([30.0, 41.5, 52.0]),
            "plan": np.array(["basic", "pro", "basic"], dtype=object),
            "active": np.array([True, False, True]),
            "visits": np.array([1, 2, 3], dtype=np.int32),
            "token": np.array([b"\x00", b"\xff", b"a"], dtype=object),
            "seen": np.array(["2026-11-24", "2026-11-25", "2026-11-26"], dtype="datetime64[D]"),
            "image": np.arange(12, dtype=np.uint8).reshape(3, 2, 2),
        },
        {"score": np.array([0.25, 0.5, 0.75], dtype=np.float32)},
    )
    [table] = batches_to_tables([batch])

    assert table.schema.metadata == {b"lockgate.schema": SCHEMA_VERSION.encode()}
    inputs = table.schema.field("inputs").type
    assert {inputs.field(i).name: str(inputs.field(i).type) for i in range(inputs.num_fields)} == {
        "age": "list<item: double>",
        "plan": "list<item: string>",
        "active": "list<item: bool>",
        "visits": "list<item: int32>",
        "token": "list<item: binary>",
        "seen": "list<item: date32[day]>",
        "image": "list<item: fixed_size_list<item: fixed_size_list<item: uint8>[2]>[2]>",
    }
    first, second = table.to_pylist()
    assert first["prediction_id"] == f"{0:032x}"
    assert first["timestamp"] == datetime.fromtimestamp(_T0 / 1e6, UTC)
    assert (first["model"], first["version"], first["status"], first["error"]) == (
        "churn",
        3,
        "ok",
        None,
    )
    assert (first["latency_ms"], second["latency_ms"]) == (0.5, 1.5)
    assert (first["request_id"], second["request_id"]) == ("r-0", None)
    assert first["inputs"]["age"] == [30.0, 41.5]
    assert second["inputs"]["age"] == [52.0]
    assert first["inputs"]["plan"] == ["basic", "pro"]
    assert first["inputs"]["token"] == [b"\x00", b"\xff"]
    assert second["inputs"]["image"] == [[[8, 9], [10, 11]]]
    assert first["outputs"] == {"score": [0.25, 0.5]}


def test_values_without_an_arrow_type_are_stored_as_json_text_per_prediction() -> None:
    mixed = np.array([{"a": 1}, [1, 2], None], dtype=object)
    complex_ = np.array([1 + 2j, 3j, 0j])
    nan = np.array([np.nan, np.inf, 1.0])
    [table] = batches_to_tables(
        [_batch([2, 1], {"mixed": mixed, "complex": complex_, "nan": nan}, {"y": nan})]
    )
    fields = table.schema.field("inputs").type
    assert fields.field("mixed").metadata == {
        key.encode(): value.encode() for key, value in JSON_ENCODING.items()
    }
    assert fields.field("complex").type == pa.string()
    first, second = table.to_pylist()
    assert json.loads(first["inputs"]["mixed"]) == [{"a": 1}, [1, 2]]
    assert json.loads(second["inputs"]["mixed"]) == [None]
    assert json.loads(first["inputs"]["complex"]) == ["(1+2j)", "3j"]
    # NaN and infinity stay numbers in a typed column.
    assert np.isnan(first["inputs"]["nan"][0])
    assert first["inputs"]["nan"][1] == np.inf


def test_columns_carried_as_one_matrix_are_stored_from_it() -> None:
    first = MatrixColumns(["a", "b"], np.array([[1.0, 2.0], [10.0, 20.0]]))
    second = MatrixColumns(["a", "b"], np.array([[3.0], [30.0]]))
    outputs = {"y": np.array([0, 1])}
    [table] = batches_to_tables(
        [_batch([2], first, outputs), _batch([1], second, {"y": np.array([1])}, start=1)]
    )
    assert [row["inputs"] for row in table.to_pylist()] == [
        {"a": [1.0, 2.0], "b": [10.0, 20.0]},
        {"a": [3.0], "b": [30.0]},
    ]


def test_failed_predictions_have_null_outputs_and_keep_their_place() -> None:
    x = {"x": np.array([1.0])}
    batches = [
        _batch([1], x, {"y": np.array([2.0])}, start=0),
        _batch([1], x, None, start=1),
        _batch([1], x, {"y": np.array([4.0])}, start=2),
    ]
    [table] = batches_to_tables(batches)
    assert table.column("status").to_pylist() == ["ok", "error", "ok"]
    assert table.column("error").to_pylist() == [None, "ValueError: negative input", None]
    assert table.column("outputs").to_pylist() == [{"y": [2.0]}, None, {"y": [4.0]}]
    assert table.column("inputs").to_pylist() == [{"x": [1.0]}] * 3

    [failed_only] = batches_to_tables([batches[1]])
    assert failed_only.schema.field("outputs").type == pa.null()
    assert failed_only.column("outputs").to_pylist() == [None]


def test_one_table_per_model_version_and_layout_in_order_of_first_appearance() -> None:
    def one(model: str, version: int, dtype: Any, start: int) -> PredictionBatch:
        inputs = {"x": np.array([start], dtype=dtype)}
        return _batch(
            [1], inputs, {"y": np.array([start])}, model=model, version=version, start=start
        )

    batches = [
        one("churn", 3, np.float64, 0),
        one("fraud", 1, np.float64, 1),
        one("churn", 3, np.float64, 2),
        one("churn", 4, np.float64, 3),
        one("churn", 3, np.int64, 4),  # another dtype: another table
        one("fraud", 1, np.float64, 5),
    ]
    tables = batches_to_tables(batches)
    assert [
        (t.column("model")[0].as_py(), t.column("version")[0].as_py(), t.num_rows) for t in tables
    ] == [("churn", 3, 2), ("fraud", 1, 2), ("churn", 4, 1), ("churn", 3, 1)]
    assert tables[0].column("prediction_id").to_pylist() == [f"{0:032x}", f"{2:032x}"]
    assert str(tables[3].schema.field("inputs").type) == "struct<x: list<item: int64>>"


def test_a_record_of_aligned_lists_is_rows_and_any_other_is_one_row_of_json() -> None:
    moment = datetime(2026, 11, 24, 12, tzinfo=UTC)
    aligned = PredictionRecord(
        "a" * 32, "churn", 3, moment, 1.0, {"t": [1.0, 2.5], "p": ["x", "y"]}, {"s": [0.1, 0.9]}
    )
    ragged = PredictionRecord(
        "b" * 32,
        "churn",
        3,
        moment,
        1.0,
        {"t": [1.0, 2.5], "n": 5},
        None,
        status=PredictionStatus.ERROR,
        error="boom",
    )
    first, second = batches_to_tables([PredictionBatch.of(aligned), PredictionBatch.of(ragged)])
    assert first.column("inputs").to_pylist() == [{"t": [1.0, 2.5], "p": ["x", "y"]}]
    assert first.column("outputs").to_pylist() == [{"s": [0.1, 0.9]}]
    [row] = second.to_pylist()
    assert {name: json.loads(text) for name, text in row["inputs"].items()} == {
        "t": [[1.0, 2.5]],
        "n": [5],
    }
    assert (row["status"], row["error"], row["outputs"]) == ("error", "boom", None)
    assert row["timestamp"] == moment


def test_a_batch_refuses_what_it_could_not_store() -> None:
    x = {"x": np.array([1.0, 2.0])}
    with pytest.raises(ValueError, match="one entry per row"):
        _batch([1], x, {"y": np.array([1.0])})
    with pytest.raises(ValueError, match="one row count per prediction"):
        PredictionBatch("m", 1, _T0, ["a"], [1.0], [None], [1, 1], x, None, "boom")
    with pytest.raises(ValueError, match="error text exactly when"):
        PredictionBatch("m", 1, _T0, ["a"], [1.0], [None], [2], x, None)
    with pytest.raises(ValueError, match="one id, latency and request id"):
        PredictionBatch("m", 1, _T0, [], [], [], [], x, None, "boom")
    with pytest.raises(TypeError, match="wrong type"):
        PredictionBatch("", 1, _T0, ["a"], [1.0], [None], [2], x, None, "boom")
    with pytest.raises(ValueError, match="matrix"):
        _batch([3], MatrixColumns(["a"], np.array([[1.0, 2.0]])), None)
