"""Signatures inferred from examples, and examples turned into a predictor's columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.registry import TENSOR_TYPES, ColumnSpec, Signature
from lockgate.serving.protocol.datatypes import SIGNATURE_DTYPES
from lockgate.serving.signature import columns_from_example, infer_signature, numpy_dtype

NUMERIC = st.sampled_from(sorted(TENSOR_TYPES - {"string", "bytes", "datetime"}))


@given(
    type_name=NUMERIC,
    shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4),
    data=st.data(),
)
def test_a_numpy_array_is_one_column_of_its_dtype_and_trailing_shape(
    type_name: str, shape: tuple[int, ...], data: st.DataObject
) -> None:
    array = data.draw(hnp.arrays(numpy_dtype(type_name), shape))
    signature = infer_signature(array, array)
    assert signature.inputs == (ColumnSpec("input", type_name, (-1, *shape[1:])),)
    assert signature.outputs == (ColumnSpec("prediction", type_name, (-1, *shape[1:])),)
    columns = columns_from_example(array, signature)
    assert list(columns) == ["input"]
    assert columns["input"].dtype == array.dtype
    np.testing.assert_array_equal(columns["input"], array)


def test_every_signature_type_has_the_numpy_dtype_the_server_casts_to() -> None:
    dtypes = {name: numpy_dtype(name) for name in TENSOR_TYPES}
    assert dtypes == dict(SIGNATURE_DTYPES)
    assert dtypes["string"] == dtypes["bytes"] == np.dtype(object)
    assert numpy_dtype("datetime") == np.dtype("datetime64[us]")
    with pytest.raises(InvalidInputError, match="not a signature type"):
        numpy_dtype("complex64")


def test_a_dataframe_is_one_scalar_column_per_column() -> None:
    frame = pd.DataFrame(
        {
            "tenure": np.array([3, 40], dtype=np.int32),
            "charges": [10.5, 20.25],
            "plan": ["basic", "pro"],
            "active": [True, False],
            "since": pd.to_datetime(["2024-01-01", "2024-02-01"]).tz_localize("Europe/Paris"),
            "segment": pd.Categorical(["a", "b"]),
            "visits": pd.array([1, 2], dtype="Int64"),
        }
    )
    signature = infer_signature(frame)
    assert [(c.name, c.type, c.shape) for c in signature.inputs] == [
        ("tenure", "int32", (-1,)),
        ("charges", "float64", (-1,)),
        ("plan", "string", (-1,)),
        ("active", "bool", (-1,)),
        ("since", "datetime", (-1,)),
        ("segment", "string", (-1,)),
        ("visits", "int64", (-1,)),
    ]
    assert signature.outputs == ()
    columns = columns_from_example(frame, signature)
    assert columns["plan"].dtype == object
    assert columns["plan"].tolist() == ["basic", "pro"]
    assert columns["since"][0] == np.datetime64("2023-12-31T23:00:00", "us")  # in UTC
    assert columns["visits"].dtype == np.int64


def test_a_dict_and_an_arrow_table_name_their_columns() -> None:
    from_dict = infer_signature({"x": np.zeros((3, 2), np.float32), "id": [1, 2, 3]})
    assert from_dict.inputs == (
        ColumnSpec("x", "float32", (-1, 2)),
        ColumnSpec("id", "int64", (-1,)),
    )
    table = pa.table(
        {
            "id": pa.array([1, 2], pa.int16()),
            "text": ["a", "b"],
            "blob": pa.array([b"x", b"y"]),
            "vector": pa.array([[1.0, 2.0], [3.0, 4.0]], pa.list_(pa.float32(), 2)),
            "at": pa.array([0, 1_000], pa.timestamp("ms")),
        }
    )
    signature = infer_signature(table)
    assert signature == infer_signature(table.to_batches()[0])
    assert [(c.type, c.shape) for c in signature.inputs] == [
        ("int16", (-1,)),
        ("string", (-1,)),
        ("bytes", (-1,)),
        ("float32", (-1, 2)),
        ("datetime", (-1,)),
    ]
    columns = columns_from_example(table, signature)
    np.testing.assert_array_equal(columns["vector"], [[1.0, 2.0], [3.0, 4.0]])
    assert columns["at"][1] == np.datetime64(1_000_000, "us")
    assert columns["blob"].tolist() == [b"x", b"y"]


def test_an_output_frame_or_dict_names_the_outputs() -> None:
    x = np.zeros((2, 3))
    assert [c.name for c in infer_signature(x, {"label": [1, 2], "p": x}).outputs] == [
        "label",
        "p",
    ]
    assert infer_signature(x, pd.Series([0.5, 0.1])).outputs == (
        ColumnSpec("prediction", "float64", (-1,)),
    )


def test_examples_match_scalar_columns_and_tensors_both_ways() -> None:
    matrix = np.arange(6.0).reshape(3, 2)
    scalars = Signature((ColumnSpec("a", "float64"), ColumnSpec("b", "float32")), ())
    split = columns_from_example(matrix, scalars)
    np.testing.assert_array_equal(split["b"], [1.0, 3.0, 5.0])
    assert split["b"].dtype == np.float32
    tensor = Signature((ColumnSpec("features", "float64", (-1, 2)),), ())
    stacked = columns_from_example(pd.DataFrame({"a": [0.0, 2.0], "b": [1.0, 3.0]}), tensor)
    np.testing.assert_array_equal(stacked["features"], [[0.0, 1.0], [2.0, 3.0]])


@pytest.mark.parametrize(
    ("example", "signature", "message"),
    [
        (
            {"a": [1.0]},
            Signature((ColumnSpec("b", "float64"), ColumnSpec("c", "float64")), ()),
            "does not give the signature's inputs b, c",
        ),
        (
            np.zeros((2, 3)),
            Signature((ColumnSpec("x", "float64", (-1, 4)),), ()),
            r"has shape \(2, 3\), the signature \(-1, 4\)",
        ),
        (
            {"n": [1.0, np.nan]},
            Signature((ColumnSpec("n", "int64"),), ()),
            "missing or infinite values",
        ),
        (
            {"n": ["one", "two"]},
            Signature((ColumnSpec("n", "int64"),), ()),
            "does not convert to int64",
        ),
        (
            {"a": [1, 2], "b": [1]},
            Signature((ColumnSpec("a", "int64"), ColumnSpec("b", "int64")), ()),
            "differ in length",
        ),
    ],
)
def test_an_example_that_does_not_fit_the_signature_is_refused(
    example: object, signature: Signature, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as refused:
        columns_from_example(example, signature)
    assert (refused.value.field or "").startswith("input_example")


@pytest.mark.parametrize(
    ("example", "message"),
    [
        (np.zeros(2, dtype=np.complex64), "dtype complex64 have no signature type"),
        (np.float64(1.0), "needs a batch dimension"),
        ({1, 2}, "not set"),
        ({}, "has no columns"),
    ],
)
def test_examples_without_a_signature_are_refused(example: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as refused:
        infer_signature(example)
    assert refused.value.field == "input_example"
