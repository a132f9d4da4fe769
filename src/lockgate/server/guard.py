"""ASGI middleware at the edge: a request id on every request and response, a Host allow-list
(which defeats DNS rebinding), no NUL in the URL, JSON-only bodies where JSON is expected, and a
body size limit enforced while the body streams in."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lockgate.api.common import PROBLEM_MEDIA_TYPE
from lockgate.domain.errors import PayloadTooLargeError
from lockgate.domain.identity import IdFactory

__all__ = ["LOOPBACK_HOSTS", "EdgeGuard", "host_of", "send_problem"]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

# Artifact uploads are raw bytes with their own (larger) limit, checked by the service.
_RAW_UPLOAD = re.compile(r"/api/v1/runs/[^/]+/(?:artifacts|archives)/.+")


class EdgeGuard:
    """Pure ASGI (no BaseHTTPMiddleware: it would buffer and slow every request).

    Args:
        app: The app to guard.
        ids: Makes the request ids.
        max_body_bytes: The largest JSON body accepted.
        allowed_hosts: Host header values (names or addresses, without port) answered; any
            other Host gets 400 `host_not_allowed` before the app runs. A web page on another
            name that resolves to this server (DNS rebinding) is refused this way. The default
            answers loopback names only.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        ids: IdFactory,
        max_body_bytes: int,
        allowed_hosts: Iterable[str] = LOOPBACK_HOSTS,
    ) -> None:
        self.app = app
        self.ids = ids
        self.max_body_bytes = max_body_bytes
        self.allowed_hosts = frozenset(_bare_host(host) for host in allowed_hosts)

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

        refusal = self._check_request(scope)
        if refusal is not None:
            await _reject(send_with_id, request_id, refusal)
            return
        if _has_json_body(scope):
            receive = self._limited(receive)
        await self.app(scope, receive, send_with_id)

    def _check_request(self, scope: Scope) -> _Refusal | None:
        host_refusal = self._check_host(scope)
        if host_refusal is not None:
            return _Refusal(400, "host_not_allowed", host_refusal)
        # No name, id or key holds a NUL, and PostgreSQL cannot even compare text with one.
        if "\x00" in scope["path"]:
            return _Refusal(422, "invalid_input", "the path holds a NUL character", "path")
        query: bytes = scope.get("query_string", b"")
        if b"\x00" in query or b"%00" in query:
            return _Refusal(422, "invalid_input", "the query holds a NUL character", "query")
        if _has_json_body(scope):
            return self._check_json_request(scope)
        return None

    def _check_host(self, scope: Scope) -> str | None:
        values = [value for name, value in scope["headers"] if name == b"host"]
        if not values:
            # HTTP/1.0 may omit Host (old health checkers do); browsers never do, so a page
            # cannot use that to slip past the allow-list.
            if scope.get("http_version") == "1.0":
                return None
            return "the request has no Host header"
        if len(values) > 1:
            return "the request has more than one Host header"
        host = host_of(values[0].decode("latin-1"))
        if host is None or host not in self.allowed_hosts:
            return "this server does not answer for that Host (see the allowed_hosts setting)"
        return None

    def _check_json_request(self, scope: Scope) -> _Refusal | None:
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            detail = f"the body is larger than {self.max_body_bytes} bytes"
            return _Refusal(413, "payload_too_large", detail, "body")
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if length in (None, b"0") and not content_type:
            return None  # an empty body needs no media type
        if content_type != b"application/json":
            return _Refusal(415, "unsupported_media_type", "the body must be application/json")
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


class _Refusal(NamedTuple):
    """A request refused at the edge, as its problem+json says."""

    status: int
    code: str
    detail: str
    field: str | None = None


def _has_json_body(scope: Scope) -> bool:
    is_raw = scope["method"] == "PUT" and _RAW_UPLOAD.fullmatch(scope["path"]) is not None
    return scope["method"] in {"POST", "PUT", "PATCH"} and not is_raw


async def _reject(send: Send, request_id: str, refusal: _Refusal) -> None:
    await send_problem(
        send, request_id, refusal.status, refusal.code, refusal.detail, field=refusal.field
    )


async def send_problem(
    send: Send,
    request_id: str | None,
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Answer with problem+json straight from ASGI middleware (before any route exists to
    render it): the same envelope as the app's error handler."""
    problem = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "field": field,
        "request_id": request_id,
    }
    body = json.dumps({key: value for key, value in problem.items() if value is not None}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_PORT = re.compile(r"[0-9]{1,5}")


def host_of(header: str) -> str | None:
    """The host of a Host header value, lowercased and without port; None when malformed.

    `example.com:8420` -> `example.com`; `[::1]:8420` -> `::1`. An IPv6 address must be in
    brackets (a bare `::1` is not a valid Host header, and its last group would read as a port).
    """
    if header.startswith("["):
        address, bracket, rest = header[1:].partition("]")
        if not bracket or not address or (rest and not _is_port_suffix(rest)):
            return None
        return address.lower()
    name, colon, port = header.partition(":")
    if not name or (colon and not _PORT.fullmatch(port)):
        return None
    return name.lower()


def _is_port_suffix(text: str) -> bool:
    return text.startswith(":") and _PORT.fullmatch(text[1:]) is not None


def _bare_host(host: str) -> str:
    """A configured host as Host headers are compared: lowercase, IPv6 without brackets."""
    return host.strip().removeprefix("[").removesuffix("]").lower()
