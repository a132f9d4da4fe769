"""Error bodies for the inference server: RFC 9457 problem+json, the same document the
metadata server renders, and the Open Inference Protocol's `{"error": ...}`."""

from __future__ import annotations

from http import HTTPStatus

from lockgate.domain.errors import LockgateError
from lockgate.serving.protocol.media import dump_json

__all__ = ["PROBLEM_MEDIA_TYPE", "encode_oip_error", "encode_problem"]

PROBLEM_MEDIA_TYPE = "application/problem+json"


def encode_problem(error: LockgateError, *, status: int, request_id: str | None = None) -> bytes:
    """The problem+json body for `error` (send it with `PROBLEM_MEDIA_TYPE`): `title` from the
    status, `detail`, the stable `code`, the `field` at fault and the `request_id`.

    The status comes from the caller, who owns the one table from code to status.
    """
    problem: dict[str, object] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": error.message,
        "code": error.code,
    }
    if error.field is not None:
        problem["field"] = error.field
    if request_id is not None:
        problem["request_id"] = request_id
    return dump_json(problem)


def encode_oip_error(error: LockgateError | str) -> bytes:
    """The Open Inference Protocol error body `{"error": "..."}`; a field at fault leads the
    message (`inputs[2].shape: ...`)."""
    if isinstance(error, str):
        return dump_json({"error": error})
    message = error.message if error.field is None else f"{error.field}: {error.message}"
    return dump_json({"error": message})
