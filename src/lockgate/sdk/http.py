"""The SDK's HTTP session: one httpx client under `/api/v1`, with problem+json responses and
connection failures turned back into Lockgate errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from lockgate.api import API_VERSION, PageOut, Problem
from lockgate.domain.errors import InvalidInputError, LockgateError, error_class_for_code
from lockgate.version import __version__

__all__ = [
    "DEFAULT_URL",
    "HttpSession",
    "paginate",
    "raise_for_problem",
    "request_body",
    "segment",
]

DEFAULT_URL = "http://127.0.0.1:8420"

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")

QueryParams = Mapping[str, str | int | None]


def segment(value: str | int) -> str:
    """One path segment, percent-encoded so a name can never change the route."""
    return quote(str(value), safe="")


def request_body(schema: type[ModelT], **values: object) -> ModelT:
    """A request body checked here, so a bad value raises InvalidInputError naming the field,
    as the server would, rather than a pydantic error."""
    try:
        return schema.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidInputError(f"{field}: {first['msg']}", field=field) from None


def raise_for_problem(response: httpx.Response) -> None:
    """Raise the Lockgate error a failed response stands for; return quietly on success.

    A problem+json body maps its stable `code` back to the error class through the fixed
    registry in `lockgate.domain.errors`, keeping `detail` as the message and `field`.
    """
    if response.is_success:
        return
    response.read()
    problem = _parse_problem(response)
    if problem is None:
        text = response.text.strip().replace("\n", " ")[:200]
        raise LockgateError(
            f"{response.request.method} {response.request.url} returned HTTP "
            f"{response.status_code}: {text or response.reason_phrase}"
        )
    error = error_class_for_code(problem.code)(problem.detail, field=problem.field)
    if problem.request_id:
        error.add_note(f"request_id: {problem.request_id}")
    raise error


def _parse_problem(response: httpx.Response) -> Problem | None:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        return Problem.model_validate_json(response.content)
    except ValidationError:
        return None


def paginate(fetch: Callable[[str | None], PageOut[T]]) -> Iterator[T]:
    """Every item of a keyset-paginated list, fetching the next page only when needed."""
    token: str | None = None
    while True:
        page = fetch(token)
        yield from page.items
        token = page.next_page_token
        if not token:
            return


class HttpSession:
    """The one httpx client of a `Client`: base URL, auth header, error mapping.

    Args:
        url: The server's root URL (without `/api/v1`).
        token: An API token sent as a bearer token.
        transport: An httpx transport, e.g. one over the in-process app in tests.
        timeout: Seconds (or an `httpx.Timeout`) for connect, read and write.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None,
        transport: httpx.BaseTransport | None,
        timeout: float | httpx.Timeout,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"User-Agent": f"lockgate-sdk/{__version__}", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            base_url=f"{self.url}/api/{API_VERSION}",
            headers=headers,
            transport=transport,
            timeout=timeout,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        params: QueryParams | None = None,
        content: bytes | Iterator[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request and return its successful response; raise a Lockgate error
        otherwise."""
        with self.stream(
            method, path, body=body, params=params, content=content, headers=headers
        ) as response:
            response.read()
            return response

    def call(
        self,
        method: str,
        path: str,
        schema: type[ModelT],
        *,
        body: BaseModel | None = None,
        params: QueryParams | None = None,
    ) -> ModelT:
        """Send one JSON request and parse the response into `schema`."""
        response = self.request(method, path, body=body, params=params)
        return schema.model_validate_json(response.content)

    def call_list(
        self, path: str, item: type[ModelT], params: QueryParams | None = None
    ) -> list[ModelT]:
        """GET a JSON array and parse each element into `item`."""
        response = self.request("GET", path, params=params)
        return [item.model_validate(element) for element in response.json()]

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        params: QueryParams | None = None,
        content: bytes | Iterator[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[httpx.Response]:
        """Send a request and yield its successful response with the body not yet read."""
        all_headers = dict(headers or {})
        if body is not None:
            content = _dump(body)
            all_headers["Content-Type"] = "application/json"
        query = {key: value for key, value in (params or {}).items() if value is not None}
        request = self._client.build_request(
            method, path, params=query, content=content, headers=all_headers
        )
        try:
            response = self._client.send(request, stream=True)
            try:
                raise_for_problem(response)
                yield response
            finally:
                response.close()
        except httpx.TransportError as exc:
            # Also covers a connection lost while the caller reads a streamed body.
            reason = str(exc) or type(exc).__name__
            raise LockgateError(
                f"cannot reach the Lockgate server at {self.url}: {reason}"
            ) from exc


def _dump(body: BaseModel) -> bytes:
    # by_alias keeps wire names such as `schema`; json mode writes NaN as "NaN".
    data: Any = body.model_dump(mode="json", by_alias=True, exclude_unset=False)
    return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()
