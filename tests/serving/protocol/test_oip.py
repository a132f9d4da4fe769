"""Open Inference Protocol v2 requests and responses, JSON and binary tensor data."""

from __future__ import annotations

import struct
from http import HTTPStatus
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lockgate.domain.errors import (
    InvalidInputError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from lockgate.serving.protocol import (
    HEADER_LENGTH_HEADER,
    InferenceRequest,
    RequestedOutput,
    decode_infer_request,
    encode_infer_response,
    encode_model_metadata,
    encode_oip_error,
    encode_problem,
    encode_server_metadata,
)
from lockgate.serving.protocol.validation import MatrixColumns
from tests.serving.protocol.plans import (
    FEATURES,
    image_plan,
    mixed_plan,
    open_plan,
    tabular_plan,
)


def _body(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document)


def _per_column(rows: list[list[float]], **extra: Any) -> dict[str, Any]:
    return {
        "inputs": [
            {
                "name": name,
                "shape": [len(rows)],
                "datatype": "FP64",
                "data": [row[index] for row in rows],
                **extra,
            }
            for index, name in enumerate(FEATURES)
        ]
    }


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
tables = st.integers(1, 4).flatmap(
    lambda rows: st.lists(st.lists(finite, min_size=30, max_size=30), min_size=rows, max_size=rows)
)


@settings(max_examples=40, deadline=None)
@given(rows=tables)
def test_the_fast_path_decodes_like_the_general_path(rows: list[list[float]]) -> None:
    plan = tabular_plan()
    fast = decode_infer_request(plan, _body(_per_column(rows))).inputs
    general = decode_infer_request(plan, _body(_per_column(rows, parameters={}))).inputs
    matrix = decode_infer_request(
        plan,
        _body(
            {"inputs": [{"name": "x", "shape": [len(rows), 30], "datatype": "FP64", "data": rows}]}
        ),
    ).inputs
    assert isinstance(fast, MatrixColumns)
    assert isinstance(matrix, MatrixColumns)
    np.testing.assert_array_equal(fast.matrix, np.array(rows))
    for name in FEATURES:
        np.testing.assert_array_equal(fast[name], general[name])
        np.testing.assert_array_equal(fast[name], matrix[name])
        assert fast[name].dtype == np.float64


@settings(max_examples=30, deadline=None)
@given(rows=tables, datatype=st.sampled_from(["FP64", "FP32", "INT64"]))
def test_binary_tensors_per_column_decode_like_json_ones(
    rows: list[list[float]], datatype: str
) -> None:
    plan = tabular_plan()
    dtype = {"FP64": "<f8", "FP32": "<f4", "INT64": "<i8"}[datatype]
    matrix = np.array(rows).clip(-1e15, 1e15).round().astype(dtype)
    tensors = [
        ({"name": name, "shape": [len(rows)], "datatype": datatype}, matrix[:, index].tobytes())
        for index, name in enumerate(FEATURES)
    ]
    body, length = _binary_request(tensors)
    fast = decode_infer_request(plan, body, length).inputs
    assert isinstance(fast, MatrixColumns)
    tensors[0] = ({**tensors[0][0], "parameters": {"custom": 1}}, tensors[0][1])
    slow_body, slow_length = _binary_request(tensors)
    general = decode_infer_request(plan, slow_body, slow_length).inputs
    assert not isinstance(general, MatrixColumns)
    for index, name in enumerate(FEATURES):
        np.testing.assert_array_equal(fast[name], matrix[:, index].astype(np.float64))
        np.testing.assert_array_equal(fast[name], general[name])


def test_inputs_in_another_order_and_narrower_datatypes_are_accepted() -> None:
    plan = tabular_plan()
    document = {
        "inputs": [
            {"name": name, "shape": [1, 1], "datatype": "FP32", "data": [[0.5 + index]]}
            for index, name in reversed(list(enumerate(FEATURES)))
        ]
    }
    inputs = decode_infer_request(plan, _body(document)).inputs
    assert inputs["f0"].tolist() == [0.5]
    assert inputs["f29"].tolist() == [29.5]
    assert isinstance(inputs, MatrixColumns)
    assert inputs.matrix[0].tolist() == [0.5 + index for index in range(30)]


def test_mixed_columns_each_take_their_own_tensor() -> None:
    document = {
        "id": "req-1",
        "parameters": {"custom": 1},
        "inputs": [
            {"name": "a", "shape": [2], "datatype": "BYTES", "data": ["s1", "s2"]},
            {"name": "b", "shape": [2, 1], "datatype": "INT32", "data": [1, 2]},
            {"name": "c", "shape": [2, 3], "datatype": "INT64", "data": [[1, 2, 3], [4, 5, 6]]},
        ],
        "outputs": [
            {"name": "label"},
            {"name": "probability", "parameters": {"binary_data": True}},
        ],
    }
    request = decode_infer_request(mixed_plan(), _body(document))
    assert request.id == "req-1"
    assert request.parameters == {"custom": 1}
    assert request.inputs["a"].tolist() == ["s1", "s2"]
    assert request.inputs["b"].dtype == np.int64
    assert request.inputs["b"].shape == (2,)
    assert request.inputs["c"].tolist() == [[1, 2, 3], [4, 5, 6]]
    assert request.outputs == (RequestedOutput("label"), RequestedOutput("probability", True))


def test_a_model_with_one_tensor_input_takes_a_tensor_of_any_name() -> None:
    document = {
        "inputs": [
            {"name": "images", "shape": [1, 2, 2], "datatype": "UINT8", "data": [1, 2, 3, 4]}
        ]
    }
    inputs = decode_infer_request(image_plan(), _body(document)).inputs
    assert inputs["pixels"].tolist() == [[[1, 2], [3, 4]]]


def test_without_a_signature_tensors_keep_their_datatype() -> None:
    document = {
        "inputs": [
            {"name": "x", "shape": [2, 2], "datatype": "FP16", "data": [1, 2, 3, 4]},
            {"name": "t", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]},
        ]
    }
    inputs = decode_infer_request(open_plan(), _body(document)).inputs
    assert inputs["x"].dtype == np.float16
    assert inputs["x"].shape == (2, 2)
    assert inputs["t"].tolist() == [b"a", b"b"]


