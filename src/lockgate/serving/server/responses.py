"""Answers of the inference server: a status, a body and its type, and errors as RFC 9457
problem+json (with the `error` member the Open Inference Protocol's clients read)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from lockgate.domain.errors import LockgateError

__all__ = ["Answer", "problem", "status_for"]

_JSON = b"application/json"
_PROBLEM = b"application/problem+json"
_STATUS = {
    "invalid_input": 400,
    "not_found": 404,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "unauthenticated": 401,
    "permission_denied": 403,
}
_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    413: "Payload too large",
    415: "Unsupported media type",
    500: "Prediction failed",
}


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    content_type: bytes
    headers: tuple[tuple[bytes, bytes], ...] = field(default=())

    @classmethod
    def json(
        cls, status: int, document: object, headers: tuple[tuple[bytes, bytes], ...] = ()
    ) -> Answer:
        return cls(
            status, orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY), _JSON, headers
        )

    async def send(
        self, send: Callable[[MutableMapping[str, Any]], Awaitable[None]], request_id: str
    ) -> None:
        headers = [
            (b"content-type", self.content_type),
            (b"content-length", str(len(self.body)).encode()),
            (b"x-request-id", request_id.encode()),
            *self.headers,
        ]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def status_for(exc: BaseException) -> int:
    """400 for bad input, 404 for an unknown model, 500 when the model itself failed."""
    if isinstance(exc, LockgateError):
        return _STATUS.get(exc.code, 400 if exc.code.startswith("invalid") else 500)
    return 500


def problem(exc: BaseException, request_id: str) -> Answer:
    status = status_for(exc)
    if isinstance(exc, LockgateError):
        code, detail, fault = exc.code, str(exc), exc.field
    else:  # the model raised: say so without leaking its internals
        code, fault = "prediction_failed", None
        detail = f"the model failed: {type(exc).__name__}: {str(exc)[:300]}"
    document: dict[str, object] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "code": code,
        "detail": detail,
        "request_id": request_id,
        "error": detail,
    }
    if fault is not None:
        document["field"] = fault
    return Answer(status, orjson.dumps(document), _PROBLEM)
