"""One webhook POST (docs/events.md "Webhook deliveries") through `booking_core.outbound`, standard library only.

- The SSRF check runs again here, with the host name resolved afresh.
- The connection goes to an address that check vetted: the name is never looked up a second time, so DNS rebinding
  between check and connect cannot redirect the request. The request still carries the original Host header, and for
  https the original name is used for SNI and certificate verification.
- No redirects: http.client never follows them and neither do we; a 3xx is a failed attempt.
- `timeout` bounds the whole attempt (connect, TLS handshake, sending, waiting for the status line), not just each
  socket operation, so a receiver that trickles bytes cannot hold a delivery open. The body is never read.
- 2xx = delivered; any other status, a timeout or a connection error = not delivered (the caller retries).
- No proxy from the environment is used (http.client, not urllib's opener).
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

from booking_core import outbound
from booking_core.webhooks.ssrf import Resolver, UnsafeUrl

MIN_ATTEMPTS = 4  # the contract: at least 4 attempts in all


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    status: int | None  # the HTTP status the subscriber answered, None when there was no answer
    error: str | None  # why the attempt failed, None when delivered
    delivered: bool


def _failure(exc: BaseException) -> DeliveryResult:
    if isinstance(exc, TimeoutError):
        return DeliveryResult(None, "timeout", False)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return DeliveryResult(None, f"tls certificate rejected: {exc.verify_message}", False)
    if isinstance(exc, ConnectionRefusedError):
        return DeliveryResult(None, "connection refused", False)
    return DeliveryResult(None, f"connection error: {type(exc).__name__}", False)


def deliver(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float,
    allow_private: bool,
    resolve: Resolver = socket.getaddrinfo,
    ssl_context: ssl.SSLContext | None = None,
) -> DeliveryResult:
    """POST `body` with `headers` to `url`, once. `ssl_context` defaults to the system trust store."""
    try:
        status = outbound.request("POST", url, allow_private=allow_private, resolve=resolve, body=body,
                                  headers=headers, timeout=timeout, read_body=False, ssl_context=ssl_context).status
    except UnsafeUrl as exc:
        return DeliveryResult(None, f"refused: {exc.reason}", False)
    except (OSError, http.client.HTTPException) as exc:
        return _failure(exc)
    except ValueError as exc:  # a header value or path http.client refuses to send
        return DeliveryResult(None, f"invalid request: {exc}", False)
    if 200 <= status < 300:
        return DeliveryResult(status, None, True)
    if 300 <= status < 400:
        return DeliveryResult(status, f"HTTP {status} (redirects are not followed)", False)
    return DeliveryResult(status, f"HTTP {status}", False)


def backoff_delays(attempts: int, base_seconds: float, *, factor: float = 2.0,
                   cap_seconds: float | None = None) -> list[float]:
    """Waits before attempts 2..attempts: base, base*factor, base*factor^2, ... (each at most `cap_seconds`).

    `attempts` counts every attempt including the first, so the list has attempts - 1 entries; the contract asks
    for at least 4 attempts in all.
    """
    if attempts < MIN_ATTEMPTS:
        raise ValueError(f"at least {MIN_ATTEMPTS} attempts in all are required, got {attempts}")
    if base_seconds < 0 or factor < 1:
        raise ValueError("base_seconds must be >= 0 and factor >= 1")
    delays = [base_seconds * factor**index for index in range(attempts - 1)]
    return [min(delay, cap_seconds) for delay in delays] if cap_seconds is not None else delays


__all__ = ["MIN_ATTEMPTS", "DeliveryResult", "backoff_delays", "deliver"]
