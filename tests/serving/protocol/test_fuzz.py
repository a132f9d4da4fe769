"""Decoders fed random bytes and random JSON raise InvalidInputError and nothing else; what
they accept is a batch of numpy columns of one length."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lockgate.domain.errors import InvalidInputError
from lockgate.domain.registry import TENSOR_TYPES, ColumnSpec, Signature
from lockgate.serving.protocol import (
    INVOCATION_FORMATS,
    SignaturePlan,
    decode_infer_request,
    decode_invocations,
)
from lockgate.serving.protocol.datatypes import OIP_DATATYPES
from tests.serving.protocol.plans import FEATURES, image_plan, mixed_plan, open_plan, tabular_plan

EVERY_TYPE = SignaturePlan(
    Signature(tuple(ColumnSpec(f"c_{name}", name) for name in sorted(TENSOR_TYPES)), ()),
    max_rows=5,
)
PLANS = {
    "tabular": tabular_plan(max_rows=5),
    "mixed": mixed_plan(),
    "image": image_plan(),
    "open": open_plan(),
    "every_type": EVERY_TYPE,
}
NAMES = ["f0", "f1", "a", "b", "c", "pixels", "c_float64", "c_string", "c_datetime", "x"]
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**65), 2**65),
    st.integers(-3, 300),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.sampled_from(["2024-05-01T12:00:00Z", "aGk=", "1.5", ""]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=20,
)
shapes = st.lists(st.integers(-1, 4), min_size=0, max_size=3) | json_values
tensors = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(NAMES) | json_values,
        "shape": shapes,
        "datatype": st.sampled_from([*OIP_DATATYPES, "BF16", "fp32"]) | json_values,
        "data": json_values
        | st.lists(
            st.floats(allow_nan=False, allow_infinity=False) | st.integers(0, 9), max_size=8
        ),
        "parameters": st.fixed_dictionaries(
            {}, optional={"binary_data_size": st.integers(-2, 12) | json_values}
        )
        | json_values,
    },
)
oip_documents = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "parameters": st.fixed_dictionaries({}, optional={"binary_data_output": json_values})
        | json_values,
        "inputs": st.lists(tensors, max_size=4) | json_values,
        "outputs": st.lists(
            st.fixed_dictionaries({"name": json_values}, optional={"parameters": json_values}),
            max_size=2,
        )
        | json_values,
    },
)
invocation_documents = st.dictionaries(
    st.sampled_from([*INVOCATION_FORMATS, "params", "other"]),
    json_values
    | st.fixed_dictionaries(
        {}, optional={"columns": json_values, "data": json_values, "index": json_values}
    ),
    max_size=2,
)


def accepted(columns: dict[str, Any], plan: SignaturePlan) -> None:
    rows = {array.shape[0] for array in columns.values()}
    assert len(rows) == 1
    assert 0 < rows.pop() <= plan.max_rows
    assert all(isinstance(array, np.ndarray) for array in columns.values())
    if plan.signature is not None:
        assert set(columns) == set(plan.input_names)


@pytest.mark.parametrize("plan_name", list(PLANS))
@FUZZ
@given(
    body=st.binary(max_size=64),
    header_length=st.none() | st.integers(-1, 70) | st.binary(max_size=3),
)
def test_random_bytes(plan_name: str, body: bytes, header_length: Any) -> None:
    plan = PLANS[plan_name]
    for decode in (
        lambda: decode_infer_request(plan, body, header_length).inputs,
        lambda: decode_invocations(plan, body, "application/json"),
        lambda: decode_invocations(plan, body, "text/csv"),
    ):
        with contextlib.suppress(InvalidInputError):
            accepted(decode(), plan)


@pytest.mark.parametrize("plan_name", list(PLANS))
@FUZZ
@given(document=oip_documents, tail=st.binary(max_size=24))
def test_random_inference_requests(plan_name: str, document: dict[str, Any], tail: bytes) -> None:
    plan = PLANS[plan_name]
    header = json.dumps(document).encode()
    for body, length in ((header, None), (header + tail, len(header))):
        with contextlib.suppress(InvalidInputError):
            accepted(decode_infer_request(plan, body, length).inputs, plan)


@pytest.mark.parametrize("plan_name", list(PLANS))
@FUZZ
@given(document=invocation_documents)
def test_random_invocations(plan_name: str, document: dict[str, Any]) -> None:
    plan = PLANS[plan_name]
    with contextlib.suppress(InvalidInputError):
        accepted(decode_invocations(plan, json.dumps(document).encode(), "application/json"), plan)


cells = st.sampled_from(
    ["", "1", "-2", "1.5", "nan", "true", "x", "aGk=", "2024-05-01", '"q,"', "300"]
)


@pytest.mark.parametrize("plan_name", list(PLANS))
@FUZZ
@given(
    header=st.lists(
        st.sampled_from([*FEATURES[:3], "a", "b", "c", *EVERY_TYPE.input_names[:6], ""]),
        min_size=1,
        max_size=5,
    ),
    rows=st.lists(st.lists(cells, min_size=0, max_size=6), max_size=4),
)
def test_random_csv(plan_name: str, header: list[str], rows: list[list[str]]) -> None:
    plan = PLANS[plan_name]
    body = "\n".join(",".join(line) for line in [header, *rows]).encode()
    with contextlib.suppress(InvalidInputError):
        accepted(decode_invocations(plan, body, "text/csv"), plan)
