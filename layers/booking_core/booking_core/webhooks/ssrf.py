"""Which webhook targets may be called: http(s) only, and never link-local or cloud metadata addresses; loopback and
private networks only where the deployment allows them (the local stack does). Checked at create time and again at
delivery, with the name resolved afresh; delivery then connects to the address that was checked."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NUMERIC_V4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)


class UnsafeUrl(ValueError):
    pass


def _literal(host: str) -> IPAddress | None:
    """An IP written in any notation browsers and libc accept (dotted, decimal, hex, octal, short forms)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_V4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError as exc:
            raise UnsafeUrl(f"malformed address {host!r}") from exc
    return None


def classify(address: IPAddress, allow_private: bool) -> str | None:
    """Why an address is refused, or None when it may be called."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA:
        return "cloud metadata address"
    if address.is_link_local:
        return "link-local address"
    if address.is_unspecified or address.is_multicast:
        return "unroutable address"
    local = address.is_loopback or address.is_private or (isinstance(address, ipaddress.IPv4Address) and address in CGNAT)
    if local:
        return None if allow_private else "loopback or private address"
    if address.is_reserved or not address.is_global:
        return "non-public address"
    return None


def check_url(
    url: str,
    *,
    allow_private: bool,
    resolve: Callable[..., list[Any]] = socket.getaddrinfo,
) -> list[IPAddress]:
    """The addresses `url` may be called at; raises UnsafeUrl with the reason otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"}:
        raise UnsafeUrl("only http and https targets are allowed")
    if "@" in parts.netloc:
        raise UnsafeUrl("credentials in the URL are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrl("the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeUrl("invalid port") from exc
    literal = _literal(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            infos = resolve(host, port, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise UnsafeUrl(f"cannot resolve {host}") from exc
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
        if not addresses:
            raise UnsafeUrl(f"cannot resolve {host}")
    for address in addresses:
        reason = classify(address, allow_private)
        if reason:
            raise UnsafeUrl(f"{host} resolves to a {reason}")
    return addresses
