"""The egress policy: which URLs outbound webhooks may reach, however the host is written."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, ip_address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lockgate.domain.errors import DestinationNotAllowedError
from lockgate.egress import EgressPolicy, Target, non_public_reason

PUBLIC = "93.184.216.34"


def dns(records: dict[str, list[str]]) -> Callable[[str, int], Iterable[str]]:
    """An injected resolver: the names we know, NXDOMAIN (like getaddrinfo) for the rest."""

    def resolve(host: str, port: int) -> Iterable[str]:
        if host not in records:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return records[host]

    return resolve


# Every one of these reaches this machine; the real resolver is used.
LOOPBACK_ENCODINGS = [
    "http://127.0.0.1/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f000001/",
    "http://0X7F.0.0.1/",
    "http://0x7f.1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://017700000001/",
    "http://127.0.0.1./",
    "http://127.000.000.001/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]/",
    "http://[::127.0.0.1]/",
    "http://[::1]/",
    "http://[0000::1]/",
    "http://[64:ff9b::127.0.0.1]/",
    "http://[2002:7f00:1::1]/",
    "http://localhost/",
    "http://localhost./",
    "http://LOCALHOST/",
    "http://LocalHost:8080/",
    "http://0/",
    "http://0.0.0.0/",
    "http://0x.0x.0x.0x/",
    "http://[::]/",
]


@pytest.mark.parametrize("url", LOOPBACK_ENCODINGS)
def test_every_encoding_of_this_machine_is_refused(url: str) -> None:
    with pytest.raises(DestinationNotAllowedError, match=r"loopback|unspecified") as caught:
        EgressPolicy().check(url)
    assert caught.value.field == "url"
    assert caught.value.code == "destination_not_allowed"


@pytest.mark.parametrize(
    "url",
    [
        "http://%6c%6f%63%61%6c%68%6f%73%74/",
        "http://%31%32%37.0.0.1/",
        "http://127.0.0.1%2f/",
        "http://[::1%25lo]/",
        "http://[fe80::1%25eth0]/",
    ],
)
def test_percent_encoded_hosts_are_refused(url: str) -> None:
    with pytest.raises(DestinationNotAllowedError, match="percent-encode"):
        EgressPolicy().check(url)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.5", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.0.1", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.100.100.200", "carrier-grade NAT"),
        ("192.0.0.192", "IETF protocol"),
        ("0.1.2.3", "this network"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("192.0.2.1", "documentation"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.9", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("192.88.99.1", "6to4 relay"),
        ("[fe80::1]", "link-local"),
        ("[fec0::1]", "site-local"),
        ("[fd00:ec2::254]", "unique-local"),
        ("[fc00::1]", "unique-local"),
        ("[ff02::1]", "multicast"),
        ("[2001:db8::1]", "documentation"),
        ("[3fff::1]", "documentation"),
        ("[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "Teredo"),
        ("[100::1]", "discard"),
        ("[64:ff9b:1::1]", "NAT64 local-use"),
        ("[::ffff:10.0.0.1]", "embeds 10.0.0.1, a private"),
        ("[::ffff:169.254.169.254]", "embeds 169.254.169.254"),
        ("[::a9fe:a9fe]", "embeds 169.254.169.254"),
        ("[64:ff9b::192.168.0.1]", "embeds 192.168.0.1"),
        ("[2002:a00:1::]", "embeds 10.0.0.1"),
        ("[::ffff:0:7f00:1]", "reserved"),
        ("[4000::1]", "reserved"),
    ],
)
def test_internal_and_special_ranges_are_refused(address: str, reason: str) -> None:
    with pytest.raises(DestinationNotAllowedError, match=reason):
        EgressPolicy().check(f"http://{address}/hook")


@pytest.mark.parametrize(
    "url",
    [
        f"http://{PUBLIC}/",
        "https://8.8.8.8:8443/hook?x=1",
        "http://[2606:4700::1111]/",
        "http://[::ffff:8.8.8.8]/",
        "http://[64:ff9b::8.8.8.8]/",
        "http://[2002:808:808::1]/",
        "http://134744072/",
    ],
)
def test_public_literal_addresses_are_accepted(url: str) -> None:
    target = EgressPolicy(resolver=dns({})).check(url)
    assert len(target.addresses) == 1
    assert non_public_reason(target.addresses[0]) is None


def test_a_public_name_is_accepted_with_the_checked_addresses() -> None:
    policy = EgressPolicy(resolver=dns({"hooks.example.com": [PUBLIC, PUBLIC]}))
    target = policy.check("https://Hooks.Example.COM./v1/alert?team=ml")
    assert target == Target(
        scheme="https",
        host="hooks.example.com",
        port=443,
        addresses=(IPv4Address(PUBLIC),),
        path="/v1/alert?team=ml",
    )
    assert target.url == "https://hooks.example.com/v1/alert?team=ml"
    assert target.authority == "hooks.example.com"


def test_authority_keeps_a_non_default_port_and_brackets_ipv6() -> None:
    target = EgressPolicy().check("http://[2606:4700::1111]:8080")
    assert target.authority == "[2606:4700::1111]:8080"
    assert target.url == "http://[2606:4700::1111]:8080/"


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    policy = EgressPolicy(resolver=dns({"hooks.example.com": ["10.0.0.5"]}))
    with pytest.raises(DestinationNotAllowedError, match=r"resolves to 10\.0\.0\.5, a private"):
        policy.check("http://hooks.example.com/")


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    policy = EgressPolicy(resolver=dns({"hooks.example.com": [PUBLIC, "2606:4700::1", "10.0.0.5"]}))
    with pytest.raises(DestinationNotAllowedError, match=r"10\.0\.0\.5"):
        policy.check("http://hooks.example.com/")


def test_names_that_do_not_resolve_are_refused() -> None:
    policy = EgressPolicy(resolver=dns({"empty.example.com": []}))
    with pytest.raises(DestinationNotAllowedError, match="could not be resolved"):
        policy.check("http://missing.example.com/")
    with pytest.raises(DestinationNotAllowedError, match="no address"):
        policy.check("http://empty.example.com/")


def test_a_resolver_answer_that_is_not_an_address_is_refused() -> None:
    policy = EgressPolicy(resolver=dns({"odd.example.com": ["localhost"]}))
    with pytest.raises(DestinationNotAllowedError, match="not an IP address"):
        policy.check("http://odd.example.com/")


def test_an_allow_listed_cidr_admits_its_addresses_only() -> None:
    policy = EgressPolicy(
        allow=["10.0.0.0/8", "fd00::/8"],
        resolver=dns({"ci.internal": ["10.1.2.3"], "mixed.internal": ["10.1.2.3", "127.0.0.1"]}),
    )
    assert policy.check("http://10.200.0.1:9000/hook").addresses == (ip_address("10.200.0.1"),)
    assert policy.check("http://[::ffff:10.0.0.1]/").port == 80
    assert policy.check("http://[fd00::5]/").host == "fd00::5"
    assert policy.check("http://ci.internal/").addresses == (ip_address("10.1.2.3"),)
    with pytest.raises(DestinationNotAllowedError, match="loopback"):
        policy.check("http://127.0.0.1/")
    with pytest.raises(DestinationNotAllowedError, match="loopback"):
        policy.check("http://mixed.internal/")
    with pytest.raises(DestinationNotAllowedError, match="private"):
        policy.check("http://192.168.0.1/")


def test_an_allow_listed_name_admits_that_exact_name() -> None:
    policy = EgressPolicy(
        allow=["Alerts.Internal."],
        resolver=dns({"alerts.internal": ["10.0.0.7"], "other.internal": ["10.0.0.7"]}),
    )
    assert policy.check("http://ALERTS.internal./x").host == "alerts.internal"
    with pytest.raises(DestinationNotAllowedError, match="private"):
        policy.check("http://other.internal/")
    with pytest.raises(DestinationNotAllowedError, match="private"):
        policy.check("http://10.0.0.7/")


@pytest.mark.parametrize("entry", ["10.0.0.1/8", "10.0.0.0/33", "not a name", "", "127.1", "a..b"])
def test_a_malformed_allow_entry_is_a_configuration_error(entry: str) -> None:
    with pytest.raises(ValueError, match="egress_allow entry"):
        EgressPolicy(allow=[entry])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("gopher://127.0.0.1:6379/_INFO", "only http and https"),
        ("ftp://example.com/", "only http and https"),
        ("dict://127.0.0.1:11211/", "only http and https"),
        ("javascript:alert(1)", "not an absolute"),
        ("//127.0.0.1/x", "not an absolute"),
        ("127.0.0.1:80", "not an absolute"),
        ("localhost:80", "not an absolute"),
        ("http:127.0.0.1", "not an absolute"),
        ("http:/127.0.0.1/", "not an absolute"),
        ("http:///127.0.0.1/", "no host"),
        ("http://", "no host"),
        ("http://:80/", "no host"),
        ("", "not an absolute"),
    ],
)
def test_other_schemes_and_relative_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(DestinationNotAllowedError, match=reason):
        EgressPolicy(resolver=dns({"example.com": [PUBLIC]})).check(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://user:pass@hooks.example.com/",
        "http://user@hooks.example.com/",
        "http://@hooks.example.com/",
        "http://hooks.example.com@127.0.0.1/",
        "http://127.0.0.1:80@hooks.example.com/",
        "http://[::1]@hooks.example.com/",
    ],
)
def test_credentials_in_the_url_are_refused(url: str) -> None:
    with pytest.raises(DestinationNotAllowedError, match="credentials"):
        EgressPolicy(resolver=dns({"hooks.example.com": [PUBLIC]})).check(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com#@127.0.0.1/", "fragment"),
        ("http://hooks.example.com/#x", "fragment"),
        ("http://127.0.0.1\\@hooks.example.com/", "backslash"),
        ("http:\\\\127.0.0.1\\", "backslash"),
        ("http://hooks.example.com /", "whitespace"),
        (" http://hooks.example.com/", "whitespace"),
        ("http://hooks.example.com/\r\nX-Injected: 1", "control character"),
        ("http://127.0.0.1\t/", "control character"),
        ("http://hooks.example.com\x00.evil/", "control character"),
        ("http://hooks.example.com/\x7f", "control character"),
        ("http://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/", "non-ASCII"),
        ("http://\uff11\uff12\uff17.0.0.1/", "non-ASCII"),
        ("http://hooks.example.com/" + "a" * 2100, "longer than"),
    ],
)
def test_ambiguous_characters_are_refused(url: str, reason: str) -> None:
    with pytest.raises(DestinationNotAllowedError, match=reason):
        EgressPolicy(resolver=dns({"hooks.example.com": [PUBLIC]})).check(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com:0/", "port"),
        ("http://hooks.example.com:65536/", "port"),
        ("http://hooks.example.com:/", "port"),
        ("http://hooks.example.com:8o/", "port"),
        ("http://hooks.example.com:+80/", "port"),
        ("http://hooks.example.com:80:80/", "port"),
        ("http://[::1/", "unclosed"),
        ("http://[127.0.0.1]/", "not an IPv6"),
        ("http://[v1.x]/", "not an IPv6"),
        ("http://[2606:4700::1111]x/", "port"),
        ("http://256.0.0.1/", "not a valid IPv4"),
        ("http://1.2.3.4.5/", "not a valid IPv4"),
        ("http://1..2/", "not a valid IPv4"),
        ("http://08.0.0.1/", "not a valid IPv4"),
        ("http://0x1g/", "could not be resolved"),  # a name, as in browsers
        ("http://example.123/", "not a valid IPv4"),
        ("http://a..b/", "not a valid host name"),
        ("http://exa mple/", "whitespace"),
        ("http://ex!ample.com/", "not a valid host name"),
        ("http://" + "a" * 64 + ".com/", "not a valid host name"),
    ],
)
def test_malformed_hosts_and_ports_are_refused(url: str, reason: str) -> None:
    with pytest.raises(DestinationNotAllowedError, match=reason):
        EgressPolicy(resolver=dns({})).check(url)


@pytest.mark.parametrize("port", [1, 80, 65535])
def test_ports_in_range_are_accepted(port: int) -> None:
    assert EgressPolicy().check(f"http://{PUBLIC}:{port}").port == port


def test_messages_leave_out_the_path_and_query_which_may_hold_secrets() -> None:
    policy = EgressPolicy(resolver=dns({"hooks.internal": ["10.0.0.5"]}))
    for url in [
        "http://hooks.internal/services/T0/B0/s3cret",
        "http://hooks.internal/x?token=s3cret",
        "http://hooks.internal/s3cret\\",
        "gopher://hooks.internal/s3cret",
    ]:
        with pytest.raises(DestinationNotAllowedError) as caught:
            policy.check(url)
        assert "s3cret" not in caught.value.message


def test_the_caller_names_the_field_at_fault() -> None:
    with pytest.raises(DestinationNotAllowedError, match="loopback") as caught:
        EgressPolicy().check("http://127.0.0.1/", field="webhook_url")
    assert caught.value.field == "webhook_url"


# --- properties -------------------------------------------------------------------------------

INTERNAL_V4 = [IPv4Network("127.0.0.0/8"), IPv4Network("10.0.0.0/8"), IPv4Network("169.254.0.0/16")]


def _encode_part(value: int, style: str) -> str:
    if style == "octal":
        return f"0{value:o}"
    if style == "hex":
        return f"0x{value:x}"
    if style == "HEX":
        return f"0X{value:X}"
    return str(value)


@st.composite
def encoded_internal_ipv4(draw: st.DrawFn) -> tuple[IPv4Address, str]:
    """An internal address written as dotted, short (`127.1`) or single-number forms."""
    network = draw(st.sampled_from(INTERNAL_V4))
    address = IPv4Address(
        draw(st.integers(int(network.network_address), int(network.broadcast_address)))
    )
    parts = draw(st.integers(1, 4))
    packed = address.packed
    leading = list(packed[: parts - 1])
    last = int.from_bytes(packed[parts - 1 :], "big")
    styles = st.sampled_from(["decimal", "octal", "hex", "HEX"])
    written = ".".join(_encode_part(value, draw(styles)) for value in [*leading, last])
    return address, written + draw(st.sampled_from(["", "."]))


@given(encoded_internal_ipv4())
def test_internal_ipv4_is_refused_in_any_numeric_form(case: tuple[IPv4Address, str]) -> None:
    address, host = case
    with pytest.raises(DestinationNotAllowedError, match=rf"resolves to {address}, "):
        EgressPolicy().check(f"http://{host}:8080/hook")


@given(st.sampled_from(INTERNAL_V4).flatmap(lambda net: st.ip_addresses(network=net)))
def test_internal_ipv4_is_refused_when_mapped_into_ipv6(address: IPv4Address) -> None:
    with pytest.raises(DestinationNotAllowedError, match=f"embeds {address}"):
        EgressPolicy().check(f"http://[::ffff:{address}]/")


@given(st.ip_addresses(v=4).filter(lambda address: non_public_reason(address) is None))
def test_public_ipv4_is_accepted_in_canonical_form(address: IPv4Address) -> None:
    assert EgressPolicy().check(f"https://{address}/x").addresses == (address,)


@given(
    st.one_of(
        st.text(max_size=80),
        st.builds(
            "".join,
            st.lists(
                st.sampled_from(
                    [
                        "http://",
                        "https://",
                        "[",
                        "]",
                        ":",
                        "@",
                        ".",
                        "0x",
                        "0",
                        "7f",
                        "127",
                        "1",
                        "/",
                        "?",
                        "%",
                        "::ffff:",
                        "localhost",
                        "hooks.example.com",
                        "\\",
                        "#",
                    ]
                ),
                max_size=12,
            ),
        ),
    )
)
def test_no_url_gets_past_a_resolver_that_says_loopback(url: str) -> None:
    policy = EgressPolicy(resolver=lambda host, port: ["127.0.0.1"])
    try:
        target = policy.check(url)
    except DestinationNotAllowedError:
        return
    assert all(non_public_reason(address) is None for address in target.addresses)
    assert all(isinstance(address, IPv4Address | IPv6Address) for address in target.addresses)
