"""The outbound HTTP client: delivers JSON to user-configured URLs without becoming an SSRF proxy.

Every hop (the first URL and each redirect) passes the `EgressPolicy`, and the connection goes
to the address the policy checked, never to a fresh DNS answer, which defeats DNS rebinding.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from urllib.parse import urljoin

import httpx

from lockgate.domain.errors import DestinationNotAllowedError, InvalidInputError
from lockgate.egress.addresses import IPAddress
from lockgate.egress.policy import EgressPolicy, Target
from lockgate.version import __version__

__all__ = ["REDIRECT_STATUSES", "Delivery", "EgressClient", "build_pinned_request"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Framing and routing belong to the client: a caller's Host could not change where the request
# goes (the address is pinned), but Content-Length or Transfer-Encoding could smuggle a second
# request, and Accept-Encoding would let a compressed body bypass the size limit.
_CLIENT_OWNED_HEADERS = frozenset(
    {
        "accept-encoding",
        "connection",
        "content-length",
        "content-type",
        "host",
        "te",
        "transfer-encoding",
        "upgrade",
    }
)


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one delivery: the final response, its first bytes, and how long it took.

    `url` is the URL that answered (after redirects); `body` holds at most the client's
    `max_response_bytes`, and `truncated` says whether more was left unread.
    """

    url: str
    status_code: int
    elapsed: timedelta
    body: bytes
    truncated: bool
    redirects: int

    @property
    def is_success(self) -> bool:
        """Whether the destination answered with a 2xx status."""
        return 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class _Hop:
    target: Target
    method: str
    content: bytes | None
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class _Reply:
    status_code: int
    location: str | None
    body: bytes
    truncated: bool


