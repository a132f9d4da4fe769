"""The egress policy: may the server send a request to this URL, and to which checked addresses.

A URL passes when every address its host resolves to is public, falls in an allow-listed CIDR,
or the host name itself is allow-listed. The checked addresses travel with the `Target`, so the
client connects to exactly those and a DNS answer that changes later is never consulted.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from lockgate.domain.errors import DestinationNotAllowedError
from lockgate.egress.addresses import IPAddress, non_public_reason
from lockgate.egress.url import (
    DEFAULT_PORTS,
    Destination,
    ends_in_number,
    is_host_name,
    parse_destination,
)

__all__ = ["EgressPolicy", "Resolver", "Target", "resolve_host"]

Resolver = Callable[[str, int], Iterable[str]]
"""Maps a host name and port to the addresses it resolves to (as text, like getaddrinfo)."""


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (/etc/hosts, A and AAAA records)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True, slots=True)
class Target:
    """A URL the policy accepted: where to connect (`addresses`) and what to ask for.

    `host` is the lower-case host name (or canonical IP literal) for the Host header and for
    TLS; `path` is the path and query to request.
    """

    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]
    path: str

    @property
    def authority(self) -> str:
        """`host[:port]` as the Host header carries it (IPv6 in brackets, default port left out)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if DEFAULT_PORTS[self.scheme] == self.port else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """The normalized URL, with the host as named (not the pinned address)."""
        return f"{self.scheme}://{self.authority}{self.path}"

    @property
    def origin(self) -> tuple[str, str, int]:
        """Scheme, host and port: a redirect to another origin must not carry the caller's secrets."""
        return (self.scheme, self.host, self.port)


def _parse_allow(
    allow: Sequence[str],
) -> tuple[tuple[IPv4Network | IPv6Network, ...], frozenset[str]]:
    networks: list[IPv4Network | IPv6Network] = []
    names: set[str] = set()
    for entry in allow:
        text = entry.strip()
        if "/" in text or ":" in text or (text and ends_in_number(text.lower())):
            try:
                networks.append(ip_network(text))
            except ValueError as exc:
                raise ValueError(
                    f"egress_allow entry {entry!r} is not a valid CIDR: {exc}"
                ) from None
            continue
        name = text.lower().removesuffix(".")
        if not is_host_name(name):
            raise ValueError(f"egress_allow entry {entry!r} is neither a CIDR nor a host name")
        names.add(name)
    return tuple(networks), frozenset(names)


class EgressPolicy:
    """Decides which URLs outbound requests (webhooks, notifiers) may reach.

    Args:
        allow: operator exceptions (the `egress_allow` setting): CIDRs such as `10.0.0.0/8`, or
            exact host names (case-insensitive, a trailing dot ignored).
        resolver: how host names become addresses; `socket.getaddrinfo` unless a test injects
            its own DNS.

    Raises:
        ValueError: an `allow` entry is neither a CIDR nor a host name.
    """

    def __init__(self, allow: Sequence[str] = (), resolver: Resolver = resolve_host) -> None:
        self._networks, self._names = _parse_allow(allow)
        self._resolver = resolver

    def check(self, url: str, *, field: str = "url") -> Target:
        """Parse and resolve `url` and accept it only if every address it reaches is allowed.

        Raises:
            DestinationNotAllowedError: the URL is malformed or not http(s), its host does not
                resolve, or one of its addresses is not public and not allow-listed; the
                message says which address and why, and the error's `field` is `field`.
        """
        destination = parse_destination(url, field)
        addresses = self._resolve(destination, field)
        if destination.host not in self._names:
            for address in addresses:
                self._judge(destination, address, field)
        return Target(
            destination.scheme, destination.host, destination.port, addresses, destination.path
        )

    def is_allow_listed(self, address: IPAddress) -> bool:
        """Whether an operator allow-listed `address` (or the IPv4 address it maps to)."""
        candidates: list[IPAddress] = [address]
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        return any(candidate in network for candidate in candidates for network in self._networks)

    def _resolve(self, destination: Destination, field: str) -> tuple[IPAddress, ...]:
        if destination.literal is not None:
            return (destination.literal,)
        host = destination.written_host
        try:
            answers = list(self._resolver(destination.host, destination.port))
        except (OSError, UnicodeError):
            raise DestinationNotAllowedError(
                f"host {host} could not be resolved", field=field
            ) from None
        addresses: list[IPAddress] = []
        for answer in answers:
            try:
                address = ip_address(answer)
            except ValueError:
                raise DestinationNotAllowedError(
                    f"host {host} resolved to {answer!r}, which is not an IP address", field=field
                ) from None
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise DestinationNotAllowedError(f"host {host} resolves to no address", field=field)
        return tuple(addresses)

    def _judge(self, destination: Destination, address: IPAddress, field: str) -> None:
        reason = non_public_reason(address)
        if reason is None or self.is_allow_listed(address):
            return
        raise DestinationNotAllowedError(
            f"host {destination.written_host} resolves to {address}, {reason}; "
            "an operator can allow it with the egress_allow setting",
            field=field,
        )
