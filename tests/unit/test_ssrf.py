"""The webhook SSRF guard: every notation of the metadata address, link-local, loopback/private (only where allowed),
odd schemes and URL tricks, and host names whose resolution is unsafe (a fake resolver; no DNS, no network)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from booking_core.webhooks.ssrf import UnsafeUrl, check_url, classify, vet

PUBLIC = "93.184.216.34"


def resolver(*addresses: str, calls: list | None = None):
    """A stand-in for socket.getaddrinfo answering `addresses` for any name."""

    def resolve(host, port, *args, **kwargs):
        if calls is not None:
            calls.append((host, port))
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "",
                 (a, port, 0, 0) if ":" in a else (a, port)) for a in addresses]

    return resolve


def refused(url: str, *, allow_private: bool, resolve=None) -> str:
    with pytest.raises(UnsafeUrl) as caught:
        check_url(url, allow_private=allow_private, resolve=resolve or resolver(PUBLIC))
    return caught.value.reason


# -- cloud metadata: refused in every notation, even where private targets are allowed ----------------------------
METADATA_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254:80/latest/api/token",
    "http://169.254.169.254./",                      # trailing dot
    "HTTP://169.254.169.254/",                       # scheme case
    "https://169.254.169.254:8443/",
    "http://2852039166/",                            # one decimal number
    "http://0xa9fea9fe/",                            # one hex number
    "http://0XA9FEA9FE/",
    "http://0251.0376.0251.0376/",                   # octal parts
    "http://0xa9.0xfe.0xa9.0xfe/",                   # hex parts
    "http://0251.254.0xa9.254/",                     # mixed
    "http://169.254.43518/",                         # a.b.c with a 16-bit last part
    "http://169.16689662/",                          # a.b with a 24-bit last part
    "http://00000169.254.169.254/",                  # leading zeros (octal 0169 is invalid -> refused anyway)
    "http://[::ffff:169.254.169.254]/",              # IPv4-mapped IPv6
    "http://[::ffff:a9fe:a9fe]/",
    "http://[0:0:0:0:0:ffff:a9fe:a9fe]/",
    "http://[::169.254.169.254]/",                   # IPv4-compatible IPv6
    "http://[64:ff9b::a9fe:a9fe]/",                  # NAT64
    "http://[2002:a9fe:a9fe::1]/",                   # 6to4
    "http://[fd00:ec2::254]/",                       # AWS IMDS over IPv6
    "http://[FD00:EC2:0:0:0:0:0:254]:80/",
    "http://169.254.170.2/v2/credentials",           # ECS task credentials
]


@pytest.mark.parametrize("url", METADATA_URLS)
@pytest.mark.parametrize("allow_private", [False, True])
def test_metadata_is_refused_in_any_notation(url, allow_private):
    reason = refused(url, allow_private=allow_private)
    if "00000169" not in url:
        assert "metadata" in reason, reason


@pytest.mark.parametrize("url", [
    "http://169.254.1.1/", "http://169.254.255.255/", "http://[fe80::1]/", "http://[fe80::1%25eth0]/",
    "http://[FE80::abcd:1]:8080/", "http://[::ffff:169.254.0.1]/", "http://0xa9fe0101/",
])
@pytest.mark.parametrize("allow_private", [False, True])
def test_link_local_is_refused_everywhere(url, allow_private):
    assert "link-local" in refused(url, allow_private=allow_private)


@pytest.mark.parametrize("url, why", [
    ("http://0.0.0.0/", "unspecified"), ("http://0/", "unspecified"), ("http://0x0/", "unspecified"),
    ("http://[::]/", "unspecified"), ("http://0.1.2.3/", "unspecified"),
    ("http://224.0.0.1/", "multicast"), ("http://239.255.255.250/", "multicast"), ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"), ("http://255.255.255.255/", "reserved"),
    ("http://192.0.2.10/", "non-public"), ("http://198.18.0.1/", "non-public"), ("http://[2001:db8::1]/", "non-public"),
])
@pytest.mark.parametrize("allow_private", [False, True])
def test_unroutable_and_special_addresses_are_refused_everywhere(url, why, allow_private):
    assert why in refused(url, allow_private=allow_private)


# -- loopback and private: refused by default, allowed where the deployment allows them ---------------------------
@pytest.mark.parametrize("url, address", [
    ("http://127.0.0.1/", "127.0.0.1"), ("http://127.1/", "127.0.0.1"), ("http://2130706433/", "127.0.0.1"),
    ("http://0x7f000001/", "127.0.0.1"), ("http://0177.0.0.1/", "127.0.0.1"), ("http://0x7f.1/", "127.0.0.1"),
    ("http://127.255.255.254:8080/", "127.255.255.254"), ("http://[::1]/", "::1"),
    ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
    ("http://10.1.2.3/", "10.1.2.3"), ("http://012.1.2.3/", "10.1.2.3"), ("http://172.16.0.9/", "172.16.0.9"),
    ("http://172.31.255.255/", "172.31.255.255"), ("http://192.168.1.1/", "192.168.1.1"),
    ("http://3232235777/", "192.168.1.1"), ("http://100.64.0.1/", "100.64.0.1"),
    ("http://100.127.255.254/", "100.127.255.254"), ("http://[fd12:3456::1]/", "fd12:3456::1"),
    ("http://[fc00::1]/", "fc00::1"), ("http://[::ffff:10.0.0.1]/", "::ffff:10.0.0.1"),
])
def test_loopback_and_private_only_where_allowed(url, address):
    reason = refused(url, allow_private=False)
    assert "loopback" in reason or "private" in reason, reason
    assert check_url(url, allow_private=True, resolve=resolver(PUBLIC)) == [ipaddress.ip_address(address)]


@pytest.mark.parametrize("url, address", [
    ("https://93.184.216.34/hook", "93.184.216.34"), ("http://1.1.1.1:8080/x?y=1", "1.1.1.1"),
    ("http://16843009/", "1.1.1.1"), ("http://[2606:4700:4700::1111]/", "2606:4700:4700::1111"),
    ("http://[::ffff:8.8.8.8]/", "::ffff:8.8.8.8"), ("http://172.32.0.1/", "172.32.0.1"),
    ("http://100.128.0.1/", "100.128.0.1"), ("http://169.255.0.1/", "169.255.0.1"),
    ("http://11.0.0.1/", "11.0.0.1"),
])
def test_public_addresses_pass(url, address):
    for allow_private in (False, True):
        assert check_url(url, allow_private=allow_private, resolve=resolver("10.0.0.1")) == [
            ipaddress.ip_address(address)]


# -- schemes, missing hosts, userinfo and other URL tricks ---------------------------------------------------------
@pytest.mark.parametrize("url", [
    "ftp://example.com/", "file:///etc/passwd", "gopher://example.com:70/_", "dict://example.com:11211/",
    "javascript:alert(1)", "data:text/plain,hi", "ws://example.com/", "example.com/hook", "//example.com/hook",
    "httpx://example.com/",
])
def test_only_http_and_https(url):
    assert "http" in refused(url, allow_private=True)


@pytest.mark.parametrize("url", ["http://", "https://", "http:///path", "https://:443/", "http://?x", ""])
def test_a_host_is_required(url):
    refused(url, allow_private=True)


@pytest.mark.parametrize("url", [
    "http://user:pw@example.com/", "http://user@example.com/", "http://example.com@169.254.169.254/",
    "http://169.254.169.254#@example.com/", "http://:@example.com/",
])
def test_userinfo_tricks_are_refused(url):
    refused(url, allow_private=True)


@pytest.mark.parametrize("url", [
    "http://169.254.169.254\\@example.com/", "http://example.com\\@169.254.169.254/", "http://exa mple.com/",
    "http://example.com/\r\nHost: x", "http://999.1.1.1/", "http://1.2.3.4.5/", "http://256.256.256.256/",
    "http://0x100000000/", "http://4294967296/", "http://foo.123/", "http://[1.2.3.4]/", "http://[::g]/",
    "http://example.com:99999/", "http://example.com:0/", "http://example.com:-1/", "http://ex_am$ple.com/",
    "http://" + "a" * 64 + ".com/",
])
def test_malformed_targets_are_refused(url):
    refused(url, allow_private=True)


# -- host names: resolved, and every address must be safe ----------------------------------------------------------
def test_a_name_resolving_to_public_addresses_passes_with_all_of_them():
    calls: list = []
    addresses = check_url("https://hooks.example.com/x", allow_private=False,
                          resolve=resolver(PUBLIC, "2606:2800:220:1::1", PUBLIC, calls=calls))
    assert addresses == [ipaddress.ip_address(PUBLIC), ipaddress.ip_address("2606:2800:220:1::1")]
    assert calls == [("hooks.example.com", 443)]


@pytest.mark.parametrize("answers", [
    ("127.0.0.1",), ("10.0.0.7",), (PUBLIC, "192.168.0.1"), ("100.64.1.1",), ("::1",), ("fd00::5",),
    ("::ffff:127.0.0.1",),
])
def test_a_name_resolving_to_a_private_address_is_refused_unless_allowed(answers):
    assert "resolves to a" in refused("http://sneaky.example.com/", allow_private=False, resolve=resolver(*answers))
    assert check_url("http://sneaky.example.com/", allow_private=True, resolve=resolver(*answers))


@pytest.mark.parametrize("answers", [
    ("169.254.169.254",), (PUBLIC, "169.254.169.254"), ("127.0.0.1", "169.254.169.254"), ("fd00:ec2::254",),
    ("::ffff:169.254.169.254",), ("fe80::1%eth0",), ("169.254.10.10",), ("0.0.0.0",), ("224.0.0.251",),
    ("64:ff9b::a9fe:a9fe",),
])
def test_a_name_resolving_to_link_local_or_metadata_is_refused_everywhere(answers):
    for allow_private in (False, True):
        refused("http://rebind.example.com/", allow_private=allow_private, resolve=resolver(*answers))


def test_localhost_is_a_name_like_any_other():
    assert "loopback" in refused("http://localhost:3000/", allow_private=False, resolve=resolver("127.0.0.1"))
    assert check_url("http://LOCALHOST.:3000/", allow_private=True, resolve=resolver("127.0.0.1"))


def test_unresolvable_names_are_refused():
    def failing(host, port, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    assert "cannot resolve" in refused("http://nowhere.invalid/", allow_private=True, resolve=failing)
    assert "cannot resolve" in refused("http://empty.example.com/", allow_private=True, resolve=resolver())


def test_ip_literals_are_never_sent_to_the_resolver():
    calls: list = []
    check_url("http://0x5db8d822/", allow_private=False, resolve=resolver("10.0.0.1", calls=calls))
    assert calls == []


def test_international_names_are_resolved_in_their_ascii_form():
    calls: list = []
    target = vet("https://bücher.example:8443/hook?q=1", allow_private=False, resolve=resolver(PUBLIC, calls=calls))
    assert calls == [("xn--bcher-kva.example", 8443)]
    assert (target.scheme, target.host, target.port, target.path) == ("https", "xn--bcher-kva.example", 8443,
                                                                      "/hook?q=1")


def test_vet_keeps_what_delivery_needs():
    target = vet("HTTP://Hooks.Example.com./in", allow_private=False, resolve=resolver(PUBLIC))
    assert (target.scheme, target.host, target.port, target.path) == ("http", "hooks.example.com", 80, "/in")
    assert vet("http://[::ffff:8.8.8.8]:81", allow_private=False).path == "/"


def test_classify_judges_a_single_address():
    ip = ipaddress.ip_address
    assert classify(ip("8.8.8.8"), False) is None
    assert classify(ip("127.0.0.1"), True) is None and classify(ip("127.0.0.1"), False)
    assert classify(ip("169.254.169.254"), True) == "cloud metadata address"
    assert classify(ip("::ffff:169.254.169.254"), True) == "cloud metadata address"
    assert classify(ip("fe80::1"), True) == "link-local address"
    assert classify(ip("2002:0a00:0001::1"), False) == "private address"  # 6to4 of 10.0.0.1
