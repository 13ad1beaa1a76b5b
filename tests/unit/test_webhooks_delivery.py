"""One webhook delivery against a real HTTP receiver on loopback: the exact bytes and headers arrive, the signature
verifies with an independent implementation of cal.com's consumer check, redirects are not followed, slow receivers
time out, non-2xx fails, the SSRF check runs again at delivery and the connection goes to the vetted address
(DNS rebinding), https keeps the original name for SNI and certificate checks. Plus the retry schedule."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from booking_core.webhooks.delivery import MIN_ATTEMPTS, DeliveryResult, backoff_delays, deliver
from booking_core.webhooks.signing import NO_SECRET, headers_for, sign
from tests.support import serving

SECRET = "whsec-ünïcode-✓"


def cal_com_signature_ok(raw_body: bytes, header: str, secret: str) -> bool:
    """A cal.com consumer's check, written from cal.com's docs: HMAC-SHA256 of the raw body with the secret, hex."""
    expected = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


# -- the receiver -------------------------------------------------------------------------------------------------
class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received: list[dict] = []
    release = threading.Event()  # ends slow responses when the module is done

    def log_message(self, *args):
        return

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        Receiver.received.append({"path": self.path, "headers": self.headers, "raw": raw,
                                  "sni": getattr(self.connection, "sni", None)})
        route = self.path.split("?")[0]
        if route == "/slow":
            Receiver.release.wait(3)
        if route == "/drip":  # a status line, then one header byte every 50 ms for ~3 s
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self.wfile.flush()
            for char in b"X-Slow: " + b"a" * 60:
                if Receiver.release.wait(0.05):
                    return
                self.wfile.write(bytes([char]))
                self.wfile.flush()
            return
        status = 200
        if route.startswith("/status/"):
            status = int(route.rsplit("/", 1)[1])
        elif route == "/no-content":
            status = 204
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "/redirected-here")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture(scope="module")
def receiver():
    Receiver.release.clear()
    with serving(Receiver) as server:
        yield server.server_address[1]
        Receiver.release.set()


@pytest.fixture(autouse=True)
def fresh_log():
    Receiver.received.clear()


def loopback(*addresses: str, calls: list | None = None):
    def resolve(host, port, *args, **kwargs):
        if calls is not None:
            calls.append(host)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port, 0, 0) if ":" in a else (a, port)) for a in addresses]
    return resolve


def body_of(**payload) -> bytes:
    return json.dumps({"triggerEvent": "BOOKING_CREATED", "createdAt": "2027-01-13T09:00:00.000Z",
                       "payload": payload}, separators=(",", ":"), ensure_ascii=False).encode()


# -- signature ----------------------------------------------------------------------------------------------------
def test_sign_is_hmac_sha256_hex_known_vector():
    # RFC 4231 test case 2 (key "Jefe"): independent of any code under test.
    assert sign(b"what do ya want for nothing?", "Jefe") == \
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert sign(b"{}", None) == NO_SECRET == "no-secret-provided"
    assert sign(b"{}", "") == "no-secret-provided"


def test_headers_are_cal_com_s():
    body = body_of(uid="x")
    headers = headers_for(body, "s")
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Cal-Webhook-Version"] == "2021-10-20"
    assert headers["X-Cal-Signature-256"] == hmac.new(b"s", body, hashlib.sha256).hexdigest()
    assert headers_for(body, None)["X-Cal-Signature-256"] == "no-secret-provided"


def test_delivered_body_and_headers_are_exact_and_verify_as_cal_com_does(receiver):
    body = body_of(uid="bk_1", title="Café ☕ <b>", attendees=[{"name": "Zoë"}])
    result = deliver(f"http://127.0.0.1:{receiver}/hooks/in?team=7", body, headers_for(body, SECRET),
                     timeout=2, allow_private=True)
    assert result == DeliveryResult(status=200, error=None, delivered=True)
    [request] = Receiver.received
    assert request["path"] == "/hooks/in?team=7"
    assert request["raw"] == body  # byte for byte: what was signed is what arrived
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Cal-Webhook-Version"] == "2021-10-20"
    assert headers["Content-Length"] == str(len(body))
    assert headers["Host"] == f"127.0.0.1:{receiver}"
    assert cal_com_signature_ok(request["raw"], headers["X-Cal-Signature-256"], SECRET)
    assert not cal_com_signature_ok(request["raw"] + b" ", headers["X-Cal-Signature-256"], SECRET)
    assert not cal_com_signature_ok(request["raw"], headers["X-Cal-Signature-256"], "another-secret")


def test_without_a_secret_the_header_says_so(receiver):
    body = body_of(uid="bk_2")
    assert deliver(f"http://127.0.0.1:{receiver}/", body, headers_for(body, None), timeout=2,
                   allow_private=True).delivered
    assert Receiver.received[0]["headers"]["X-Cal-Signature-256"] == "no-secret-provided"


# -- outcomes -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path, status", [("/status/200", 200), ("/no-content", 204), ("/status/202", 202)])
def test_2xx_is_delivered(receiver, path, status):
    result = deliver(f"http://127.0.0.1:{receiver}{path}", b"{}", headers_for(b"{}", "k"), timeout=2,
                     allow_private=True)
    assert (result.status, result.delivered, result.error) == (status, True, None)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failed_attempt_and_is_not_followed(receiver, status):
    result = deliver(f"http://127.0.0.1:{receiver}/status/{status}", b"{}", headers_for(b"{}", "k"), timeout=2,
                     allow_private=True)
    assert result.status == status and not result.delivered and "redirect" in result.error
    assert [r["path"] for r in Receiver.received] == [f"/status/{status}"]  # never /redirected-here


@pytest.mark.parametrize("status", [400, 404, 410, 500, 502, 503])
def test_other_statuses_fail(receiver, status):
    result = deliver(f"http://127.0.0.1:{receiver}/status/{status}", b"{}", {}, timeout=2, allow_private=True)
    assert (result.status, result.delivered, result.error) == (status, False, f"HTTP {status}")


def test_a_slow_receiver_times_out(receiver):
    began = time.monotonic()
    result = deliver(f"http://127.0.0.1:{receiver}/slow", b"{}", {}, timeout=0.3, allow_private=True)
    assert (result.status, result.delivered, result.error) == (None, False, "timeout")
    assert time.monotonic() - began < 1.5


def test_the_timeout_bounds_the_whole_attempt_not_each_read(receiver):
    """The receiver answers a byte every 50 ms: no single read waits long, but the attempt must still end."""
    began = time.monotonic()
    result = deliver(f"http://127.0.0.1:{receiver}/drip", b"{}", {}, timeout=0.4, allow_private=True)
    elapsed = time.monotonic() - began
    assert (result.delivered, result.error) == (False, "timeout")
    assert elapsed < 1.5, elapsed


def test_nobody_listening_is_a_failed_attempt():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = deliver(f"http://127.0.0.1:{port}/", b"{}", {}, timeout=1, allow_private=True)
    assert (result.status, result.delivered, result.error) == (None, False, "connection refused")


def test_non_ascii_paths_are_percent_encoded(receiver):
    assert deliver(f"http://127.0.0.1:{receiver}/höök?x=ü", b"{}", {}, timeout=2, allow_private=True).delivered
    assert Receiver.received[0]["path"] == "/h%C3%B6%C3%B6k?x=%C3%BC"


# -- SSRF at delivery, DNS rebinding ------------------------------------------------------------------------------
def test_the_ssrf_check_runs_again_at_delivery(receiver):
    result = deliver(f"http://127.0.0.1:{receiver}/", b"{}", {}, timeout=1, allow_private=False)
    assert result.status is None and not result.delivered and result.error.startswith("refused:")
    assert Receiver.received == []  # nothing was sent
    metadata = deliver("http://169.254.169.254/latest/meta-data/", b"{}", {}, timeout=1, allow_private=True)
    assert not metadata.delivered and "metadata" in metadata.error


def test_rebinding_after_the_create_time_check_is_refused_at_delivery(receiver):
    """The name was safe when the webhook was created; at delivery it resolves to the metadata address."""
    from booking_core.webhooks.ssrf import check_url

    answers = iter([["127.0.0.1"], ["169.254.169.254"]])

    def rebinding(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in next(answers)]

    url = f"http://hooks.rebind.test:{receiver}/"
    assert check_url(url, allow_private=True, resolve=rebinding)  # create time: fine
    result = deliver(url, b"{}", {}, timeout=1, allow_private=True, resolve=rebinding)
    assert not result.delivered and result.status is None and "metadata" in result.error
    assert Receiver.received == []


def test_delivery_connects_to_the_address_it_vetted_and_never_looks_the_name_up_again(receiver):
    """`.invalid` never resolves in real DNS: success proves the connection used the vetted address, not a second
    lookup that a rebinding DNS server could have answered differently."""
    calls: list = []
    result = deliver(f"http://hooks.invalid:{receiver}/pinned", b"{}", {}, timeout=2, allow_private=True,
                     resolve=loopback("127.0.0.1", calls=calls))
    assert result.delivered
    assert calls == ["hooks.invalid"]  # exactly one resolution, the one that was checked
    assert Receiver.received[0]["headers"]["Host"] == f"hooks.invalid:{receiver}"  # the original name is sent


def test_every_resolved_address_is_vetted_before_any_connection(receiver):
    result = deliver(f"http://mixed.example:{receiver}/", b"{}", {}, timeout=1, allow_private=False,
                     resolve=loopback("93.184.216.34", "127.0.0.1"))
    assert not result.delivered and result.error.startswith("refused:")
    assert Receiver.received == []


def test_the_next_vetted_address_is_tried_when_one_does_not_answer(receiver):
    # The receiver listens on 127.0.0.1 only: ::1 refuses (or has no IPv6), then 127.0.0.1 answers.
    result = deliver(f"http://dual.example:{receiver}/", b"{}", {}, timeout=2, allow_private=True,
                     resolve=loopback("::1", "127.0.0.1"))
    assert result.delivered and len(Receiver.received) == 1


# -- https: pinned address, original name for SNI and certificate verification ------------------------------------
@pytest.fixture(scope="module")
def tls_receiver(tmp_path_factory):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.test")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(folder / "cert.pem", folder / "key.pem")

    def remember_sni(sock, server_name, context):
        sock.sni = server_name

    server_context.sni_callback = remember_sni

    class TLSServer(ThreadingHTTPServer):
        def get_request(self):
            sock, address = self.socket.accept()
            sock.settimeout(5)
            return server_context.wrap_socket(sock, server_side=True), address

    client_context = ssl.create_default_context(cafile=str(folder / "cert.pem"))
    with serving(Receiver, TLSServer) as server:
        yield server.server_address[1], client_context


def test_https_connects_to_the_vetted_address_with_the_original_name_for_sni(tls_receiver):
    port, trust = tls_receiver
    body = body_of(uid="tls")
    result = deliver(f"https://hooks.test:{port}/secure", body, headers_for(body, SECRET), timeout=3,
                     allow_private=True, resolve=loopback("127.0.0.1"), ssl_context=trust)
    assert result.delivered, result
    [request] = Receiver.received
    assert request["sni"] == "hooks.test" and request["headers"]["Host"] == f"hooks.test:{port}"
    assert request["raw"] == body and cal_com_signature_ok(body, request["headers"]["X-Cal-Signature-256"], SECRET)


def test_https_verifies_the_certificate_against_the_name_not_the_address(tls_receiver):
    port, trust = tls_receiver
    result = deliver(f"https://other.test:{port}/secure", b"{}", {}, timeout=3, allow_private=True,
                     resolve=loopback("127.0.0.1"), ssl_context=trust)
    assert not result.delivered and result.status is None and "certificate" in result.error
    assert Receiver.received == []
    untrusted = deliver(f"https://hooks.test:{port}/secure", b"{}", {}, timeout=3, allow_private=True,
                        resolve=loopback("127.0.0.1"))  # the system trust store does not know this certificate
    assert not untrusted.delivered and "certificate" in untrusted.error


# -- retries ------------------------------------------------------------------------------------------------------
def test_backoff_is_exponential():
    assert backoff_delays(4, 1) == [1, 2, 4]
    assert backoff_delays(5, 30) == [30, 60, 120, 240]
    assert backoff_delays(6, 2, factor=3) == [2, 6, 18, 54, 162]
    assert backoff_delays(6, 60, cap_seconds=300) == [60, 120, 240, 300, 300]


def test_at_least_four_attempts_in_all():
    assert MIN_ATTEMPTS == 4
    for attempts in (0, 1, 2, 3):
        with pytest.raises(ValueError):
            backoff_delays(attempts, 1)
    with pytest.raises(ValueError):
        backoff_delays(4, -1)


def test_a_retry_loop_over_the_schedule_delivers_a_flaky_receiver_once(receiver):
    """Fails twice (500), then succeeds: the loop a delivery worker runs stops at the first 2xx."""
    outcomes = iter([500, 500, 200, 200])
    statuses = []
    for attempt, _delay in enumerate([0.0, *backoff_delays(4, 0.0)], start=1):
        status = next(outcomes)
        result = deliver(f"http://127.0.0.1:{receiver}/status/{status}", b"{}", {}, timeout=2, allow_private=True)
        statuses.append(result.status)
        if result.delivered:
            break
    assert statuses == [500, 500, 200] and attempt == 3
    assert [r["path"] for r in Receiver.received] == ["/status/500", "/status/500", "/status/200"]
