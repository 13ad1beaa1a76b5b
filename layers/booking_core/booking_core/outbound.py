"""Outbound HTTP to addresses users supply (webhook receivers, CalDAV servers), standard library only.

- The URL is checked by `webhooks.ssrf` (every address the name resolves to), resolved once, afresh per request.
- The connection goes to an address that check vetted: the name is never looked up a second time, so DNS rebinding
  between check and connect cannot redirect the request. The request still carries the original Host header, and for
  https the original name is used for SNI and certificate verification.
- No redirects (http.client never follows them), and no proxy from the environment.
- `timeout` bounds the whole exchange (connect, TLS handshake, sending, the response), not just each socket operation,
  so a peer that trickles bytes cannot hold a request open. Response bodies are read up to a limit.
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

from booking_core.webhooks.ssrf import Resolver, Target, vet


class ResponseTooLarge(Exception):
    """The peer sent more than the caller is willing to read."""


class Deadline:
    """Bounds a whole exchange: when the time is up the socket is shut down, so a blocked read returns at once."""

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
                    view.detach()  # the exchange owns the descriptor and closes it
            except OSError:
                pass

    def cancel(self) -> None:
        with self._lock:
            self._done = True  # from here on the descriptor may be closed and reused: never touch it again
        if self._timer is not None:
            self._timer.cancel()


def _connect(target: Target, deadline: Deadline) -> socket.socket:
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


def open_connection(target: Target, deadline: Deadline,
                    ssl_context: ssl.SSLContext | None = None) -> http.client.HTTPConnection:
    """An HTTP(S) connection already connected to a vetted address of `target`, watched by `deadline`.
    `ssl_context` defaults to the system trust store."""
    sock = _connect(target, deadline)
    try:
        deadline.guard(sock)
        connection: http.client.HTTPConnection
        if target.scheme == "https":
            context = ssl_context or ssl.create_default_context()
            sock.settimeout(deadline.remaining())
            sock = context.wrap_socket(sock, server_hostname=target.host)  # SNI + hostname check on the name
            connection = http.client.HTTPSConnection(target.host, target.port, context=context)
        else:
            connection = http.client.HTTPConnection(target.host, target.port)
        sock.settimeout(deadline.remaining())
    except BaseException:
        sock.close()
        raise
    connection.sock = sock  # already connected to the vetted address: http.client will not connect again
    return connection


def request_path(path: str) -> str:
    return "".join(char if ord(char) < 0x80 else quote(char) for char in path)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def request(method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str] | None = None,
            timeout: float, allow_private: bool, max_body: int, resolve: Resolver = socket.getaddrinfo,
            ssl_context: ssl.SSLContext | None = None) -> Response:
    """One request to `url` under the rules above; the whole response, whatever its status.

    Raises `webhooks.ssrf.UnsafeUrl` for a refused target, TimeoutError when `timeout` runs out, ResponseTooLarge for a
    body over `max_body` bytes, and OSError / http.client.HTTPException when the exchange fails.
    """
    target = vet(url, allow_private=allow_private, resolve=resolve)
    deadline = Deadline(timeout)
    connection: http.client.HTTPConnection | None = None
    try:
        connection = open_connection(target, deadline, ssl_context)
        connection.request(method, request_path(target.path), body=body,
                           headers={"Connection": "close", **(headers or {})})
        response = connection.getresponse()
        data = response.read(max_body + 1)
        if deadline.fired:  # the socket was cut mid-response: what was read may be truncated
            raise TimeoutError("deadline reached")
        if len(data) > max_body:
            raise ResponseTooLarge(f"more than {max_body} bytes")
        return Response(response.status, dict(response.headers), data)
    except OSError:
        if deadline.fired:
            raise TimeoutError("deadline reached") from None
        raise
    finally:
        deadline.cancel()
        if connection is not None:
            connection.close()


__all__ = ["Deadline", "Response", "ResponseTooLarge", "open_connection", "request", "request_path"]