def build_pinned_request(
    target: Target,
    address: IPAddress,
    method: str,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Request:
    """A request to `address` that still names `target.host` in Host and, for https, in SNI.

    httpx would otherwise resolve the host again when it connects, and a rebinding DNS server
    could answer 127.0.0.1 then; with the checked IP in the URL there is nothing left to resolve,
    while the certificate is still verified against the host name (`sni_hostname`).
    """
    url = httpx.URL(
        scheme=target.scheme,
        host=str(address),
        port=target.port,
        raw_path=target.path.encode("ascii"),
    )
    merged = {
        **(headers or {}),
        "Host": target.authority,
        "Accept-Encoding": "identity",
        "User-Agent": f"lockgate/{__version__}",
    }
    if content is not None:
        merged["Content-Type"] = "application/json"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return httpx.Request(method, url, headers=merged, content=content, extensions=extensions)


def _caller_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    for name in headers or {}:
        if name.lower() in _CLIENT_OWNED_HEADERS:
            raise InvalidInputError(f"header {name} is set by the egress client", field="headers")
    return dict(headers or {})


def _origin_text(target: Target) -> str:
    """The origin alone, for messages: paths and queries of webhook URLs often hold secrets."""
    return f"{target.scheme}://{target.authority}"


def _redirect_method(status_code: int, method: str) -> str:
    """The method of the next hop, as browsers and httpx choose it (RFC 9110, 15.4)."""
    if status_code in (302, 303) and method != "HEAD":
        return "GET"
    if status_code == 301 and method == "POST":
        return "GET"
    return method


class EgressClient:
    """Sends JSON to destinations an `EgressPolicy` accepts; use it as a context manager.

    Args:
        policy: decides every URL, including each redirect's location.
        timeout: seconds allowed for each network operation (connect, each read, each write).
        max_response_bytes: how much of a response body is kept; reading stops there.
        max_redirects: redirects followed before the delivery is refused.
    """

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        timeout: float = 5.0,
        max_response_bytes: int = 64 * 1024,
        max_redirects: int = 3,
    ) -> None:
        if timeout <= 0 or max_response_bytes < 0 or max_redirects < 0:
            raise ValueError("timeout must be positive; the byte and redirect limits non-negative")
        self._policy = policy
        self._max_response_bytes = max_response_bytes
        self._max_redirects = max_redirects
        self._timeout = httpx.Timeout(timeout).as_dict()
        # A transport rather than httpx.Client: the client parses every Location header with
        # its own URL parser (a second opinion an attacker could exploit, and an exception on
        # locations it dislikes) and keeps a cookie jar shared by all destinations. A transport
        # follows no redirects, stores no cookies, and with trust_env=False reads nothing
        # (no proxy, no CA bundle) from the environment.
        self._transport = httpx.HTTPTransport(
            trust_env=False,
            # A pooled TLS connection verified for one host name must not carry a request for
            # another name on the same address; one connection per request avoids that.
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def __enter__(self) -> EgressClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections; the client cannot be used afterwards."""
        self._transport.close()

    def post_json(
        self,
        url: str,
        payload: object,
        headers: Mapping[str, str] | None = None,
        *,
        field: str = "url",
    ) -> Delivery:
        """POST `payload` as JSON to `url`, following up to `max_redirects` checked redirects.

        Args:
            url: the destination; it and every redirect location must pass the policy.
            payload: any value `json.dumps` accepts (NaN and infinities are refused).
            headers: extra headers such as a signature; cross-origin redirects drop them.
            field: names the input at fault in a `DestinationNotAllowedError`.

        Raises:
            DestinationNotAllowedError: the URL or a redirect location is refused, or the
                destination redirected more than `max_redirects` times.
            InvalidInputError: `headers` sets a header the client owns (Host, Content-Type...).
            httpx.TransportError: the destination could not be reached or timed out.
        """
        content = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
        hop = _Hop(self._policy.check(url, field=field), "POST", content, _caller_headers(headers))
        started = time.monotonic()
        redirects = 0
        while True:
            reply = self._exchange(hop)
            if reply.location is None:
                elapsed = timedelta(seconds=time.monotonic() - started)
                return Delivery(
                    hop.target.url,
                    reply.status_code,
                    elapsed,
                    reply.body,
                    reply.truncated,
                    redirects,
                )
            if redirects == self._max_redirects:
                raise DestinationNotAllowedError(
                    f"{_origin_text(hop.target)} redirected more than {self._max_redirects} times",
                    field=field,
                )
            hop = self._next_hop(hop, reply, field)
            redirects += 1

    def _next_hop(self, hop: _Hop, reply: _Reply, field: str) -> _Hop:
        location = reply.location or ""
        try:
            target = self._policy.check(urljoin(hop.target.url, location), field=field)
        except (DestinationNotAllowedError, ValueError) as exc:
            reason = exc.message if isinstance(exc, DestinationNotAllowedError) else str(exc)
            raise DestinationNotAllowedError(
                f"{_origin_text(hop.target)} redirected to a refused destination: {reason}",
                field=field,
            ) from exc
        method = _redirect_method(reply.status_code, hop.method)
        content = hop.content if method == hop.method else None
        # A secret in any caller header (a token, a signature) is meant for the origin the
        # user named, not for wherever that origin sends us next.
        headers = hop.headers if target.origin == hop.target.origin else {}
        return _Hop(target, method, content, headers)

    def _exchange(self, hop: _Hop) -> _Reply:
        *fallbacks, last = hop.target.addresses
        for address in fallbacks:
            try:
                return self._exchange_with(hop, address)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                continue  # nothing was sent yet; the next checked address may answer
        return self._exchange_with(hop, last)

    def _exchange_with(self, hop: _Hop, address: IPAddress) -> _Reply:
        request = build_pinned_request(hop.target, address, hop.method, hop.content, hop.headers)
        request.extensions["timeout"] = self._timeout
        response = self._transport.handle_request(request)
        try:
            location = response.headers.get("location")
            if response.status_code in REDIRECT_STATUSES and location is not None:
                return _Reply(response.status_code, location, b"", False)
            body, truncated = self._read_limited(response)
            return _Reply(response.status_code, None, body, truncated)
        finally:
            response.close()

    def _read_limited(self, response: httpx.Response) -> tuple[bytes, bool]:
        # Raw bytes, not decoded ones: with Accept-Encoding identity a server should not
        # compress, and if it does anyway the limit still counts what crossed the wire.
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_raw():
            room = self._max_response_bytes - size
            if len(chunk) > room:
                chunks.append(chunk[:room])
                return b"".join(chunks), True
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks), False
