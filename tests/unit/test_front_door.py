"""The local stack's front door (local/stack.py) in front of a stand-in API function: what API Gateway does before
the function is called. The real stack behind it is driven in tests/e2e/test_holds_up.py."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from local.stack import FrontDoorServer, LocalStack, _front_door


class StandIn:
    """What the front door needs of the stack: its stage and routing (the real ones), a local endpoint, and an API
    function that answers with what it was called with."""

    api_target = LocalStack.api_target

    def __init__(self, stage: str = "$default") -> None:
        self.stage = stage
        self.events: list[dict[str, Any]] = []

    def local_route(self, method: str, path: str, body: bytes) -> tuple[int, Any] | None:
        return (200, {"method": method}) if path == "/_local/ping" else None

    def api_pool(self) -> StandIn:
        return self

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                "body": json.dumps({"method": event["requestContext"]["http"]["method"], "rawPath": event["rawPath"],
                                    "body": event.get("body")})}


def serve(stack: StandIn) -> FrontDoorServer:
    server = FrontDoorServer(("127.0.0.1", 0), _front_door(stack))  # type: ignore[arg-type]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def door() -> Iterator[tuple[StandIn, int]]:
    stack = StandIn()
    server = serve(stack)
    yield stack, server.server_address[1]
    server.shutdown()
    server.server_close()


def exchange(port: int, request: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read one HTTP response: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        reader = sock.makefile("rb")
        status = int(reader.readline().split()[1])
        headers: dict[str, str] = {}
        while (line := reader.readline().decode().strip()):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        body = reader.read(int(headers.get("content-length", "0")))
    return status, headers, body


def test_fifty_connections_arriving_at_once_all_get_an_answer():
    """Connections the door has not accepted yet wait in the listen backlog; socketserver's default of 5 made
    clients beyond it time out or be reset while the door was busy."""
    stack = StandIn()
    server = FrontDoorServer(("127.0.0.1", 0), _front_door(stack))  # type: ignore[arg-type]
    port = server.server_address[1]
    clients: list[socket.socket] = []
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    try:
        for _ in range(50):  # nobody accepts yet: every handshake must complete into the backlog
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=1))
        serving.start()
        statuses = []
        for client in clients:
            client.sendall(b"GET /v2/slots HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n")
            statuses.append(int(client.makefile("rb").readline().split()[1]))
        assert statuses == [200] * 50
    finally:
        for client in clients:
            client.close()
        if serving.is_alive():
            server.shutdown()
        server.server_close()


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "CONNECT", "PROPFIND", "FOO", "DELETE", "PATCH"])
def test_every_method_reaches_the_api_function(door, method):
    stack, port = door
    status, headers, body = exchange(port, f"{method} /v2/bookings HTTP/1.1\r\nHost: local\r\n\r\n".encode())
    assert status == 200 and json.loads(body)["method"] == method  # the function decides, as behind an ANY route
    assert stack.events[-1]["routeKey"] == "ANY /{proxy+}"


def test_head_gets_the_headers_without_a_body(door):
    _, port = door
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"HEAD /v2/slots HTTP/1.1\r\nHost: local\r\n\r\nGET /v2/slots HTTP/1.1\r\nHost: local\r\n\r\n")
        reader = sock.makefile("rb")
        head = [reader.readline() for _ in range(5)]
        assert head[0].startswith(b"HTTP/1.1 200") and any(line.startswith(b"Content-Length:") for line in head)
        rest = reader.readline()
        while rest.strip():  # the rest of HEAD's headers
            rest = reader.readline()
        assert reader.readline().startswith(b"HTTP/1.1 200")  # the next answer follows at once: no body between


@pytest.mark.parametrize("request_bytes, status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET / HTTP/2.0\r\n\r\n", 400),  # the base class answers 505 (HTML)
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    (b"GET /v2/slots HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(120)) + b"\r\n", 431),
    (b"POST /v2/bookings HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
    (b"POST /v2/bookings HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400),
    (b"POST /v2/bookings HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 413),
    (b"POST /v2/bookings HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
], ids=["request-line", "http2", "long-uri", "many-headers", "length-not-a-number", "negative-length",
        "over-10-MB", "bad-chunk"])
def test_requests_the_door_cannot_read_get_api_gateway_s_json_never_html(door, request_bytes, status):
    stack, port = door
    answer, headers, body = exchange(port, request_bytes)
    assert answer == status and headers["content-type"] == "application/json"
    assert json.loads(body) == {"message": json.loads(body)["message"]} and "<" not in body.decode()
    assert stack.events == []


def test_a_chunked_body_reaches_the_function_whole(door):
    _, port = door
    request = (b"POST /v2/bookings HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\n{\"a\":\r\n3;ext=1\r\n 1}\r\n0\r\n\r\n")
    status, _, body = exchange(port, request)
    assert status == 200 and json.loads(body)["body"] == '{"a": 1}'


def test_local_endpoints_answer_in_the_envelope_and_unknown_ones_404(door):
    _, port = door
    status, _, body = exchange(port, b"POST /_local/ping HTTP/1.1\r\n\r\n")
    assert status == 200 and json.loads(body) == {"status": "success", "data": {"method": "POST"}}
    status, _, body = exchange(port, b"GET /_local/nothing HTTP/1.1\r\n\r\n")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found_error"


def test_on_a_named_stage_the_api_lives_under_it_and_local_endpoints_stay_at_the_root():
    stack = StandIn("prod")
    server = serve(stack)
    port = server.server_address[1]
    try:
        status, _, body = exchange(port, b"GET /prod/v2/slots?eventTypeId=1 HTTP/1.1\r\n\r\n")
        assert status == 200 and json.loads(body)["rawPath"] == "/prod/v2/slots"
        event = stack.events[-1]
        assert event["requestContext"]["stage"] == "prod" and event["rawQueryString"] == "eventTypeId=1"
        assert event["pathParameters"] == {"proxy": "v2/slots"}
        for outside in (b"/v2/slots", b"/production/v2/slots", b"/", b"*"):
            status, _, body = exchange(port, b"GET " + outside + b" HTTP/1.1\r\n\r\n")
            assert (status, json.loads(body)) == (404, {"message": "Not Found"})  # API Gateway's own answer
        status, _, body = exchange(port, b"GET /health HTTP/1.1\r\n\r\n")  # the readiness probe, at the root too
        assert status == 200 and json.loads(body)["rawPath"] == "/prod/health"
        status, _, body = exchange(port, b"GET /_local/ping HTTP/1.1\r\n\r\n")
        assert status == 200
        status, _, body = exchange(port, b"POST /prod/v2/me/bookings HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
        assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})  # the JWT authorizer, under /prod
    finally:
        server.shutdown()
        server.server_close()
