"""MLflow's scoring protocol: the request formats MLflow documents, CSV bodies, predictions."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockgate.domain.errors import (
    InvalidInputError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from lockgate.domain.registry import ColumnSpec, Signature
from lockgate.serving.protocol import SignaturePlan, decode_invocations, encode_predictions
from lockgate.serving.protocol.csv_table import _read
from lockgate.serving.protocol.validation import MatrixColumns
from tests.serving.protocol.plans import FEATURES, image_plan, mixed_plan, open_plan, tabular_plan

JSON = "application/json"
ABC = SignaturePlan(
    Signature(tuple(ColumnSpec(name, "int64") for name in "abc"), (ColumnSpec("y", "float64"),))
)


def decode(plan: SignaturePlan, document: Any, content_type: str = JSON) -> dict[str, Any]:
    return decode_invocations(plan, orjson.dumps(document), content_type)


def as_lists(columns: dict[str, Any]) -> dict[str, Any]:
    return {name: array.tolist() for name, array in columns.items()}


# The request bodies of MLflow's documentation ("Deploy MLflow Model as a Local Inference
# Server", accepted input formats): one table, five spellings.
DOCUMENTED_TABLE = [
    {"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2, 3], [4, 5, 6]]}},
    {
        "dataframe_split": {
            "index": [0, 1],
            "columns": ["a", "b", "c"],
            "data": [[1, 2, 3], [4, 5, 6]],
        }
    },
    {"dataframe_records": [{"a": 1, "b": 2, "c": 3}, {"a": 4, "b": 5, "c": 6}]},
    {"instances": [{"a": 1, "b": 2, "c": 3}, {"a": 4, "b": 5, "c": 6}]},
    {"instances": [[1, 2, 3], [4, 5, 6]]},
    {"inputs": [[1, 2, 3], [4, 5, 6]]},
    {"inputs": {"a": [1, 4], "b": [2, 5], "c": [3, 6]}},
]


@pytest.mark.parametrize("document", DOCUMENTED_TABLE)
def test_every_documented_spelling_of_a_table_decodes_alike(document: dict[str, Any]) -> None:
    columns = decode(ABC, document)
    assert as_lists(columns) == {"a": [1, 4], "b": [2, 5], "c": [3, 6]}
    assert all(array.dtype == np.int64 for array in columns.values())
    assert isinstance(columns, MatrixColumns)
    assert columns.matrix.tolist() == [[1, 2, 3], [4, 5, 6]]


# MLflow's documented tensor-input examples, for a model with inputs a (string),
# b (int64) and c (int64, 3 wide).
TENSOR_EXAMPLES = [
    {
        "instances": [
            {"a": "s1", "b": 1, "c": [1, 2, 3]},
            {"a": "s2", "b": 2, "c": [4, 5, 6]},
            {"a": "s3", "b": 3, "c": [7, 8, 9]},
        ]
    },
    {"inputs": {"a": ["s1", "s2", "s3"], "b": [1, 2, 3], "c": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]}},
]


@pytest.mark.parametrize("document", TENSOR_EXAMPLES)
def test_documented_tensor_inputs(document: dict[str, Any]) -> None:
    columns = decode(mixed_plan(), document)
    assert as_lists(columns) == {
        "a": ["s1", "s2", "s3"],
        "b": [1, 2, 3],
        "c": [[1, 2, 3], [4, 5, 6], [7, 8, 9]],
    }
    assert columns["c"].shape == (3, 3)


def test_what_pandas_writes_decodes() -> None:
    frame = pd.DataFrame({"a": [1, 4], "b": [2, 5], "c": [3, 6]})
    split = orjson.loads(frame.to_json(orient="split"))
    records = orjson.loads(frame.to_json(orient="records"))
    assert as_lists(decode(ABC, {"dataframe_split": split})) == {
        "a": [1, 4],
        "b": [2, 5],
        "c": [3, 6],
    }
    assert as_lists(decode(ABC, {"dataframe_records": records}))["c"] == [3, 6]
    body = frame.to_csv(index=False).encode()
    assert as_lists(decode_invocations(ABC, body, "text/csv")) == {
        "a": [1, 4],
        "b": [2, 5],
        "c": [3, 6],
    }
    with pytest.raises(InvalidInputError, match="index=False") as caught:
        decode_invocations(ABC, frame.to_csv().encode(), "text/csv")
    assert caught.value.field == "body"


def test_single_input_models_take_a_bare_tensor() -> None:
    pixels = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    for document in ({"instances": pixels}, {"inputs": pixels}, {"inputs": {"pixels": pixels}}):
        assert decode(image_plan(), document)["pixels"].shape == (2, 2, 2)
    one = SignaturePlan(Signature((ColumnSpec("x", "float32"),), ()))
    assert decode(one, {"inputs": [1, 2, 3]})["x"].tolist() == [1.0, 2.0, 3.0]
    assert decode(one, {"inputs": [[1], [2]]})["x"].shape == (2,)
    assert decode(one, {"inputs": {"x": 1.5}})["x"].tolist() == [1.5]


def test_without_a_signature_columns_come_as_they_are() -> None:
    plan = open_plan()
    assert decode(plan, {"inputs": [[1, 2], [3, 4]]})["input"].shape == (2, 2)
    columns = decode(
        plan, {"dataframe_split": {"columns": ["n", "t"], "data": [[1, "x"], [2.5, "y"]]}}
    )
    assert columns["n"].dtype == np.float64
    assert columns["t"].tolist() == ["x", "y"]
    assert (
        decode(plan, {"dataframe_records": [{"n": 1, "m": None}, {"n": 2, "m": 1.5}]})[
            "m"
        ].tolist()[1]
        == 1.5
    )
    assert decode(plan, {"inputs": {"q": [True, False]}})["q"].dtype == np.bool_
    body = b"i,f,b,t\n1,1.5,true,x\n2,,false,y\n"
    inferred = decode_invocations(plan, body, "text/csv")
    assert [inferred[name].dtype.kind for name in "ifbt"] == ["i", "f", "b", "O"]


def test_csv_cells_follow_the_signature() -> None:
    plan = SignaturePlan(
        Signature(
            (
                ColumnSpec("f", "float32"),
                ColumnSpec("i", "uint8"),
                ColumnSpec("b", "bool"),
                ColumnSpec("s", "string"),
                ColumnSpec("raw", "bytes"),
                ColumnSpec("when", "datetime"),
            ),
            (),
        )
    )
    body = 'f,i,b,s,raw,when\n1.5,7,TRUE,"a, b",aGk=,2024-05-01T12:00:00Z\n,8,0,,,2024-05-01\n'
    columns = decode_invocations(plan, body.encode(), "text/csv; charset=utf-8")
    assert columns["f"].dtype == np.float32
    assert np.isnan(columns["f"][1])
    assert columns["i"].tolist() == [7, 8]
    assert columns["b"].tolist() == [True, False]
    assert columns["s"].tolist() == ["a, b", ""]
    assert columns["raw"].tolist() == [b"hi", b""]
    assert columns["when"].dtype == np.dtype("datetime64[us]")
    for bad, field in [
        ("f,i,b,s,raw,when\n1.5,300,true,a,,2024-05-01\n", "body.i"),
        ("f,i,b,s,raw,when\n1.5,3,maybe,a,,2024-05-01\n", "body.b"),
        ("f,i,b,s,raw,when\nx,3,true,a,,2024-05-01\n", "body.f"),
        ("f,i,b,s,raw,when\n1,3,true,a,!!,2024-05-01\n", "body.raw"),
        ("f,i,b,s,raw,zzz\n1,3,true,a,,2024-05-01\n", "body.zzz"),
        ("f,i,b,s,raw\n1,3,true,a,\n", "body"),
        ("f,i,b,s,raw,when\n1,3,true,a\n", "body"),
        ("f,f,b,s,raw,when\n", "body"),
        ("", "body"),
        ('f,i\n"unterminated', "body"),
    ]:
        with pytest.raises(InvalidInputError) as caught:
            decode_invocations(plan, bad.encode(), "text/csv")
        assert caught.value.field == field, bad
    tensor = SignaturePlan(Signature((ColumnSpec("x", "float64", (-1, 2)),), ()))
    with pytest.raises(InvalidInputError, match="cannot come as CSV"):
        decode_invocations(tensor, b"x\n1\n", "text/csv")


cells = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=',"\r\n'), max_size=5
)


@settings(max_examples=60, deadline=None)
@given(table=st.lists(st.lists(cells, min_size=2, max_size=2), min_size=1, max_size=4))
def test_unquoted_csv_reads_as_the_csv_module_reads_it(table: list[list[str]]) -> None:
    text = "".join(",".join(row) + "\n" for row in [["h1", "h2"], *table])
    expected = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    try:
        header, rows = _read(text.encode())
    except InvalidInputError:
        assert any(len(row) != 2 for row in expected[1:])
        return
    assert [header, *rows] == expected


def test_tabular_rows_take_the_fast_path_and_keep_nulls_as_nan() -> None:
    plan = tabular_plan()
    row = [float(index) for index in range(30)]
    columns = decode(
        plan, {"dataframe_split": {"columns": list(reversed(FEATURES)), "data": [row]}}
    )
    assert isinstance(columns, MatrixColumns)
    assert columns["f0"].tolist() == [29.0]
    assert columns.matrix[0].tolist() == list(reversed(row))
    with_null = decode(plan, {"dataframe_records": [{**dict.fromkeys(FEATURES, 1.0), "f3": None}]})
    assert np.isnan(with_null["f3"][0])
    csv_body = (",".join(FEATURES) + "\n" + ",".join(map(str, row)) + "\n").encode()
    assert decode_invocations(plan, csv_body, "text/csv")["f29"].tolist() == [29.0]


def fault(plan: SignaturePlan, document: Any) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        decode(plan, document)
    return caught.value


FAULTS: list[tuple[Any, str, str]] = [
    ([1, 2], "body", "exactly one of"),
    ({}, "body", "exactly one of"),
    ({"instances": [[1, 2, 3]], "inputs": [[1, 2, 3]]}, "body", "exactly one of"),
    ({"inputs": [[1, 2, 3]], "params": {"temperature": 1}}, "params", "not supported"),
    ({"inputs": [[1, 2, 3]], "signature_name": "x"}, "signature_name", "unknown key"),
    ({"dataframe_split": [[1, 2, 3]]}, "dataframe_split", "columns and data"),
    (
        {"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2, 3]], "dtype": 1}},
        "dataframe_split.dtype",
        "unknown key",
    ),
    (
        {"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2]]}},
        "dataframe_split.columns",
        "missing input: c",
    ),
    (
        {"dataframe_split": {"columns": ["a", "b", "z"], "data": [[1, 2, 3]]}},
        "dataframe_split.columns",
        "'z' is not an input",
    ),
    (
        {"dataframe_split": {"columns": ["a", "a", "b"], "data": [[1, 2, 3]]}},
        "dataframe_split.columns",
        "appears twice",
    ),
    (
        {"dataframe_split": {"columns": ["a", 1], "data": [[1, 2]]}},
        "dataframe_split.columns",
        "column names",
    ),
    (
        {"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2, 3], [4, 5]]}},
        "dataframe_split.data[1]",
        "row 1 must be a list of 3",
    ),
    (
        {"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2.5, 3]]}},
        "dataframe_split.data.b",
        "decimal numbers where int64",
    ),
    (
        {"dataframe_split": {"columns": ["a", "b", "c"], "data": {"x": 1}}},
        "dataframe_split.data",
        "list of rows",
    ),
    (
        {"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2, 3]], "index": [0, 1]}},
        "dataframe_split.index",
        "one label per row",
    ),
    ({"dataframe_records": []}, "dataframe_records", "non-empty list"),
    (
        {"dataframe_records": [{"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 2}]},
        "dataframe_records[1]",
        "record 1 lacks c",
    ),
    (
        {"dataframe_records": [{"a": 1, "b": 2, "c": 3, "d": 4}]},
        "dataframe_records[0].d",
        "'d' is not an input",
    ),
    (
        {"dataframe_records": [{"a": 1, "b": 2, "c": 3}, 7]},
        "dataframe_records[1]",
        "must be an object",
    ),
    (
        {"dataframe_records": [{"a": 1, "b": 2, "c": "3"}]},
        "dataframe_records.c",
        "text where int64",
    ),
    ({"instances": [[1, 2, 3], [1, 2]]}, "instances[1]", "row 1 must be a list of 3"),
    ({"instances": []}, "instances", "no rows"),
    ({"inputs": {"a": [1], "b": [2], "z": [3]}}, "inputs.z", "'z' is not an input"),
    ({"inputs": {"a": [1], "b": [2]}}, "inputs", "missing input: c"),
    ({"inputs": {"a": [1], "b": [2], "c": [3, 4]}}, "inputs.c", "has 2 rows, but 'a' has 1"),
    ({"inputs": {}}, "inputs", "no input columns"),
    ({"inputs": "abc"}, "inputs", "list of rows"),
]


@pytest.mark.parametrize(("document", "field", "message"), FAULTS)
def test_faults_name_the_field(document: Any, field: str, message: str) -> None:
    error = fault(ABC, document)
    assert (error.field, message in error.message) == (field, True), error.message


def test_tensor_faults_name_the_field() -> None:
    assert fault(mixed_plan(), {"instances": [["s1", 1, [1, 2, 3]]]}).field == "instances"
    assert (
        fault(mixed_plan(), {"inputs": {"a": ["s"], "b": [1], "c": [[1, 2]]}}).field == "inputs.c"
    )
    assert fault(image_plan(), {"inputs": [1, 2]}).field == "inputs"
    open_fault = fault(open_plan(), {"dataframe_records": [{}]})
    assert open_fault.field == "dataframe_records[0]"


def test_media_types() -> None:
    body = orjson.dumps({"inputs": [[1, 2, 3]]})
    assert decode_invocations(ABC, body, b"application/json; charset=UTF-8")["a"].tolist() == [1]
    for content_type in (
        None,
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
        "text/csv; header=present",
    ):
        with pytest.raises(UnsupportedMediaTypeError) as caught:
            decode_invocations(ABC, body, content_type)
        assert caught.value.field == "Content-Type"


def test_too_many_rows_is_payload_too_large() -> None:
    plan = SignaturePlan(ABC.signature, max_rows=2)
    for document in (
        {"instances": [[1, 2, 3]] * 3},
        {"dataframe_records": [{"a": 1, "b": 2, "c": 3}] * 3},
        {"inputs": {"a": [1] * 3, "b": [1] * 3, "c": [1] * 3}},
    ):
        with pytest.raises(PayloadTooLargeError):
            decode(plan, document)
    with pytest.raises(PayloadTooLargeError):
        decode_invocations(plan, b"a,b,c\n1,2,3\n1,2,3\n1,2,3\n", "text/csv")


def test_predictions_like_mlflow() -> None:
    single = encode_predictions(tabular_plan(), {"score": np.array([0.5, np.nan])})
    assert orjson.loads(single) == {"predictions": [0.5, None]}
    tensor = encode_predictions(open_plan(), {"p": np.array([[0.25, 0.75]], dtype=np.float32)})
    assert orjson.loads(tensor) == {"predictions": [[0.25, 0.75]]}
    several = encode_predictions(
        mixed_plan(),
        {
            "probability": np.array([0.5, 0.25], dtype=np.float32),
            "label": np.array(["cat", "dog"], dtype=object),
        },
    )
    assert orjson.loads(several) == {
        "predictions": [{"label": "cat", "probability": 0.5}, {"label": "dog", "probability": 0.25}]
    }
    other = encode_predictions(
        open_plan(),
        {
            "raw": np.array([b"hi"], dtype=object),
            "when": np.array(["2024-05-01T12:00:00"], dtype="datetime64[us]"),
        },
    )
    assert orjson.loads(other) == {
        "predictions": [{"raw": "aGk=", "when": "2024-05-01T12:00:00.000000Z"}]
    }
    assert orjson.loads(encode_predictions(open_plan(), {"big": np.array([1], dtype=">i8")})) == {
        "predictions": [1]
    }
