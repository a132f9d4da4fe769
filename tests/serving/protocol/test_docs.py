"""docs/reference/serving-protocols.md keeps up with the code: its requests decode against the
example model, its responses and metadata are what the encoders write, and the datatype table
is the code's table."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import orjson

from lockgate.domain.registry import ColumnSpec, Signature
from lockgate.serving.protocol import (
    OIP_DATATYPE_OF_TYPE,
    SIGNATURE_DTYPES,
    SignaturePlan,
    decode_infer_request,
    decode_invocations,
    encode_infer_response,
    encode_model_metadata,
    encode_predictions,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "reference" / "serving-protocols.md"
CHURN = SignaturePlan(
    Signature(
        (
            ColumnSpec("tenure", "int64"),
            ColumnSpec("monthly_charges", "float64"),
            ColumnSpec("contract", "string"),
        ),
        (ColumnSpec("probability", "float64"),),
    )
)
JSON_CURL = re.compile(r"^curl -s http://127\.0\.0\.1:8080(\S+) .*-d '(.+)'$", re.MULTILINE)
CSV_CURL = re.compile(
    r"^curl -s http://127\.0\.0\.1:8080/invocations .*--data-binary \$'(.+)'$", re.MULTILINE
)


def _blocks_after(text: str, marker: str) -> dict[str, object]:
    following = text[text.index(marker) :]
    block = re.search(r"```json\n(.+?)```", following, re.DOTALL)
    assert block is not None
    return orjson.loads(block.group(1))  # type: ignore[no-any-return]


def test_every_request_example_decodes_to_the_same_columns() -> None:
    text = DOC.read_text()
    examples = JSON_CURL.findall(text)
    assert len(examples) >= 6
    decoded = []
    for route, body in examples:
        if route.endswith("/infer"):
            decoded.append(decode_infer_request(CHURN, body.encode()).inputs)
        else:
            decoded.append(decode_invocations(CHURN, body.encode(), "application/json"))
    for csv in CSV_CURL.findall(text):
        table = csv.encode().decode("unicode_escape").encode()
        decoded.append(decode_invocations(CHURN, table, "text/csv"))
    assert len(decoded) == len(examples) + 1
    for columns in decoded:
        assert set(columns) == {"tenure", "monthly_charges", "contract"}
        assert columns["tenure"].tolist()[0] == 12
        assert columns["monthly_charges"].tolist()[0] == 29.5
        assert columns["contract"].tolist()[0] == "monthly"


def test_the_response_examples_are_what_the_encoders_write() -> None:
    text = DOC.read_text()
    first_infer = JSON_CURL.search(text)
    assert first_infer is not None
    request = decode_infer_request(CHURN, first_infer.group(2).encode())
    response = encode_infer_response(
        CHURN,
        {"probability": np.array([0.81, 0.07])},
        model_name="churn",
        model_version="3",
        request=request,
    )
    assert orjson.loads(response.body) == _blocks_after(text, first_infer.group(0))
    predictions = encode_predictions(CHURN, {"probability": np.array([0.81])})
    assert orjson.loads(predictions) == _blocks_after(text, "Each answers:")
    metadata = encode_model_metadata(CHURN, name="churn", versions=[3], platform="lockgate_sklearn")
    assert orjson.loads(metadata) == _blocks_after(
        text, "curl -s http://127.0.0.1:8080/v2/models/churn\n"
    )


def test_the_datatype_table_is_the_code_s_table() -> None:
    text = DOC.read_text()
    for type_name, datatype in OIP_DATATYPE_OF_TYPE.items():
        dtype = SIGNATURE_DTYPES[type_name]
        shown = "datetime64[us]" if dtype.kind == "M" else str(dtype)
        row = re.search(
            rf"^\| `{type_name}` \| `{re.escape(shown)}`.*?\| `{datatype}` \|", text, re.MULTILINE
        )
        assert row is not None, f"document {type_name} -> {shown}, {datatype} in {DOC.name}"
