"""One webhook POST (CONTRACT.md section 5), standard library only.

- The SSRF check runs again here, with the host name resolved afresh.
- The connection goes to an address that check vetted: the name is never looked up a second time, so DNS rebinding
  between check and connect cannot redirect the request. The request still carries the original Host header, and for
  https the original name is used for SNI and certificate verification.
- No redirects: http.client never follows them and neither do we; a 3xx is a failed attempt.
- `timeout` bounds the whole attempt (connect, TLS handshake, sending, waiting for the status line), not just each
  socket operation, so a receiver that trickles bytes cannot hold a delivery open.
- 2xx = delivered; any other status, a timeout or a connection error = not delivered (the caller retries).
- No proxy from the environment is used (http.client, not urllib's opener).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from booking_core.webhooks.ssrf import Resolver, Target, UnsafeUrl, vet

MIN_ATTEMPTS = 4  # the contract: at least 4 attempts in all


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    status: int | None  # the HTTP status the subscriber answered, None when there was no answer
    error: str | None  # why the attempt failed, None when delivered
    delivered: bool


class _Deadline:
    """Bounds a whole attempt: when the time is up the socket is shut down, so a blocked read returns at once."""

    def __init__(self, seconds: float) -> None:
        self.expires = time.monotonic() + seconds
        self.fired = False
        self._lock = threading.Lock()
        self._done = False
        self._fd = -1
        self._timer: threading.Timer | None = None

    def remaining(self) -> float:
        left = self.expires - time.monotonic()
        if left <= 0:
            self.fired = True
            raise TimeoutError("deadline reached")
        return left

    def guard(self, sock: socket.socket) -> None:
        """Watch the connection's file descriptor (the same before and after TLS wrapping)."""
        self._fd = sock.fileno()
        self._timer = threading.Timer(self.remaining(), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            try:
                view = socket.socket(fileno=self._fd)
                try:
                    view.shutdown(socket.SHUT_RDWR)
                finally:
                    view.detach()  # the attempt owns the descriptor and closes it
            except OSError:
                pass

    def cancel(self) -> None:
        with self._lock:
            self._done = True  # from here on the descriptor may be closed and reused: never touch it again
        if self._timer is not None:
            self._timer.cancel()


def _connect(target: Target, deadline: _Deadline) -> socket.socket:
    """A TCP connection to the first vetted address that answers (never a fresh name lookup)."""
    last: OSError | None = None
    for address in target.addresses:
        try:
            return socket.create_connection((str(address), target.port), timeout=deadline.remaining())
        except TimeoutError:
            raise
        except OSError as exc:
            last = exc
    raise last or OSError("no address to connect to")


def _request_path(path: str) -> str:
    return "".join(char if ord(char) < 0x80 else quote(char) for char in path)


def _failure(exc: BaseException, deadline: _Deadline) -> DeliveryResult:
    if deadline.fired or isinstance(exc, TimeoutError):
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
        target = vet(url, allow_private=allow_private, resolve=resolve)
    except UnsafeUrl as exc:
        return DeliveryResult(None, f"refused: {exc.reason}", False)

    deadline = _Deadline(timeout)
    connection: http.client.HTTPConnection | None = None
    sock: socket.socket | None = None
    try:
        sock = _connect(target, deadline)
        deadline.guard(sock)
        if target.scheme == "https":
            context = ssl_context or ssl.create_default_context()
            sock.settimeout(deadline.remaining())
            sock = context.wrap_socket(sock, server_hostname=target.host)  # SNI + hostname check on the name
            connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout, context=context)
        else:
            connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
        sock.settimeout(deadline.remaining())
        connection.sock = sock  # already connected to the vetted address: http.client will not connect again
        request_headers = {"Connection": "close", **headers}
        connection.request("POST", _request_path(target.path), body=body, headers=request_headers)
        response = connection.getresponse()
        status = response.status
        if deadline.fired:  # the socket was cut mid-response: what was parsed may be truncated
            raise TimeoutError("deadline reached")
    except (OSError, http.client.HTTPException) as exc:
        return _failure(exc, deadline)
    except ValueError as exc:  # a header value or path http.client refuses to send
        return DeliveryResult(None, f"invalid request: {exc}", False)
    finally:
        deadline.cancel()
        if connection is not None:
            connection.close()
        elif sock is not None:
            sock.close()
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
