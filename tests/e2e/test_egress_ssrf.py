"""SSRF, end to end: real HTTP servers on loopback, and a canary that must never hear a request.

The canary listens on 127.0.0.1 and the relay (an allow-listed destination) on 127.0.0.2, both on
the same port, so a client that resolved a name again at connect time would land on the canary.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from lockgate.domain.errors import DestinationNotAllowedError, InvalidInputError
from lockgate.egress import EgressClient, EgressPolicy
from lockgate.egress.client import build_pinned_request

Reply = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Seen:
    """One request as a server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def ok(path: str) -> Reply:
    return 200, {"Content-Type": "application/json"}, b'{"ok":true}'


def redirect(path: str) -> Reply:
    """`/redirect?status=302&to=URL` answers with that status and Location; anything else is ok."""
    query = parse_qs(urlsplit(path).query)
    if "to" not in query:
        return ok(path)
    return int(query.get("status", ["302"])[0]), {"Location": query["to"][0]}, b"moved"


class Recorder(ThreadingHTTPServer):
    """A server that records every request it receives and answers through `respond`."""

    daemon_threads = True

    def __init__(self, host: str, port: int, respond: Callable[[str], Reply]) -> None:
        self.seen: list[Seen] = []
        self.respond = respond
        self.lock = threading.Lock()
        super().__init__((host, port), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def _handle(self) -> None:
        server = cast(Recorder, self.server)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with server.lock:
            server.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
        status, headers, content = server.respond(self.path)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading at its byte limit, as it should

    do_GET = do_POST = do_PUT = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Servers:
    canary: Recorder
    relay: Recorder
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.canary.port


def _start(server: Recorder) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    return thread


@pytest.fixture
def servers() -> Iterator[Servers]:
    relay_respond: list[Callable[[str], Reply]] = [redirect]
    for _ in range(20):
        canary = Recorder("127.0.0.1", 0, ok)
        try:
            relay = Recorder("127.0.0.2", canary.port, lambda path: relay_respond[0](path))
        except OSError:
            canary.server_close()
            continue
        break
    else:
        pytest.fail("could not bind the canary and the relay on one port")
    pair = Servers(canary, relay)
    pair.threads = [_start(canary), _start(relay)]
    try:
        yield pair
    finally:
        for server, thread in zip((canary, relay), pair.threads, strict=True):
            server.shutdown()
            server.server_close()
            thread.join()


RELAY_ONLY = ["127.0.0.2/32"]


def _client(allow: list[str], **options: Any) -> EgressClient:
    return EgressClient(EgressPolicy(allow=allow), timeout=2.0, **options)


CANARY_URLS = [
    "http://127.0.0.1:{port}/",
    "http://2130706433:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://0x7f000001:{port}/",
    "http://0x7f.1:{port}/",
    "http://127.1:{port}/",
    "http://127.0.0.1.:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[::ffff:7f00:1]:{port}/",
    "http://[::127.0.0.1]:{port}/",
    "http://[::1]:{port}/",
    "http://localhost:{port}/",
    "http://localhost.:{port}/",
    "http://LOCALHOST:{port}/",
    "http://%6c%6f%63%61%6c%68%6f%73%74:{port}/",
    "http://0:{port}/",
    "http://0.0.0.0:{port}/",
    "http://[::]:{port}/",
    "http://user:pass@127.0.0.1:{port}/",
    "http://127.0.0.2:{port}\\@127.0.0.1:{port}/",
    "http://127.0.0.2:{port}#@127.0.0.1:{port}/",
    "//127.0.0.1:{port}/",
    "127.0.0.1:{port}",
]


@pytest.mark.parametrize("template", CANARY_URLS)
def test_no_encoding_of_loopback_reaches_the_canary(servers: Servers, template: str) -> None:
    with (
        _client(RELAY_ONLY) as client,
        pytest.raises(DestinationNotAllowedError, match=r"URL|host"),
    ):
        client.post_json(template.format(port=servers.port), {"secret": "s"})
    assert servers.canary.seen == []


@pytest.mark.parametrize(
    "template",
    [
        "http://2130706433:{port}/",
        "http://0177.0.0.1:{port}/",
        "http://0x7f000001:{port}/",
        "http://127.1:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://localhost:{port}/",
    ],
)
def test_the_same_encodings_do_reach_the_canary_once_allow_listed(
    servers: Servers, template: str
) -> None:
    """The control: the refusals above are meaningful because these URLs do name the canary."""
    with _client(["127.0.0.0/8", "::1/128"]) as client:
        delivery = client.post_json(template.format(port=servers.port), {"n": 1})
    assert delivery.is_success
    assert [seen.body for seen in servers.canary.seen] == [b'{"n":1}']


def test_an_allow_listed_destination_receives_the_json(servers: Servers) -> None:
    url = f"http://127.0.0.2:{servers.port}/hook?team=ml"
    with _client(RELAY_ONLY) as client:
        delivery = client.post_json(url, {"alert": "drift", "psi": 0.31}, {"X-Signature": "abc"})
    assert (delivery.status_code, delivery.body, delivery.truncated) == (200, b'{"ok":true}', False)
    assert delivery.redirects == 0
    assert delivery.url == url
    [seen] = servers.relay.seen
    assert (seen.method, seen.path) == ("POST", "/hook?team=ml")
    assert json.loads(seen.body) == {"alert": "drift", "psi": 0.31}
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["X-Signature"] == "abc"
    assert seen.headers["Host"] == f"127.0.0.2:{servers.port}"
    assert servers.canary.seen == []


def test_the_body_is_read_only_up_to_the_limit(servers: Servers) -> None:
    servers.relay.respond = lambda path: (500, {}, b"x" * (1024 * 1024))
    with _client(RELAY_ONLY, max_response_bytes=1000) as client:
        delivery = client.post_json(f"http://127.0.0.2:{servers.port}/", {})
    assert (delivery.status_code, delivery.is_success) == (500, False)
    assert (delivery.body, delivery.truncated) == (b"x" * 1000, True)


def _redirect_url(port: int, status: int, to: str) -> str:
    return str(httpx.URL(f"http://127.0.0.2:{port}/redirect", params={"status": status, "to": to}))


REDIRECT_TARGETS = [
    "http://127.0.0.1:{port}/",
    "http://2130706433:{port}/",
    "http://0x7f.1:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://localhost.:{port}/",
    "//127.0.0.1:{port}/",
    "http://127.0.0.1:{port}\\@127.0.0.2:{port}/",
    "gopher://127.0.0.1:{port}/_",
    "http://[::1",
]


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("template", REDIRECT_TARGETS)
def test_redirects_to_the_canary_are_not_followed(
    servers: Servers, template: str, status: int
) -> None:
    url = _redirect_url(servers.port, status, template.format(port=servers.port))
    with (
        _client(RELAY_ONLY) as client,
        pytest.raises(DestinationNotAllowedError, match="redirected"),
    ):
        client.post_json(url, {"secret": "s"})
    assert len(servers.relay.seen) == 1
    assert servers.canary.seen == []


def test_307_keeps_the_method_and_body_on_an_allowed_redirect(servers: Servers) -> None:
    with _client(RELAY_ONLY) as client:
        delivery = client.post_json(
            _redirect_url(servers.port, 307, "/final"), {"a": 1}, {"X-Signature": "abc"}
        )
    assert (delivery.status_code, delivery.redirects) == (200, 1)
    assert delivery.url == f"http://127.0.0.2:{servers.port}/final"
    first, second = servers.relay.seen
    assert (first.method, first.body) == ("POST", b'{"a":1}')
    assert (second.method, second.path, second.body) == ("POST", "/final", b'{"a":1}')
    assert second.headers["X-Signature"] == "abc"


@pytest.mark.parametrize("status", [301, 302, 303])
def test_301_302_303_turn_a_post_into_a_get_without_the_body(servers: Servers, status: int) -> None:
    with _client(RELAY_ONLY) as client:
        delivery = client.post_json(_redirect_url(servers.port, status, "/final"), {"a": 1})
    assert delivery.redirects == 1
    _, second = servers.relay.seen
    assert (second.method, second.body) == ("GET", b"")
    assert "Content-Type" not in second.headers


def test_a_cross_origin_redirect_drops_the_caller_headers(servers: Servers) -> None:
    policy = EgressPolicy(allow=RELAY_ONLY, resolver=lambda host, port: ["127.0.0.2"])
    with EgressClient(policy, timeout=2.0) as client:
        client.post_json(
            _redirect_url(servers.port, 307, f"http://relay.test:{servers.port}/final"),
            {"a": 1},
            {"X-Signature": "abc"},
        )
    first, second = servers.relay.seen
    assert first.headers["X-Signature"] == "abc"
    assert "X-Signature" not in second.headers
    assert second.headers["Host"] == f"relay.test:{servers.port}"


def test_redirects_stop_at_the_limit(servers: Servers) -> None:
    servers.relay.respond = lambda path: (302, {"Location": "/again"}, b"")
    with (
        _client(RELAY_ONLY, max_redirects=2) as client,
        pytest.raises(DestinationNotAllowedError, match="more than 2"),
    ):
        client.post_json(f"http://127.0.0.2:{servers.port}/loop", {})
    assert len(servers.relay.seen) == 3
    assert servers.canary.seen == []


def test_a_rebinding_name_is_delivered_to_the_checked_address(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name is 127.0.0.2 when checked and 127.0.0.1 (the canary) afterwards."""
    answers = iter([["127.0.0.2"]])
    policy = EgressPolicy(
        allow=RELAY_ONLY, resolver=lambda host, port: next(answers, ["127.0.0.1"])
    )
    system_getaddrinfo = socket.getaddrinfo

    def rebound(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port)))]
        return system_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebound)
    url = f"http://rebind.test:{servers.port}/hook"
    with EgressClient(policy, timeout=2.0) as client:
        delivery = client.post_json(url, {"a": 1})
        with pytest.raises(DestinationNotAllowedError, match="loopback"):
            client.post_json(url, {"a": 2})
    assert delivery.status_code == 200
    [seen] = servers.relay.seen
    assert seen.headers["Host"] == f"rebind.test:{servers.port}"
    assert seen.body == b'{"a":1}'
    assert servers.canary.seen == []
    # The control: a client that resolves the name itself at connect time hits the canary.
    with httpx.Client(trust_env=False) as naive:
        naive.post(url, json={"a": 3})
    assert [seen.body for seen in servers.canary.seen] == [b'{"a":3}']


def test_https_requests_carry_the_host_name_for_sni_and_certificates() -> None:
    policy = EgressPolicy(resolver=lambda host, port: ["93.184.216.34"])
    target = policy.check("https://Hooks.Example.com:8443/v1?x=1")
    request = build_pinned_request(target, target.addresses[0], "POST", b"{}", {"X-A": "1"})
    assert str(request.url) == "https://93.184.216.34:8443/v1?x=1"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert request.headers["Host"] == "hooks.example.com:8443"
    assert request.headers["X-A"] == "1"
    ipv6 = build_pinned_request(target, ip_address("2606:4700::1111"), "GET")
    assert ipv6.url.host == "2606:4700::1111"
    assert "Content-Type" not in ipv6.headers


@pytest.mark.parametrize("name", ["Host", "content-length", "Transfer-Encoding", "Content-Type"])
def test_callers_cannot_set_the_framing_headers(servers: Servers, name: str) -> None:
    with _client(RELAY_ONLY) as client, pytest.raises(InvalidInputError, match=name) as caught:
        client.post_json(f"http://127.0.0.2:{servers.port}/", {}, {name: "x"})
    assert caught.value.field == "headers"
    assert servers.relay.seen == []


def test_an_address_that_refuses_connections_falls_back_to_the_next_checked_one(
    servers: Servers,
) -> None:
    policy = EgressPolicy(
        allow=["127.0.0.2/32", "127.0.0.3/32"],
        resolver=lambda host, port: ["127.0.0.3", "127.0.0.2"],
    )
    with EgressClient(policy, timeout=2.0) as client:
        delivery = client.post_json(f"http://two.test:{servers.port}/", {"a": 1})
    assert delivery.status_code == 200
    assert len(servers.relay.seen) == 1
    assert servers.canary.seen == []


@pytest.mark.parametrize(
    "options", [{"timeout": 0}, {"max_response_bytes": -1}, {"max_redirects": -1}]
)
def test_limits_must_make_sense(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="timeout must be positive"):
        EgressClient(EgressPolicy(), **options)


def test_connection_failures_surface_as_transport_errors(servers: Servers) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
        closed_port = probe.getsockname()[1]
    with _client(RELAY_ONLY) as client, pytest.raises(httpx.ConnectError):
        client.post_json(f"http://127.0.0.2:{closed_port}/", {})
