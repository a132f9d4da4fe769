"""The public surface of `lockgate.serving.protocol`, which the inference server builds on."""

from __future__ import annotations

import lockgate.serving.protocol as protocol

PUBLIC = {
    "CSV_MEDIA_TYPE",
    "DEFAULT_MAX_ROWS",
    "HEADER_LENGTH_HEADER",
    "INVOCATION_FORMATS",
    "JSON_MEDIA_TYPE",
    "OCTET_STREAM_MEDIA_TYPE",
    "OIP_DATATYPE_OF_TYPE",
    "OIP_EXTENSIONS",
    "PROBLEM_MEDIA_TYPE",
    "SIGNATURE_DTYPES",
    "TENSOR_INPUT",
    "ColumnPlan",
    "EncodedResponse",
    "InferenceRequest",
    "MatrixColumns",
    "RequestedOutput",
    "SignaturePlan",
    "decode_infer_request",
    "decode_invocations",
    "decode_invocations_document",
    "encode_infer_response",
    "encode_model_metadata",
    "encode_oip_error",
    "encode_predictions",
    "encode_problem",
    "encode_server_metadata",
    "validate_columns",
}


def test_the_public_surface_is_pinned() -> None:
    assert set(protocol.__all__) == PUBLIC
    assert all(hasattr(protocol, name) for name in PUBLIC)
