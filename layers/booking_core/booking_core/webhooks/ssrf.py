"""Which outbound targets may be called: webhook receivers (docs/events.md "Webhook deliveries") and CalDAV servers.

Only `http` and `https`. Never link-local addresses or cloud metadata endpoints, whatever the deployment. Loopback and
private networks (RFC 1918, CGNAT 100.64/10, unique-local fc00::/7) only where the deployment allows them
(WEBHOOK_ALLOW_PRIVATE_TARGETS=true, which the local stack and the tests set; `allow_private_targets()`).
Unspecified, multicast, broadcast, reserved and other special-purpose addresses never.

IP literals are recognised in every notation that resolvers and browsers accept: dotted decimal, a single decimal or
hex number (2852039166, 0xa9fea9fe), octal parts (0251.0376.0251.0376), short forms (169.254.43518), IPv6 in brackets,
and IPv6 forms that embed an IPv4 address (::ffff:169.254.169.254, NAT64 64:ff9b::/96, 6to4, Teredo). A host name is
resolved and *every* address it resolves to must pass. The check runs when a webhook is created and again at every
delivery (resolved afresh); delivery then connects to an address this module vetted (see `booking_core.outbound`).
The same rules guard every other URL a user or a provider chooses: CalDAV servers and the hrefs they answer with
(`vet`, then a pinned connection), and links providers hand back for people to open (`check_link`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from booking_core.config import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list[Any]]

METADATA: frozenset[IPAddress] = frozenset({
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack... instance metadata
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IMDS over IPv6
    ipaddress.ip_address("169.254.170.2"),  # ECS task metadata / credentials
    ipaddress.ip_address("169.254.170.23"),  # EKS pod identity agent
})
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # RFC 1918
    "100.64.0.0/10",  # carrier-grade NAT (RFC 6598), counted as private
    "fc00::/7",  # unique local (RFC 4193)
    "fec0::/10",  # deprecated site-local, treated like unique local
))
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")

# One IPv4 part as inet_aton reads it: decimal, octal (leading 0) or hex (0x).
_V4_PART = r"(?:0x[0-9a-f]*|[0-9]+)"
_NUMERIC_V4 = re.compile(rf"{_V4_PART}(?:\.{_V4_PART}){{0,3}}", re.IGNORECASE)
_NUMERIC_LABEL = re.compile(_V4_PART, re.IGNORECASE)
_HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def allow_private_targets() -> bool:
    """Whether this deployment lets URLs users choose (webhook targets, CalDAV servers) reach loopback and private
    networks (WEBHOOK_ALLOW_PRIVATE_TARGETS=true, as the local stack does). Never link-local or metadata."""
    return settings().webhook_allow_private_targets


class UnsafeUrl(ValueError):
    """A webhook target that must not be called; `reason` says why (safe to show to the API caller)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Target:
    """A vetted target: what to connect to and what to say in the request line and Host header / SNI."""

    scheme: str
    host: str  # ASCII (IDNA) host name or IP literal as written in the URL, without brackets
    port: int
    path: str  # path and query, never empty
    addresses: tuple[IPAddress, ...]  # every one of them passed `classify`


