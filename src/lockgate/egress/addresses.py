"""Which IP addresses are public: the special-purpose ranges an outbound request must not reach.

The tables follow the IANA special-purpose registries rather than `ipaddress.is_global`, whose
answers changed between patch releases of Python (CVE-2024-4032) and miss some ranges, such as
192.0.0.192 (a cloud metadata address). Addresses that embed an IPv4 address (mapped,
compatible, NAT64, 6to4) are judged by the IPv4 address they reach.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

__all__ = ["IPAddress", "embedded_ipv4", "non_public_reason"]

IPAddress = IPv4Address | IPv6Address

_CLOUD_METADATA = IPv4Address("169.254.169.254")

_IPV4_SPECIAL: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(network), reason)
    for network, reason in (
        ("0.0.0.0/32", "the unspecified address"),
        ("0.0.0.0/8", "a 'this network' address"),
        ("10.0.0.0/8", "a private address (RFC 1918)"),
        ("100.64.0.0/10", "a carrier-grade NAT address (RFC 6598)"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address (RFC 1918)"),
        ("192.0.0.0/24", "an IETF protocol assignment"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a 6to4 relay anycast address"),
        ("192.168.0.0/16", "a private address (RFC 1918)"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("240.0.0.0/4", "a reserved address"),
    )
)

_IPV6_SPECIAL: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(network), reason)
    for network, reason in (
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address"),
        ("64:ff9b:1::/48", "a NAT64 local-use address"),
        ("100::/64", "a discard-only address"),
        ("2001::/32", "a Teredo address"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("fc00::/7", "a unique-local address (fc00::/7)"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
)

_IPV4_MAPPED = IPv6Network("::ffff:0:0/96")
_IPV4_COMPATIBLE = IPv6Network("::/96")
_NAT64 = IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = IPv6Network("2002::/16")
_GLOBAL_UNICAST = IPv6Network("2000::/3")


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address a packet to `address` ends up at, for the forms that embed one."""
    if address in _IPV4_MAPPED or address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        # ::/128 and ::1/128 sit inside ::/96 but are IPv6's own unspecified and loopback.
        return IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    return None


def _ipv4_reason(address: IPv4Address) -> str | None:
    if address == _CLOUD_METADATA:
        return "a link-local address (cloud metadata)"
    for network, reason in _IPV4_SPECIAL:
        if address in network:
            return reason
    return None if address.is_global else "a special-purpose address"


def _ipv6_reason(address: IPv6Address) -> str | None:
    for network, reason in _IPV6_SPECIAL:
        if address in network:
            return reason
    if address not in _GLOBAL_UNICAST:
        return "a reserved address"
    return None if address.is_global else "a special-purpose address"


def non_public_reason(address: IPAddress) -> str | None:
    """Why `address` is not public ("a loopback address"), or None when it is public."""
    if isinstance(address, IPv4Address):
        return _ipv4_reason(address)
    inner = embedded_ipv4(address)
    if inner is not None:
        reason = _ipv4_reason(inner)
        return None if reason is None else f"which embeds {inner}, {reason}"
    return _ipv6_reason(address)
