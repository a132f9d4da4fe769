"""ASGI middleware at the edge: a request id on every request and response, JSON-only bodies
where JSON is expected, and a body size limit enforced while the body streams in."""

from __future__ import annotations

import json
import re
from http import HTTPStatus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lockgate.domain.errors import PayloadTooLargeError
from lockgate.domain.identity import IdFactory

__all__ = ["EdgeGuard"]

# Artifact uploads are raw bytes with their own (larger) limit, checked by the service.
_RAW_UPLOAD = re.compile(r"/api/v1/runs/[^/]+/artifacts/.+")


class EdgeGuard:
    """Pure ASGI (no BaseHTTPMiddleware: it would buffer and slow every request)."""

    def __init__(self, app: ASGIApp, *, ids: IdFactory, max_body_bytes: int) -> None:
        self.app = app
        self.ids = ids
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self.ids.new_id()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        path: str = scope["path"]
        is_raw = scope["method"] == "PUT" and _RAW_UPLOAD.fullmatch(path) is not None
        has_body = scope["method"] in {"POST", "PUT", "PATCH"}
        if has_body and not is_raw:
            problem = self._check_json_request(scope)
            if problem is not None:
                await _reject(send_with_id, request_id, *problem)
                return
            receive = self._limited(receive)
        await self.app(scope, receive, send_with_id)

    def _check_json_request(self, scope: Scope) -> tuple[int, str, str] | None:
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return 413, "payload_too_large", f"the body is larger than {self.max_body_bytes} bytes"
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if length in (None, b"0") and not content_type:
            return None  # an empty body needs no media type
        if content_type != b"application/json":
            return 415, "unsupported_media_type", "the body must be application/json"
        return None

    def _limited(self, receive: Receive) -> Receive:
        received = 0
        limit = self.max_body_bytes

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the app's body read, so the error handler renders it.
                    raise PayloadTooLargeError(
                        f"the body is larger than {limit} bytes", field="body"
                    )
            return message

        return limited_receive


async def _reject(send: Send, request_id: str, status: int, code: str, detail: str) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
            "code": code,
            "request_id": request_id,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
