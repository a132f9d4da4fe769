"""Strict parsing of outbound URLs: one parser decides what host a URL names, and nothing reparses.

SSRF filters are usually beaten where two parsers disagree (`http://a#@b/`, `http:\\\\b`,
`http://0x7f.1/`), so this parser refuses everything a webhook URL never needs and reads
numeric hosts the way browsers and `inet_aton` do (WHATWG URL, IPv4 parser).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from lockgate.domain.errors import DestinationNotAllowedError
from lockgate.egress.addresses import IPAddress

__all__ = [
    "DEFAULT_PORTS",
    "MAX_URL_LENGTH",
    "Destination",
    "ends_in_number",
    "is_host_name",
    "parse_destination",
]

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2048

_SCHEME = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?P<rest>.*)", re.DOTALL)
_HOST_NAME = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*")
_PORT = re.compile(r":(?P<port>[0-9]{1,5})")
_RADIX_DIGITS = {10: "0123456789", 8: "01234567", 16: "0123456789abcdef"}


@dataclass(frozen=True, slots=True)
class Destination:
    """A parsed URL before resolution; `host` is lower case, an IP literal in canonical form."""

    scheme: str
    host: str
    written_host: str
    port: int
    path: str
    literal: IPAddress | None


def _refuse(reason: str, field: str) -> DestinationNotAllowedError:
    # The URL itself stays out of the message: webhook URLs often carry a secret in the path
    # (Slack, generic tokens), and these messages end up in logs and API responses.
    return DestinationNotAllowedError(f"URL {reason}", field=field)


def _check_characters(url: str, field: str) -> None:
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(f"is longer than {MAX_URL_LENGTH} characters", field)
    for char in url:
        if char == "\\":
            raise _refuse("contains a backslash", field)
        if char == "#":
            raise _refuse("contains a fragment (#), which is never sent", field)
        if not "!" <= char <= "~":
            raise _refuse(
                "contains whitespace, a control character or a non-ASCII character "
                "(write international host names in punycode, xn--)",
                field,
            )


def _parse_ipv4_number(text: str) -> int | None:
    if not text:
        return None
    radix = 10
    if text.startswith("0x"):
        text, radix = text[2:], 16
    elif len(text) > 1 and text.startswith("0"):
        text, radix = text[1:], 8
    if not text:
        return 0
    if any(char not in _RADIX_DIGITS[radix] for char in text):
        return None
    return int(text, radix)


def ends_in_number(host: str) -> bool:
    """Whether a (lower-case) host must be read as an IPv4 address, per the WHATWG URL standard."""
    last = host.split(".")[-1]
    if last.isdigit():
        return True
    return _parse_ipv4_number(last) is not None


def _parse_ipv4(host: str) -> IPv4Address | None:
    parts = host.split(".")
    if len(parts) > 4:
        return None
    numbers = [_parse_ipv4_number(part) for part in parts]
    if any(number is None for number in numbers):
        return None
    values = [number for number in numbers if number is not None]
    if any(value > 255 for value in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    leading = sum(value << (8 * (3 - index)) for index, value in enumerate(values[:-1]))
    return IPv4Address(leading + values[-1])


def is_host_name(name: str) -> bool:
    """Whether a lower-case name (no trailing dot) is a syntactically valid DNS host name."""
    return len(name) <= 253 and _HOST_NAME.fullmatch(name) is not None


def _split_authority(authority: str, field: str) -> tuple[str, str]:
    """Split into the host as written (IPv6 without brackets) and the `:port` part."""
    if "@" in authority:
        raise _refuse("must not contain credentials (user:password@)", field)
    if "%" in authority:
        raise _refuse("must not percent-encode its host or port", field)
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            raise _refuse("has an unclosed IPv6 bracket", field)
        return authority[1:close], authority[close + 1 :]
    host, colon, port = authority.partition(":")
    return host, colon + port


def _parse_port(scheme: str, text: str, field: str) -> int:
    if not text:
        return DEFAULT_PORTS[scheme]
    match = _PORT.fullmatch(text)
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise _refuse("must have a port from 1 to 65535", field)
    return int(match["port"])


def _parse_host(written: str, bracketed: bool, field: str) -> tuple[str, IPAddress | None]:
    if bracketed:
        try:
            address = IPv6Address(written)
        except ValueError:
            raise _refuse(f"has [{written}], which is not an IPv6 address", field) from None
        return str(address), address
    host = written.lower().removesuffix(".")
    if not host:
        raise _refuse("has no host", field)
    if ends_in_number(host):
        ipv4 = _parse_ipv4(host)
        if ipv4 is None:
            raise _refuse(f"has host {written}, which is not a valid IPv4 address", field)
        return str(ipv4), ipv4
    if not is_host_name(host):
        raise _refuse(f"has host {written}, which is not a valid host name", field)
    return host, None


def parse_destination(url: str, field: str = "url") -> Destination:
    """Parse an absolute http(s) URL, refusing anything ambiguous.

    Raises:
        DestinationNotAllowedError: the URL is malformed, not http(s), carries credentials,
            a fragment, a backslash, whitespace or control characters.
    """
    _check_characters(url, field)
    match = _SCHEME.fullmatch(url)
    if match is None or not match["rest"].startswith("//"):
        raise _refuse("is not an absolute http or https URL", field)
    scheme = match["scheme"].lower()
    if scheme not in DEFAULT_PORTS:
        raise _refuse(f"has scheme {scheme[:32]}:, but only http and https are allowed", field)
    rest = match["rest"][2:]
    end = min(
        (index for index in (rest.find("/"), rest.find("?")) if index >= 0), default=len(rest)
    )
    authority, path = rest[:end], rest[end:]
    written, port_text = _split_authority(authority, field)
    host, literal = _parse_host(written, authority.startswith("["), field)
    port = _parse_port(scheme, port_text, field)
    if not path.startswith("/"):
        path = f"/{path}"
    return Destination(scheme, host, written.lower(), port, path, literal)
