"""Webhook building blocks: the SSRF guard (every notation), signatures, and one delivery against a loopback peer."""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from booking_core.webhooks.delivery import backoff_delays, deliver
from booking_core.webhooks.signing import headers_for, sign
from booking_core.webhooks.ssrf import UnsafeUrl, check_url


def resolver(*addresses: str):
    def resolve(host, port, **kwargs):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]
    return resolve


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/", "http://0xa9fea9fe/", "http://0251.0376.0251.0376/", "http://169.254.43518/",
    "http://0xa9.0xfe.0xa9.0xfe/", "http://[::ffff:169.254.169.254]/", "http://[::ffff:a9fe:a9fe]/",
    "http://[fd00:ec2::254]/", "http://169.254.1.1/", "http://[fe80::1]/",
])
def test_metadata_and_link_local_are_refused_everywhere(url):
    for allow_private in (False, True):
        with pytest.raises(UnsafeUrl):
            check_url(url, allow_private=allow_private, resolve=resolver("93.184.216.34"))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://localhost/", "http://10.1.2.3/", "http://172.16.0.9/", "http://192.168.1.1/",
    "http://[::1]/", "http://[fd12::1]/", "http://100.64.0.1/", "http://2130706433/", "http://0x7f.1/",
])
def test_loopback_and_private_only_where_allowed(url):
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_private=False, resolve=resolver("127.0.0.1"))
    assert check_url(url, allow_private=True, resolve=resolver("127.0.0.1"))


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x/", "http://", "http://user:pw@example.com/",
                                 "http://0.0.0.0/", "http://224.0.0.1/", "http://example.com:99999/"])
def test_malformed_or_odd_targets(url):
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_private=True, resolve=resolver("93.184.216.34"))


def test_hostnames_are_resolved_and_every_address_checked():
    assert check_url("https://hooks.example.com/x", allow_private=False, resolve=resolver("93.184.216.34"))
    with pytest.raises(UnsafeUrl):
        check_url("https://evil.example.com/", allow_private=False, resolve=resolver("93.184.216.34", "10.0.0.1"))
    with pytest.raises(UnsafeUrl):
        check_url("https://meta.example.com/", allow_private=True, resolve=resolver("169.254.169.254"))


def test_signature_matches_an_independent_cal_com_check():
    body = b'{"triggerEvent":"BOOKING_CREATED","payload":{"uid":"x"}}'
    expected = hmac.new(b"top-secret", body, hashlib.sha256).hexdigest()
    assert sign(body, "top-secret") == expected
    assert sign(body, None) == "no-secret-provided"
    headers = headers_for(body, "top-secret")
    assert headers["X-Cal-Signature-256"] == expected and headers["X-Cal-Webhook-Version"] == "2021-10-20"


class Peer(BaseHTTPRequestHandler):
    seen: list[tuple[str, dict, bytes]] = []

    def log_message(self, *args):  # noqa: D102
        return

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Peer.seen.append((self.path, dict(self.headers), body))
        if self.path == "/slow":
            time.sleep(1.5)
        status = {"/redirect": 301, "/error": 500}.get(self.path, 204)
        self.send_response(status)
        if status == 301:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def peer():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Peer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_delivery_outcomes(peer):
    body = b'{"a":1}'
    headers = headers_for(body, "k")
    ok = deliver(f"{peer}/ok", body, headers, timeout=1, allow_private=True)
    assert ok.delivered and ok.status == 204
    path, received_headers, received = Peer.seen[-1]
    assert received == body and received_headers["X-Cal-Signature-256"] == sign(body, "k")
    redirected = deliver(f"{peer}/redirect", body, headers, timeout=1, allow_private=True)
    assert not redirected.delivered and redirected.status == 301
    assert not any(seen[0] == "/elsewhere" for seen in Peer.seen)  # never followed
    assert deliver(f"{peer}/error", body, headers, timeout=1, allow_private=True).status == 500
    slow = deliver(f"{peer}/slow", body, headers, timeout=0.3, allow_private=True)
    assert not slow.delivered and slow.error == "timeout"
    refused = deliver(f"{peer}/ok", body, headers, timeout=1, allow_private=False)
    assert not refused.delivered and refused.status is None and "refused" in refused.error


def test_delivery_connects_to_the_address_it_checked(peer):
    """DNS rebinding: the name resolves safely once and to an internal address later; delivery uses the checked one."""
    port = int(peer.rsplit(":", 1)[1])
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])

    def rebinding(host, port_, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port_)) for a in next(answers)]

    result = deliver(f"http://hooks.test:{port}/ok", b"{}", headers_for(b"{}", None), timeout=1,
                     allow_private=True, resolve=rebinding)
    assert result.delivered
    assert Peer.seen[-1][1]["Host"] == f"hooks.test:{port}"


def test_backoff_is_exponential():
    assert backoff_delays(5, 30) == [30, 60, 120, 240]
    assert backoff_delays(4, 1) == [1, 2, 4]
