"""Outbound HTTP, standard library only: the one transport for webhook deliveries, calendars and meeting apps.

- One request, bounded by one deadline: `timeout` covers connect, TLS handshake, sending, the status line and the
  body, not each socket operation, so a peer that trickles bytes cannot hold a request open.
- Never a redirect (http.client does not follow them; a 3xx is handed back to the caller), no proxy from the
  environment, bodies read up to `max_body` bytes (ResponseTooLarge beyond).

Two kinds of destination:
- a URL a user or a provider chose (webhook receivers, CalDAV servers and the hrefs they answer with): `request`.
  The URL passes the SSRF rules of `webhooks.ssrf` on every request (every address its name resolves to, resolved
  afresh), and the connection goes to an address that check vetted: the name is never looked up a second time, so
  DNS rebinding between check and connect cannot redirect it. The request still carries the original Host header,
  and for https the original name is used for SNI and certificate verification.
- an endpoint the deployment configured (Google, Microsoft Graph, Zoom, their token endpoints): `send(configured(url))`,
  connected by name like any client would. Callers keep such requests under the configured base (a link a provider
  answers with is followed only there: `calendars.oauth`).
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

from booking_core.webhooks.ssrf import Resolver, Target, vet

MAX_BODY = 16 * 1024 * 1024


class ResponseTooLarge(ValueError):
    """The peer answered with more than the caller is willing to read."""


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
    """One request to `target` (from `webhooks.ssrf.vet` or `configured`); the response, whatever its status.

    Raises TimeoutError when the deadline passes, OSError / http.client.HTTPException for connection and protocol
    failures (ssl.SSLCertVerificationError for a refused certificate), ValueError for a header or path http.client
    refuses to send, ResponseTooLarge for a body over `max_body` bytes. `ssl_context` defaults to the system trust
    store.
    """
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
        data = response.read(max_body + 1) if read_body else b""
        if deadline.fired:  # the socket was cut mid-response: what was parsed may be truncated
            raise TimeoutError("deadline reached")
        if len(data) > max_body:
            raise ResponseTooLarge(f"more than {max_body} bytes")
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


def request(method: str, url: str, *, allow_private: bool, resolve: Resolver = socket.getaddrinfo,
            body: bytes | None = None, headers: Mapping[str, str] | None = None, timeout: float,
            read_body: bool = True, max_body: int = MAX_BODY,
            ssl_context: ssl.SSLContext | None = None) -> Response:
    """One request to a URL a user or a provider chose: `webhooks.ssrf.vet` (raises UnsafeUrl with the reason), then
    `send` over a connection pinned to a vetted address; raises what `send` raises."""
    target = vet(url, allow_private=allow_private, resolve=resolve)
    return send(method, target, body=body, headers=headers, timeout=timeout, read_body=read_body,
                max_body=max_body, ssl_context=ssl_context)


__all__ = ["MAX_BODY", "Response", "ResponseTooLarge", "configured", "request", "send"]
