"""One webhook POST: SSRF check with a fresh resolution, connection to the checked address (no DNS rebinding
between check and connect), a short timeout, and no redirects (a 3xx is a failed attempt)."""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from booking_core.webhooks.ssrf import UnsafeUrl, check_url


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    status: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def deliver(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    allow_private: bool,
    resolve: Callable[..., list[Any]] = socket.getaddrinfo,
) -> DeliveryResult:
    try:
        addresses = check_url(url, allow_private=allow_private, resolve=resolve)
    except UnsafeUrl as exc:
        return DeliveryResult(None, f"refused: {exc}")
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, str(addresses[0]), timeout)
    try:
        connection.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        response.read(64 * 1024)
        return DeliveryResult(response.status, None if 200 <= response.status < 300 else f"HTTP {response.status}")
    except TimeoutError:
        return DeliveryResult(None, "timeout")
    except (OSError, http.client.HTTPException) as exc:
        return DeliveryResult(None, type(exc).__name__)
    finally:
        connection.close()


def backoff_delays(attempts: int, base_seconds: float) -> list[float]:
    """Waits between attempts: base, 2 x base, 4 x base, ... (attempts - 1 of them)."""
    return [base_seconds * 2**index for index in range(max(attempts - 1, 0))]
