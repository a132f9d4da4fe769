"""The Open Inference Protocol v2 (KServe v2, Triton) over REST: inference requests decoded to
checked columns, responses, server and model metadata, with the binary tensor data extension."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from lockgate.domain.errors import InvalidInputError
from lockgate.serving.flavors.base import Columns
from lockgate.serving.protocol.binary_tensors import (
    HEADER_LENGTH_HEADER,
    BinarySection,
    encode_tensor,
    header_length_of,
)
from lockgate.serving.protocol.datatypes import (
    OIP_DATATYPE_OF_TYPE,
    datetime_text,
    oip_datatype_of,
)
from lockgate.serving.protocol.media import (
    JSON_MEDIA_TYPE,
    OCTET_STREAM_MEDIA_TYPE,
    dump_json,
    load_json,
)
from lockgate.serving.protocol.oip_tensors import named_matrix, read_tensors, tensors_to_columns
from lockgate.serving.protocol.problems import encode_oip_error
from lockgate.serving.protocol.validation import SignaturePlan, names_text

__all__ = [
    "HEADER_LENGTH_HEADER",
    "OIP_EXTENSIONS",
    "EncodedResponse",
    "InferenceRequest",
    "RequestedOutput",
    "decode_infer_request",
    "encode_infer_response",
    "encode_model_metadata",
    "encode_oip_error",
    "encode_server_metadata",
]

Array = npt.NDArray[Any]

OIP_EXTENSIONS: tuple[str, ...] = ("binary_tensor_data",)
"""The protocol extensions Lockgate implements, as listed by server metadata."""


@dataclass(frozen=True, slots=True)
class RequestedOutput:
    """An entry of a request's `outputs`: a wanted output and its `binary_data` parameter
    (None when the entry does not say)."""

    name: str
    binary: bool | None = None


@dataclass(frozen=True, slots=True)
class InferenceRequest:
    """A decoded inference request: its inputs checked and cast against the signature."""

    inputs: Columns
    id: str | None = None
    parameters: Mapping[str, object] = field(default_factory=dict)
    """The request's `parameters`, as sent (the protocol's own are read already)."""
    outputs: tuple[RequestedOutput, ...] = ()
    """The outputs asked for, in order; empty means every output of the model."""
    binary_output: bool = False
    """The request parameter `binary_data_output`: outputs default to binary data."""


@dataclass(frozen=True, slots=True)
class EncodedResponse:
    """An encoded response body and how to send it."""

    body: bytes
    content_type: str
    header_length: int | None = None
    """The JSON header's length, for the `Inference-Header-Content-Length` response header,
    when binary tensor data follows it; None for a body that is all JSON."""

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """The response headers, ready for an ASGI `http.response.start` message:
        content-type, content-length and, with binary data, inference-header-content-length."""
        headers = [
            (b"content-type", self.content_type.encode("latin-1")),
            (b"content-length", str(len(self.body)).encode("latin-1")),
        ]
        if self.header_length is not None:
            headers.append(
                (b"inference-header-content-length", str(self.header_length).encode("latin-1"))
            )
        return headers


def decode_infer_request(
    plan: SignaturePlan, body: bytes, header_length: int | str | bytes | None = None
) -> InferenceRequest:
    """Decode `POST /v2/models/{name}[/versions/{v}]/infer`.

    Args:
        plan: The model's plan.
        body: The request body.
        header_length: The `Inference-Header-Content-Length` request header (its raw value),
            present when binary tensor data follows the JSON.

    Raises:
        InvalidInputError: naming the field at fault (`inputs[2].shape`, `outputs[0].name`...);
            PayloadTooLargeError when the batch has more rows than the plan allows.
    """
    length = header_length_of(header_length, len(body))
    view = memoryview(body)
    document = load_json(view if length is None else view[:length])
    if type(document) is not dict:
        raise InvalidInputError("an inference request is a JSON object", field="body")
    binary_part = None if length is None else view[length:]
    raw_inputs = document.get("inputs")
    inputs = named_matrix(plan, raw_inputs, binary_part)
    if inputs is None:
        binary = BinarySection(view[len(body) :] if binary_part is None else binary_part)
        tensors = read_tensors(raw_inputs, binary, has_binary=binary_part is not None)
        binary.check_consumed()
        inputs = tensors_to_columns(plan, tensors)
    parameters = _parameters_of(document.get("parameters"), "parameters")
    binary_output = parameters.get("binary_data_output", False)
    if type(binary_output) is not bool:
        raise InvalidInputError("must be true or false", field="parameters.binary_data_output")
    request_id = document.get("id")
    if request_id is not None and type(request_id) is not str:
        raise InvalidInputError("the request id must be a string", field="id")
    return InferenceRequest(
        inputs=inputs,
        id=request_id,
        parameters=parameters,
        outputs=_requested_outputs(plan, document.get("outputs")),
        binary_output=binary_output,
    )


def _parameters_of(value: object, field: str) -> dict[str, object]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise InvalidInputError("parameters must be a JSON object", field=field)
    return value


def _requested_outputs(plan: SignaturePlan, value: object) -> tuple[RequestedOutput, ...]:
    if value is None:
        return ()
    if type(value) is not list:
        raise InvalidInputError("outputs must be a list of objects", field="outputs")
    requested: list[RequestedOutput] = []
    seen: set[str] = set()
    for index, entry in enumerate(value):
        where = f"outputs[{index}]"
        if type(entry) is not dict:
            raise InvalidInputError("an output is an object with a name", field=where)
        name = entry.get("name")
        if type(name) is not str or name in seen:
            raise InvalidInputError("must be a distinct output name", field=f"{where}.name")
        if plan.signature is not None and name not in plan.output_index:
            raise InvalidInputError(
                f"{name!r} is not an output of the model; its outputs are "
                f"{names_text(column.name for column in plan.outputs)}",
                field=f"{where}.name",
            )
        binary = _parameters_of(entry.get("parameters"), f"{where}.parameters").get("binary_data")
        if binary is not None and type(binary) is not bool:
            raise InvalidInputError(
                "must be true or false", field=f"{where}.parameters.binary_data"
            )
        seen.add(name)
        requested.append(RequestedOutput(name, binary))
    return tuple(requested)


def encode_infer_response(
    plan: SignaturePlan,
    outputs: Mapping[str, Array],
    *,
    model_name: str,
    model_version: str | None = None,
    request: InferenceRequest | None = None,
) -> EncodedResponse:
    """Encode the response to an inference request: the outputs `request` asked for (every
    output, in signature order, when it named none), each as JSON or binary tensor data.

    Raises:
        InvalidInputError: an output the request named is not among `outputs`
            (`outputs[i].name`), or a JSON BYTES output holds bytes that are not UTF-8.
    """
    document: dict[str, object] = {"model_name": model_name}
    if model_version is not None:
        document["model_version"] = model_version
    if request is not None and request.id is not None:
        document["id"] = request.id
    default_binary = request.binary_output if request is not None else False
    entries: list[dict[str, object]] = []
    chunks: list[bytes] = []
    for name, binary, where in _outputs_to_send(plan, outputs, request):
        entry, chunk = _encode_output(
            name, outputs[name], default_binary if binary is None else binary, where
        )
        entries.append(entry)
        if chunk is not None:
            chunks.append(chunk)
    document["outputs"] = entries
    header = dump_json(document)
    if not chunks:
        return EncodedResponse(header, JSON_MEDIA_TYPE)
    return EncodedResponse(header + b"".join(chunks), OCTET_STREAM_MEDIA_TYPE, len(header))


def _outputs_to_send(
    plan: SignaturePlan, outputs: Mapping[str, Array], request: InferenceRequest | None
) -> list[tuple[str, bool | None, str]]:
    if request is not None and request.outputs:
        for index, wanted in enumerate(request.outputs):
            if wanted.name not in outputs:
                raise InvalidInputError(
                    f"the model produced no output {wanted.name!r}; it produced "
                    f"{names_text(outputs)}",
                    field=f"outputs[{index}].name",
                )
        return [
            (wanted.name, wanted.binary, f"outputs.{wanted.name}") for wanted in request.outputs
        ]
    names = [column.name for column in plan.outputs if column.name in outputs]
    names += [name for name in outputs if name not in plan.output_index]
    return [(name, None, f"outputs.{name}") for name in names]


def _encode_output(
    name: str, array: Array, binary: bool, where: str
) -> tuple[dict[str, object], bytes | None]:
    array = np.asarray(array)
    if array.dtype.kind == "M":
        array = datetime_text(array)
    datatype = oip_datatype_of(array)
    entry: dict[str, object] = {"name": name, "datatype": datatype, "shape": list(array.shape)}
    if binary:
        chunk = encode_tensor(array, datatype)
        entry["parameters"] = {"binary_data_size": len(chunk)}
        return entry, chunk
    if datatype == "BYTES":
        entry["data"] = [_json_text(cell, where) for cell in array.ravel().tolist()]
    else:
        flat = array.reshape(-1)
        if not flat.flags.c_contiguous or not flat.dtype.isnative:
            flat = np.ascontiguousarray(flat, dtype=flat.dtype.newbyteorder("="))
        entry["data"] = flat
    return entry, None


def _json_text(cell: object, where: str) -> str:
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bytes):
        try:
            return cell.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInputError(
                "the output holds bytes that are not UTF-8 text: ask for it with binary_data true",
                field=where,
            ) from None
    return str(cell)


def encode_server_metadata(
    *, name: str = "lockgate", version: str, extensions: Sequence[str] = OIP_EXTENSIONS
) -> bytes:
    """The body of `GET /v2`: the server's name, version and protocol extensions."""
    return dump_json({"name": name, "version": version, "extensions": list(extensions)})


def encode_model_metadata(
    plan: SignaturePlan, *, name: str, versions: Sequence[str | int], platform: str
) -> bytes:
    """The body of `GET /v2/models/{name}[/versions/{v}]`: name, versions, platform, and each
    input and output with its datatype and shape (-1 for a free dimension; none listed for a
    model without a signature)."""
    return dump_json(
        {
            "name": name,
            "versions": [str(version) for version in versions],
            "platform": platform,
            "inputs": [
                _metadata_tensor(column.name, column.type, column.shape) for column in plan.inputs
            ],
            "outputs": [
                _metadata_tensor(column.name, column.type, column.shape) for column in plan.outputs
            ],
        }
    )


def _metadata_tensor(name: str, type_name: str | None, shape: tuple[int, ...]) -> dict[str, object]:
    datatype = "BYTES" if type_name is None else OIP_DATATYPE_OF_TYPE[type_name]
    return {"name": name, "datatype": datatype, "shape": list(shape)}
