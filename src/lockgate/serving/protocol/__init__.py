"""The inference server's wire codecs: request bodies to checked numpy columns and output
columns to response bodies, for the Open Inference Protocol v2 and MLflow's /invocations.

Pure functions over bytes; build one `SignaturePlan` per loaded model and pass it to every
call. Every decoding fault raises `InvalidInputError` (or a subclass) naming the field.
"""

from lockgate.serving.protocol.datatypes import OIP_DATATYPE_OF_TYPE, SIGNATURE_DTYPES
from lockgate.serving.protocol.invocations import (
    INVOCATION_FORMATS,
    decode_invocations,
    decode_invocations_document,
    encode_predictions,
)
from lockgate.serving.protocol.media import (
    CSV_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    OCTET_STREAM_MEDIA_TYPE,
)
from lockgate.serving.protocol.oip import (
    HEADER_LENGTH_HEADER,
    OIP_EXTENSIONS,
    EncodedResponse,
    InferenceRequest,
    RequestedOutput,
    decode_infer_request,
    encode_infer_response,
    encode_model_metadata,
    encode_server_metadata,
)
from lockgate.serving.protocol.problems import PROBLEM_MEDIA_TYPE, encode_oip_error, encode_problem
from lockgate.serving.protocol.validation import (
    DEFAULT_MAX_ROWS,
    TENSOR_INPUT,
    ColumnPlan,
    MatrixColumns,
    SignaturePlan,
    validate_columns,
)

__all__ = [
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
]