def _literal(host: str) -> IPAddress | None:
    """The address a host written as an IP literal stands for (any notation), None for a host name.

    Raises UnsafeUrl for a host that looks numeric but is no valid address (e.g. 999.1.1.1, 1.2.3.4.5): resolvers
    would otherwise be free to interpret it.
    """
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_V4.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError as exc:
            raise UnsafeUrl(f"malformed IP address {host!r}") from exc
    if _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
        # WHATWG URL parsing treats a host whose last label is a number as IPv4; so do we.
        raise UnsafeUrl(f"malformed IP address {host!r}")
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries and may route to."""
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if any(address in net for net in _NAT64) or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    return []


def _classify_one(address: IPAddress, allow_private: bool) -> str | None:
    if address in METADATA:
        return "cloud metadata address"
    if address.is_link_local:
        return "link-local address"
    if address.is_unspecified or (isinstance(address, ipaddress.IPv4Address) and address in _THIS_NETWORK):
        return "unspecified address"
    if address.is_multicast:
        return "multicast address"
    if address.is_loopback:  # before "reserved": ::1 sits in the reserved ::/8
        return None if allow_private else "loopback address"
    if address.is_reserved or address == ipaddress.IPv4Address("255.255.255.255"):
        return "reserved address"
    if any(address in net for net in _PRIVATE_NETWORKS if net.version == address.version):
        return None if allow_private else "private address"
    if not address.is_global:
        return "special-purpose (non-public) address"
    return None


def classify(address: IPAddress, allow_private: bool) -> str | None:
    """Why `address` must not be called, or None when it may be."""
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(int(address))  # drop any %scope
        embedded = _embedded_ipv4(address)
        if address.ipv4_mapped is not None or (embedded and address.sixtofour is None and address.teredo is None):
            # ::ffff:a.b.c.d, NAT64 and IPv4-compatible forms reach the IPv4 address: judge that one alone.
            candidates: list[IPAddress] = list(embedded)
        else:
            candidates = [address, *embedded]
    else:
        candidates = [address]
    for candidate in candidates:
        reason = _classify_one(candidate, allow_private)
        if reason:
            return reason
    return None


def _ascii_host(host: str) -> str:
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise UnsafeUrl("invalid host name") from exc
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise UnsafeUrl("invalid host name")
    return ascii_host


def _resolve(host: str, port: int, resolve: Resolver) -> list[IPAddress]:
    try:
        infos = resolve(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise UnsafeUrl(f"cannot resolve {host}") from exc
    addresses: list[IPAddress] = []
    for family, *_rest, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        try:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        except ValueError as exc:
            raise UnsafeUrl(f"{host} resolves to an unreadable address") from exc
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeUrl(f"cannot resolve {host}")
    return addresses


@dataclass(frozen=True, slots=True)
class _Parsed:
    scheme: str
    host: str
    port: int
    path: str
    literal: IPAddress | None


def _parse(url: str) -> _Parsed:
    """Scheme, host, port and path of `url`, with the syntax rules every target must meet (no DNS)."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeUrl("the URL is empty")
    if any(ord(char) < 0x21 or ord(char) == 0x7F or char == "\\" for char in url.strip()):
        raise UnsafeUrl("the URL contains whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url.strip())
        port_written = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"malformed URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise UnsafeUrl("only http and https targets are allowed")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise UnsafeUrl("credentials in the URL are not allowed")
    raw_host = parts.hostname or ""
    bracketed = parts.netloc.startswith("[")
    host = raw_host.rstrip(".") if not bracketed else raw_host
    if not host:
        raise UnsafeUrl("the URL has no host")
    if port_written == 0:
        raise UnsafeUrl("invalid port")
    port = port_written or (443 if scheme == "https" else 80)

    if bracketed:
        try:
            literal: IPAddress | None = ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError as exc:
            raise UnsafeUrl(f"malformed IPv6 address {host!r}") from exc
        host = str(literal)
    else:
        host = _ascii_host(host)
        literal = _literal(host)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Parsed(scheme, host, port, path, literal)


def _refuse(host: str, literal: IPAddress | None, reason: str) -> UnsafeUrl:
    article = "an" if reason[0] in "aeiou" else "a"
    if literal is None:
        return UnsafeUrl(f"{host} resolves to {article} {reason}")
    written = host if host == str(literal) else f"{host} ({literal})"
    return UnsafeUrl(f"{written} is {article} {reason}")


def vet(url: str, *, allow_private: bool, resolve: Resolver = socket.getaddrinfo) -> Target:
    """Parse, resolve and check `url`; the Target delivery connects to. Raises UnsafeUrl with the reason."""
    parsed = _parse(url)
    addresses = [parsed.literal] if parsed.literal is not None else _resolve(parsed.host, parsed.port, resolve)
    for address in addresses:
        reason = classify(address, allow_private)
        if reason:
            raise _refuse(parsed.host, parsed.literal, reason)
    return Target(scheme=parsed.scheme, host=parsed.host, port=parsed.port, path=parsed.path,
                  addresses=tuple(addresses))


def check_link(url: str, *, max_length: int = 2048) -> str:
    """A link a provider answered with for people to open (a meeting's join URL), checked before it reaches a
    booking, an email or a webhook: https only, no credentials, at most `max_length` characters, and no IP literal
    that is not public (in any notation). The service never fetches it, so the name is not resolved. Returns the
    URL; raises UnsafeUrl."""
    if not isinstance(url, str) or len(url) > max_length:
        raise UnsafeUrl("the link is missing or too long")
    parsed = _parse(url)
    if parsed.scheme != "https":
        raise UnsafeUrl("only https links are accepted")
    if parsed.literal is not None:
        reason = classify(parsed.literal, allow_private=False)
        if reason:
            raise _refuse(parsed.host, parsed.literal, reason)
    return url.strip()


def check_url(url: str, *, allow_private: bool, resolve: Resolver = socket.getaddrinfo) -> list[IPAddress]:
    """The addresses `url` may be called at (all of them vetted); raises UnsafeUrl(reason) otherwise."""
    return list(vet(url, allow_private=allow_private, resolve=resolve).addresses)


__all__ = ["METADATA", "IPAddress", "Target", "UnsafeUrl", "allow_private_targets", "check_link", "check_url",
           "classify", "vet"]
