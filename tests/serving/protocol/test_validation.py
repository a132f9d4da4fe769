"""The casting rules and the checks of names, shapes and rows against a signature."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pytest

from lockgate.domain.errors import InvalidInputError, PayloadTooLargeError
from lockgate.domain.registry import ColumnSpec, Signature
from lockgate.serving.protocol import SignaturePlan, validate_columns
from lockgate.serving.protocol.casting import base64_bytes, cast_array, values_to_array
from lockgate.serving.protocol.validation import ColumnPlan, MatrixColumns
from tests.serving.protocol.plans import FEATURES, mixed_plan, open_plan, tabular_plan

ACCEPTED: list[tuple[str, object, Any]] = [
    ("float64", [1, 2], np.array([1.0, 2.0])),
    ("float64", [True, 2.5], np.array([1.0, 2.5])),
    ("float64", [1.5, None], np.array([1.5, np.nan])),
    ("float32", [0.1], np.array([0.1], dtype=np.float32)),
    ("float16", [1, 2], np.array([1, 2], dtype=np.float16)),
    ("float64", [2**64 - 1], np.array([float(2**64 - 1)])),
    ("int8", [-128, 127], np.array([-128, 127], dtype=np.int8)),
    ("int64", [True, 3], np.array([1, 3])),
    ("uint8", [0, 255], np.array([0, 255], dtype=np.uint8)),
    ("uint64", [1, 2**63], np.array([1, 2**63], dtype=np.uint64)),
    ("uint64", [2**64 - 1], np.array([2**64 - 1], dtype=np.uint64)),
    ("bool", [True, False], np.array([True, False])),
    ("string", ["a", "é"], np.array(["a", "é"], dtype=object)),
    ("bytes", ["aGk="], np.array([b"hi"], dtype=object)),
    (
        "datetime",
        ["2024-05-01T12:00:00Z", "2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00"],
        np.array(["2024-05-01T12:00:00"] * 3, dtype="datetime64[us]"),
    ),
]

REFUSED: list[tuple[str, object, str]] = [
    ("float64", ["1.5"], "text where float64 is declared"),
    ("float64", [1.5, "x"], "text where float64 is declared"),
    ("float64", [{"a": 1}], "nested values where float64"),
    ("float32", [1e300], "out of the range of float32"),
    ("float16", [70000], "out of the range of float16"),
    ("int64", [1.5], "where int64 is declared"),
    ("int64", [1.0], "where int64 is declared"),
    ("int64", [1, None], r"null where int64 is declared \(cell 1\)"),
    ("int8", [300], r"out of the range of int8 \[-128, 127\]"),
    ("uint8", [-1], "out of the range of uint8"),
    ("uint64", [-1, 2**63], "out of the range of uint64"),
    ("bool", [1, 0], "integers where bool is declared"),
    ("string", ["a", 1], "expected text; cell 1 is not"),
    ("string", [1.5], "expected text; cell 0 is not"),
    ("string", [None], "expected text"),
    ("bytes", ["not base64!"], "expected bytes; cell 0 is not"),
    ("datetime", ["yesterday"], "expected ISO 8601 datetimes"),
    ("datetime", [1700000000], "expected ISO 8601 datetimes"),
    ("float64", [[1.0], [1.0, 2.0]], "not a rectangular array"),
]


@pytest.mark.parametrize(("type_name", "values", "expected"), ACCEPTED)
def test_accepted_values_are_cast_to_the_signature_type(
    type_name: str, values: object, expected: Any
) -> None:
    array = values_to_array(values, type_name, "inputs.x", base64_bytes)
    assert array.dtype == expected.dtype
    if expected.dtype.kind == "f":
        np.testing.assert_array_equal(array, expected)
    else:
        assert array.tolist() == expected.tolist()


@pytest.mark.parametrize(("type_name", "values", "message"), REFUSED)
def test_refused_values_name_the_field(type_name: str, values: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        values_to_array(values, type_name, "inputs.x", base64_bytes)
    assert caught.value.field == "inputs.x"


def test_text_cells_stay_python_strings_and_bytes_decode_as_utf8() -> None:
    raw = np.array(["café".encode()], dtype=object)
    assert cast_array(raw, "string", "f").tolist() == ["café"]
    with pytest.raises(InvalidInputError, match="expected text"):
        cast_array(np.array([b"\xff"], dtype=object), "string", "f")


def test_datetimes_of_other_units_are_converted() -> None:
    days = np.array(["2024-05-01"], dtype="datetime64[D]")
    assert cast_array(days, "datetime", "f").dtype == np.dtype("datetime64[us]")
    assert cast_array(days, "datetime", "f").tolist() == [datetime(2024, 5, 1)]  # noqa: DTZ001


def test_open_columns_keep_their_inferred_type() -> None:
    assert values_to_array([1, 2], None, "f").dtype == np.int64
    assert values_to_array([1, None], None, "f").tolist()[0] == 1.0
    assert values_to_array(["a"], None, "f").dtype == object
    with pytest.raises(InvalidInputError, match="mixed, null or nested"):
        values_to_array([{"a": 1}], None, "f")


def test_a_plan_knows_its_fast_path() -> None:
    assert tabular_plan().matrix_type == "float64"
    assert tabular_plan().input_names == FEATURES
    assert mixed_plan().matrix_type is None
    text = SignaturePlan(Signature((ColumnSpec("a", "string"), ColumnSpec("b", "string")), ()))
    assert text.matrix_type is None
    assert open_plan().is_open
    with pytest.raises(ValueError, match="max_rows"):
        SignaturePlan(None, max_rows=0)


def test_shapes_follow_the_signature() -> None:
    tensor = ColumnPlan.of(ColumnSpec("x", "float64", (-1, 30)))
    assert tensor.check_shape(np.zeros((2, 30)), "f").shape == (2, 30)
    with pytest.raises(
        InvalidInputError, match=r"has shape \(2, 29\); the signature declares \(-1, 30\)"
    ):
        tensor.check_shape(np.zeros((2, 29)), "inputs[2].shape")
    scalar = ColumnPlan.of(ColumnSpec("y", "float64"))
    assert scalar.check_shape(np.zeros((3, 1)), "f").shape == (3,)
    with pytest.raises(InvalidInputError, match="at least one dimension"):
        scalar.check_shape(np.zeros(()), "f")
    fixed = ColumnPlan.of(ColumnSpec("z", "float64", (1, 2)))
    with pytest.raises(InvalidInputError, match="must have 1 rows, not 2"):
        fixed.check_shape(np.zeros((2, 2)), "f")
    empty_shape = ColumnPlan.of(ColumnSpec("w", "float64", ()))
    assert empty_shape.is_scalar


def _columns(**arrays: Any) -> dict[str, Any]:
    return {name: np.asarray(values) for name, values in arrays.items()}


def test_validate_columns_checks_names_types_shapes_and_rows() -> None:
    plan = mixed_plan()
    good = _columns(a=np.array(["x", "y"]), b=[1, 2], c=[[1, 2, 3], [4, 5, 6]])
    columns = validate_columns(plan, good)
    assert columns["a"].dtype == object
    assert columns["c"].shape == (2, 3)
    cases = [
        ({**good, "d": [1, 2]}, "inputs.d", "'d' is not an input"),
        ({"a": good["a"], "b": good["b"]}, "inputs", "missing input: c"),
        ({**good, "b": [1.5, 2.5]}, "inputs.b", "decimal numbers where int64"),
        ({**good, "c": [[1, 2], [3, 4]]}, "inputs.c", r"has shape \(2, 2\)"),
        ({**good, "b": np.array([1, 2, 3])}, "inputs.b", "has 3 rows, but 'a' has 2"),
    ]
    for arrays, field, message in cases:
        with pytest.raises(InvalidInputError, match=message) as caught:
            validate_columns(plan, _columns(**arrays))
        assert caught.value.field == field


def test_the_row_limit_is_a_payload_too_large_error() -> None:
    plan = tabular_plan(max_rows=3)
    arrays = {name: np.zeros(4) for name in FEATURES}
    with pytest.raises(PayloadTooLargeError, match="4 rows is more than the 3"):
        validate_columns(plan, arrays)
    with pytest.raises(InvalidInputError, match="no rows"):
        validate_columns(plan, {name: np.zeros(0) for name in FEATURES})


def test_an_open_plan_takes_what_comes() -> None:
    columns = validate_columns(open_plan(), _columns(anything=[[1, 2]], text=np.array(["a"])))
    assert columns["anything"].shape == (1, 2)
    assert columns["text"].dtype == object


def test_matrix_columns_keep_the_row_matrix() -> None:
    by_column = np.arange(6.0).reshape(3, 2)
    columns = MatrixColumns(("a", "b", "c"), by_column)
    assert columns.matrix.shape == (2, 3)
    np.testing.assert_array_equal(columns.matrix[:, 1], columns["b"])
    assert columns["b"].flags.c_contiguous
