"""Compatibility with NVIDIA's `tritonclient` without a server: its request bodies decode, and
the responses Lockgate encodes parse back to the same arrays, for every datatype, as JSON and
as binary tensor data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import tritonclient.http as triton
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lockgate.domain.registry import ColumnSpec, Signature
from lockgate.serving.protocol import (
    SIGNATURE_DTYPES,
    SignaturePlan,
    decode_infer_request,
    encode_infer_response,
)

Client = triton.InferenceServerClient

SIGNATURE_TYPE = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "bytes",
}

shapes = st.tuples(st.integers(1, 3), st.integers(1, 3))


def arrays_of(datatype: str, *, json: bool) -> st.SearchStrategy[Any]:
    """Arrays tritonclient can send: JSON carries neither NaN, infinities nor non-UTF-8 bytes."""
    if datatype == "BYTES":
        cells = st.text(max_size=8).map(str.encode) if json else st.binary(max_size=8)
        return hnp.arrays(np.object_, shapes, elements=cells)
    dtype = np.dtype(SIGNATURE_DTYPES[SIGNATURE_TYPE[datatype]])
    if dtype.kind == "f":
        elements = hnp.from_dtype(dtype, allow_nan=not json, allow_infinity=not json)
        return hnp.arrays(dtype, shapes, elements=elements)
    return hnp.arrays(dtype, shapes)


def plan_for(type_name: str, width: int) -> SignaturePlan:
    spec = (-1, width)
    return SignaturePlan(
        Signature((ColumnSpec("x", type_name, spec),), (ColumnSpec("y", type_name, spec),))
    )


def request_body(
    array: Any, datatype: str, *, binary_in: bool, binary_out: bool | None
) -> tuple[bytes, int | None]:
    tensor = triton.InferInput("x", list(array.shape), datatype)
    tensor.set_data_from_numpy(array, binary_data=binary_in)
    outputs = (
        None if binary_out is None else [triton.InferRequestedOutput("y", binary_data=binary_out)]
    )
    body, length = Client.generate_request_body(
        [tensor], outputs=outputs, request_id="rid", parameters={"tenant": "a"}
    )
    return body, length


def assert_same(got: Any, want: Any) -> None:
    assert got.shape == want.shape
    if want.dtype == object:
        assert got.tolist() == want.tolist()
    else:
        np.testing.assert_array_equal(got, want)


def round_trip(
    array: Any, datatype: str, type_name: str, *, binary_in: bool, binary_out: bool | None
) -> tuple[Any, Any]:
    plan = plan_for(type_name, array.shape[1])
    body, length = request_body(array, datatype, binary_in=binary_in, binary_out=binary_out)
    request = decode_infer_request(plan, body, length)
    assert request.id == "rid"
    assert request.parameters.get("tenant") == "a"
    decoded = request.inputs["x"]
    response = encode_infer_response(
        plan, {"y": decoded}, model_name="m", model_version="1", request=request
    )
    result = Client.parse_response_body(response.body, header_length=response.header_length)
    assert result.get_response()["model_name"] == "m"
    assert result.get_response()["id"] == "rid"
    return decoded, result.as_numpy("y")


@pytest.mark.parametrize("datatype", list(SIGNATURE_TYPE))
@pytest.mark.parametrize(
    ("binary_in", "binary_out"), [(False, False), (True, True), (False, None), (True, False)]
)
def test_every_datatype_round_trips_through_tritonclient(
    datatype: str, binary_in: bool, binary_out: bool | None
) -> None:
    json_somewhere = not binary_in or binary_out is False

    @settings(max_examples=12, deadline=None)
    @given(array=arrays_of(datatype, json=json_somewhere))
    def check(array: Any) -> None:
        type_name = SIGNATURE_TYPE[datatype]
        decoded, answered = round_trip(
            array, datatype, type_name, binary_in=binary_in, binary_out=binary_out
        )
        assert decoded.dtype == SIGNATURE_DTYPES[type_name]
        assert_same(decoded, array)
        if datatype == "BYTES" and binary_out is False:
            # tritonclient reads a JSON BYTES output as text.
            assert_same(answered, np.vectorize(bytes.decode, otypes=[object])(array))
        else:
            assert_same(answered, array)

    check()


@settings(max_examples=25, deadline=None)
@given(array=arrays_of("BYTES", json=True), binary_in=st.booleans(), binary_out=st.booleans())
def test_text_columns_travel_as_bytes(array: Any, binary_in: bool, binary_out: bool) -> None:
    decoded, answered = round_trip(
        array, "BYTES", "string", binary_in=binary_in, binary_out=binary_out
    )
    text = np.vectorize(bytes.decode, otypes=[object])(array)
    assert_same(decoded, text)
    assert_same(answered, text if not binary_out else array)


def test_binary_and_json_inputs_mix_in_one_request() -> None:
    plan = SignaturePlan(
        Signature(
            (
                ColumnSpec("a", "float32", (-1, 2)),
                ColumnSpec("b", "string"),
                ColumnSpec("c", "int64"),
            ),
            (ColumnSpec("a", "float32", (-1, 2)), ColumnSpec("c", "int64")),
        )
    )
    a = triton.InferInput("a", [2, 2], "FP32").set_data_from_numpy(
        np.array([[1, 2], [3, 4]], np.float32), binary_data=True
    )
    b = triton.InferInput("b", [2], "BYTES").set_data_from_numpy(
        np.array([b"x", b"y"], dtype=object), binary_data=False
    )
    c = triton.InferInput("c", [2], "INT64").set_data_from_numpy(
        np.array([5, 6], np.int64), binary_data=True
    )
    body, length = Client.generate_request_body([a, b, c])
    request = decode_infer_request(plan, body, length)
    assert request.binary_output  # tritonclient asks for binary outputs when it names none
    assert request.inputs["b"].tolist() == ["x", "y"]
    response = encode_infer_response(
        plan, {"a": request.inputs["a"], "c": request.inputs["c"]}, model_name="m", request=request
    )
    assert response.header_length is not None
    result = Client.parse_response_body(response.body, header_length=response.header_length)
    assert result.as_numpy("a").tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert result.as_numpy("c").tolist() == [5, 6]
