"""Outbound HTTP, standard library only: one request, bounded by one deadline, never a redirect, no proxy from the
environment (http.client, not urllib's opener).

Two kinds of destination:
- a URL a user or a provider chose (webhook targets, CalDAV servers and the hrefs they answer with): `webhooks.ssrf.vet`
  it and pass the vetted Target. The connection goes to an address the check vetted and the name is never looked up
  a second time, so DNS rebinding between check and connect cannot redirect it; for https the original name is used
  for SNI and certificate verification.
- an endpoint the deployment configured (Google, Microsoft Graph, Zoom, their token endpoints): `configured(url)`,
  connected by name like any client would.

`timeout` bounds the whole request (connect, TLS handshake, sending, the status line and, when read, the body), not
each socket operation, so a peer that trickles bytes cannot hold it open. Bodies larger than `max_body` are refused.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from booking_core.webhooks.ssrf import Target

MAX_BODY = 16 * 1024 * 1024


class ResponseTooLarge(ValueError):
    """The peer answered with more than we are willing to read."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class _Deadline:
    """Bounds a whole request: when the time is up the socket is shut down, so a blocked read returns at once."""

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
                    view.detach()  # the request owns the descriptor and closes it
            except OSError:
                pass

    def cancel(self) -> None:
        with self._lock:
            self._done = True  # from here on the descriptor may be closed and reused: never touch it again
        if self._timer is not None:
            self._timer.cancel()


def configured(url: str) -> Target:
    """A deployment-configured endpoint as a Target connected by name (no SSRF vetting: the operator chose it)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=parts.hostname, port=port, path=path, addresses=())


def _connect(target: Target, deadline: _Deadline) -> socket.socket:
    """A TCP connection: to the first vetted address that answers (never a fresh name lookup), or by name for a
    configured endpoint."""
    if not target.addresses:
        return socket.create_connection((target.host, target.port), timeout=deadline.remaining())
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


def send(
    method: str,
    target: Target,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float,
    read_body: bool = True,
    max_body: int = MAX_BODY,
    ssl_context: ssl.SSLContext | None = None,
) -> Response:
    """One request to `target`. Raises TimeoutError when the deadline passes, OSError / http.client.HTTPException
    for connection and protocol failures (ssl.SSLCertVerificationError for a refused certificate), ValueError for a
    header or path http.client refuses to send, ResponseTooLarge for a body over `max_body`."""
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
        connection.sock = sock  # already connected: http.client will not connect again
        connection.request(method, _request_path(target.path), body=body,
                           headers={"Connection": "close", **(headers or {})})
        response = connection.getresponse()
        data = b""
        if read_body:
            data = response.read(max_body + 1)
            if len(data) > max_body:
                raise ResponseTooLarge(f"response body over {max_body} bytes")
        if deadline.fired:  # the socket was cut mid-response: what was parsed may be truncated
            raise TimeoutError("deadline reached")
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    except (OSError, http.client.HTTPException) as exc:
        if deadline.fired and not isinstance(exc, TimeoutError):
            raise TimeoutError("deadline reached") from exc
        raise
    finally:
        deadline.cancel()
        if connection is not None:
            connection.close()
        elif sock is not None:
            sock.close()


__all__ = ["MAX_BODY", "Response", "ResponseTooLarge", "configured", "send"]