def _binary_request(
    tensors: list[tuple[dict[str, Any], bytes]], **document: Any
) -> tuple[bytes, int]:
    inputs = []
    for tensor, raw in tensors:
        parameters = {"binary_data_size": len(raw), **tensor.get("parameters", {})}
        inputs.append({**tensor, "parameters": parameters})
    header = orjson.dumps({**document, "inputs": inputs})
    return header + b"".join(raw for _, raw in tensors), len(header)


def test_binary_tensor_data_is_read_after_the_json_header() -> None:
    strings = b"".join(struct.pack("<I", len(s)) + s for s in (b"s1", b"s2"))
    body, length = _binary_request(
        [
            ({"name": "a", "shape": [2], "datatype": "BYTES"}, strings),
            ({"name": "b", "shape": [2], "datatype": "INT64"}, np.array([7, 8], "<i8").tobytes()),
            ({"name": "c", "shape": [2, 3], "datatype": "INT8"}, bytes(range(6))),
        ]
    )
    inputs = decode_infer_request(mixed_plan(), body, str(length).encode()).inputs
    assert inputs["a"].tolist() == ["s1", "s2"]
    assert inputs["b"].tolist() == [7, 8]
    assert inputs["c"].dtype == np.int64
    assert inputs["c"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert inputs["b"].flags["W"]  # numpy arrays from binary data own writable memory


def test_binary_bool_tensors_read_one_byte_per_element() -> None:
    body, length = _binary_request(
        [({"name": "flags", "shape": [3], "datatype": "BOOL"}, b"\x01\x00\x01")]
    )
    assert decode_infer_request(open_plan(), body, length).inputs["flags"].tolist() == [
        True,
        False,
        True,
    ]


def _fault(plan: Any, document: Any, header_length: Any = None) -> InvalidInputError:
    body = document if isinstance(document, bytes) else _body(document)
    with pytest.raises(InvalidInputError) as caught:
        decode_infer_request(plan, body, header_length)
    return caught.value


def _tensor(name: str = "f0", **fields: Any) -> dict[str, Any]:
    return {"name": name, "shape": [1], "datatype": "FP64", "data": [1.0], **fields}


FAULTS: list[tuple[Any, str, str]] = [
    (b"[1, 2]", "body", "a JSON object"),
    (b"{", "body", "not valid JSON"),
    ({"inputs": {}}, "inputs", "non-empty list"),
    ({"inputs": [_tensor(), "x"]}, "inputs[1]", "a tensor is an object"),
    ({"inputs": [_tensor(name="")]}, "inputs[0].name", "needs a name"),
    ({"inputs": [_tensor(), _tensor()]}, "inputs[1].name", "appears twice"),
    ({"inputs": [_tensor(datatype="BF16")]}, "inputs[0].datatype", "datatype must be one of"),
    ({"inputs": [_tensor(datatype=["FP64"])]}, "inputs[0].datatype", "datatype must be one of"),
    ({"inputs": [_tensor(shape=[-1])]}, "inputs[0].shape", "non-negative integers"),
    ({"inputs": [_tensor(shape=[])]}, "inputs[0].shape", "non-negative integers"),
    ({"inputs": [_tensor(shape=[True])]}, "inputs[0].shape", "non-negative integers"),
    ({"inputs": [{"name": "f0", "shape": [1], "datatype": "FP64"}]}, "inputs[0].data", "no data"),
    ({"inputs": [_tensor(parameters=[])]}, "inputs[0].parameters", "must be an object"),
    (
        {"inputs": [_tensor(parameters={"shared_memory_region": "r"})]},
        "inputs[0].parameters.shared_memory_region",
        "shared memory is not supported",
    ),
    (
        {"inputs": [_tensor(parameters={"binary_data_size": 8})]},
        "inputs[0].parameters.binary_data_size",
        "needs the Inference-Header-Content-Length header",
    ),
    (
        {"inputs": [_tensor(parameters={"binary_data_size": -8})]},
        "inputs[0].parameters.binary_data_size",
        "non-negative integer",
    ),
    ({"inputs": [_tensor()], "id": 7}, "id", "must be a string"),
    ({"inputs": [_tensor()], "parameters": []}, "parameters", "must be a JSON object"),
    (
        {"inputs": [_tensor()], "parameters": {"binary_data_output": 1}},
        "parameters.binary_data_output",
        "true or false",
    ),
]


@pytest.mark.parametrize(("document", "field", "message"), FAULTS)
def test_malformed_requests_name_the_field(document: Any, field: str, message: str) -> None:
    fault = _fault(open_plan(), document)
    assert fault.field == field
    assert message in fault.message


def test_inputs_that_break_the_signature_name_the_field() -> None:
    plan = mixed_plan()
    good = [
        {"name": "a", "shape": [1], "datatype": "BYTES", "data": ["s"]},
        {"name": "b", "shape": [1], "datatype": "INT64", "data": [1]},
        {"name": "c", "shape": [1, 3], "datatype": "INT64", "data": [1, 2, 3]},
    ]
    cases = [
        ([*good, {**good[1], "name": "zz"}], "inputs[3].name", "'zz' is not an input"),
        (good[:2], "inputs", "missing input: c"),
        (
            [good[0], {**good[1], "datatype": "FP64"}, good[2]],
            "inputs[1].datatype",
            "FP64 cannot carry input 'b' of type int64",
        ),
        (
            [good[0], {**good[1], "datatype": "BYTES", "data": ["1"]}, good[2]],
            "inputs[1].datatype",
            "BYTES cannot carry",
        ),
        (
            [{**good[0], "datatype": "INT64", "data": [1]}, good[1], good[2]],
            "inputs[0].datatype",
            "INT64 cannot carry",
        ),
        (
            [good[0], {**good[1], "data": [1, 2]}, good[2]],
            "inputs[1].data",
            "data holds 2 values; shape [1] needs 1",
        ),
        ([good[0], {**good[1], "data": ["1"]}, good[2]], "inputs[1].data", "text where int64"),
        (
            [good[0], {**good[1], "datatype": "INT8", "data": [300]}, good[2]],
            "inputs[1].data",
            "out of the range of int8",
        ),
        (
            [good[0], good[1], {**good[2], "shape": [1, 2], "data": [1, 2]}],
            "inputs[2].shape",
            "has shape (1, 2)",
        ),
        (
            [good[0], {**good[1], "shape": [2], "data": [1, 2]}, good[2]],
            "inputs[1].shape",
            "has 2 rows, but 'a' has 1",
        ),
    ]
    for inputs, field, message in cases:
        fault = _fault(plan, {"inputs": inputs})
        assert (fault.field, message in fault.message) == (field, True), fault.message


def test_a_29_wide_tensor_is_refused_for_a_30_column_model() -> None:
    document = {"inputs": [{"name": "x", "shape": [1, 29], "datatype": "FP64", "data": [0.0] * 29}]}
    fault = _fault(tabular_plan(), document)
    assert fault.field == "inputs[0].shape"
    assert "has shape [rows, 30]" in fault.message
    fault = _fault(
        tabular_plan(),
        {"inputs": [_tensor(datatype="BYTES", data=["x"]), *[_tensor(n) for n in FEATURES[1:]]]},
    )
    assert fault.field == "inputs[0].datatype"


def test_too_many_rows_is_payload_too_large() -> None:
    rows = [[0.0] * 30] * 4
    with pytest.raises(PayloadTooLargeError) as caught:
        decode_infer_request(tabular_plan(max_rows=3), _body(_per_column(rows)))
    assert caught.value.field == "inputs[0].shape"
    with pytest.raises(PayloadTooLargeError):
        decode_infer_request(tabular_plan(max_rows=3), _body(_per_column(rows, parameters={})))


def test_binary_framing_faults_name_the_field() -> None:
    body, length = _binary_request([({"name": "x", "shape": [2], "datatype": "FP32"}, b"\x00" * 8)])
    assert decode_infer_request(open_plan(), body, length).inputs["x"].tolist() == [0.0, 0.0]
    assert _fault(open_plan(), body + b"\x00", length).field == "body"
    assert _fault(open_plan(), body[:-1], length).field == "inputs[0].parameters.binary_data_size"
    for bad in (0, len(body) + 1, "x", b"-3"):
        assert _fault(open_plan(), body, bad).field == HEADER_LENGTH_HEADER
    wrong_size, wrong_length = _binary_request(
        [({"name": "x", "shape": [3], "datatype": "FP32"}, b"\x00" * 8)]
    )
    fault = _fault(open_plan(), wrong_size, wrong_length)
    assert "shape [3] of FP32 takes 12" in fault.message
    cut, cut_length = _binary_request(
        [({"name": "t", "shape": [1], "datatype": "BYTES"}, b"\x05\x00\x00\x00ab")]
    )
    assert "declares 5 bytes" in _fault(open_plan(), cut, cut_length).message
    extra, extra_length = _binary_request(
        [({"name": "t", "shape": [1], "datatype": "BYTES"}, b"\x01\x00\x00\x00a" * 2)]
    )
    assert "more than 1 BYTES" in _fault(open_plan(), extra, extra_length).message
    short, short_length = _binary_request(
        [({"name": "t", "shape": [1], "datatype": "BYTES"}, b"\x01\x00")]
    )
    assert "cut short" in _fault(open_plan(), short, short_length).message
    both, both_length = _binary_request(
        [({"name": "x", "shape": [2], "datatype": "FP32", "data": [1, 2]}, b"\x00" * 8)]
    )
    assert _fault(open_plan(), both, both_length).field == "inputs[0].data"


def test_requested_outputs_are_checked_against_the_signature() -> None:
    plan = tabular_plan()
    inputs = _per_column([[0.0] * 30])["inputs"]
    for outputs, field in [
        ({"name": "nope"}, "outputs[0].name"),
        ([{"name": "nope"}], "outputs[0].name"),
        ([{"name": "score"}, {"name": "score"}], "outputs[1].name"),
        (["score"], "outputs[0]"),
        (
            [{"name": "score", "parameters": {"binary_data": "yes"}}],
            "outputs[0].parameters.binary_data",
        ),
    ]:
        field_of = _fault(plan, {"inputs": inputs, "outputs": outputs}).field
        assert field_of == (field if outputs != {"name": "nope"} else "outputs")


def test_responses_are_json_unless_binary_data_is_asked_for() -> None:
    plan = mixed_plan()
    outputs = {
        "label": np.array(["cat", "dog"], dtype=object),
        "probability": np.array([0.25, 0.5], dtype=np.float32),
    }
    response = encode_infer_response(
        plan, outputs, model_name="m", model_version="3", request=InferenceRequest({}, id="r")
    )
    assert response.content_type == "application/json"
    assert response.header_length is None
    assert orjson.loads(response.body) == {
        "model_name": "m",
        "model_version": "3",
        "id": "r",
        "outputs": [
            {"name": "label", "datatype": "BYTES", "shape": [2], "data": ["cat", "dog"]},
            {"name": "probability", "datatype": "FP32", "shape": [2], "data": [0.25, 0.5]},
        ],
    }
    assert (b"content-length", str(len(response.body)).encode()) in response.headers

    request = InferenceRequest({}, outputs=(RequestedOutput("probability", True),))
    response = encode_infer_response(plan, outputs, model_name="m", request=request)
    assert response.content_type == "application/octet-stream"
    assert response.header_length is not None
    header = orjson.loads(response.body[: response.header_length])
    assert header["outputs"] == [
        {
            "name": "probability",
            "datatype": "FP32",
            "shape": [2],
            "parameters": {"binary_data_size": 8},
        }
    ]
    assert response.body[response.header_length :] == np.array([0.25, 0.5], "<f4").tobytes()
    assert (
        b"inference-header-content-length",
        str(response.header_length).encode(),
    ) in response.headers

    everything_binary = InferenceRequest(
        {},
        binary_output=True,
        outputs=(RequestedOutput("label", False), RequestedOutput("probability")),
    )
    header_length = encode_infer_response(
        plan, outputs, model_name="m", request=everything_binary
    ).header_length
    body = encode_infer_response(plan, outputs, model_name="m", request=everything_binary).body
    assert [o.get("data") for o in orjson.loads(body[:header_length])["outputs"]] == [
        ["cat", "dog"],
        None,
    ]


def test_response_outputs_in_every_representation() -> None:
    outputs = {
        "when": np.array(["2024-05-01T12:00:00"], dtype="datetime64[us]"),
        "raw": np.array([b"\xff\x01"], dtype=object),
        "text": np.array(["é"]),
        "wide": np.array([[1, 2]], dtype=">i4")[:, ::-1],
    }
    body = encode_infer_response(
        open_plan(), {k: v for k, v in outputs.items() if k != "raw"}, model_name="m"
    ).body
    assert [entry["data"] for entry in orjson.loads(body)["outputs"]] == [
        ["2024-05-01T12:00:00.000000Z"],
        ["é"],
        [2, 1],
    ]
    with pytest.raises(InvalidInputError, match="not UTF-8") as caught:
        encode_infer_response(open_plan(), outputs, model_name="m")
    assert caught.value.field == "outputs.raw"
    binary = encode_infer_response(
        open_plan(), outputs, model_name="m", request=InferenceRequest({}, binary_output=True)
    )
    assert binary.body.endswith(np.array([2, 1], "<i4").tobytes())
    with pytest.raises(InvalidInputError) as missing:
        encode_infer_response(
            open_plan(),
            outputs,
            model_name="m",
            request=InferenceRequest({}, outputs=(RequestedOutput("nope"),)),
        )
    assert missing.value.field == "outputs[0].name"


def test_metadata_bodies() -> None:
    assert orjson.loads(encode_server_metadata(version="1.2.3")) == {
        "name": "lockgate",
        "version": "1.2.3",
        "extensions": ["binary_tensor_data"],
    }
    metadata = orjson.loads(
        encode_model_metadata(
            mixed_plan(), name="m", versions=[1, "2"], platform="lockgate_sklearn"
        )
    )
    assert metadata == {
        "name": "m",
        "versions": ["1", "2"],
        "platform": "lockgate_sklearn",
        "inputs": [
            {"name": "a", "datatype": "BYTES", "shape": [-1]},
            {"name": "b", "datatype": "INT64", "shape": [-1]},
            {"name": "c", "datatype": "INT64", "shape": [-1, 3]},
        ],
        "outputs": [
            {"name": "label", "datatype": "BYTES", "shape": [-1]},
            {"name": "probability", "datatype": "FP32", "shape": [-1]},
        ],
    }
    assert (
        orjson.loads(encode_model_metadata(open_plan(), name="m", versions=[], platform="p"))[
            "inputs"
        ]
        == []
    )


def test_error_bodies() -> None:
    error = InvalidInputError("has shape (1, 29)", field="inputs[2].shape")
    assert orjson.loads(encode_oip_error(error)) == {"error": "inputs[2].shape: has shape (1, 29)"}
    assert orjson.loads(encode_oip_error("model not ready")) == {"error": "model not ready"}
    assert orjson.loads(encode_oip_error(InvalidInputError("bad"))) == {"error": "bad"}
    assert orjson.loads(encode_problem(error, status=422, request_id="abc")) == {
        "type": "about:blank",
        "title": HTTPStatus(422).phrase,
        "status": 422,
        "detail": "has shape (1, 29)",
        "code": "invalid_input",
        "field": "inputs[2].shape",
        "request_id": "abc",
    }
    media = UnsupportedMediaTypeError("no", field="Content-Type")
    assert orjson.loads(encode_problem(media, status=415))["code"] == "unsupported_media_type"
