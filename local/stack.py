"""The local stack: every function of template.yaml wired to emulated AWS in one process, no Docker needed."""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from local.apigw import http_api_event, response_parts
from local.lambdas import FunctionPool, add_to_path
from local.moto_server import SerialMotoServer
from local.pollers import EventTap, QueuePoller, StreamPoller
from local.provision import REGION, Stack, describe, provision

# What the local stack sets itself unless the environment says otherwise (the template's values do not apply).
DEFAULTS = {
    "PAYMENT_PROVIDER": "test",
    "RATE_LIMIT_PER_IP_PER_MINUTE": "0",
    "RATE_LIMIT_PER_EMAIL_PER_HOUR": "0",
    "ADMIN_API_KEY": "local-admin-key",
    "BOOKER_JWT_SECRET": "local-booker-secret-change-me-0123456789",
}
DEFAULT_STAGE = "$default"
CLOCK_HORIZON = timedelta(days=3660)  # how far POST /_local/clock may move the stack's time ahead of real time
_STAGE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # API Gateway's rule for stage names


def prepare_environment(moto_url: str, stack: Stack) -> None:
    """Everything the functions read from the environment, set before any of them is imported."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": moto_url,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
    os.environ.update(stack.environment())
    os.environ["POWERTOOLS_LOG_LEVEL"] = os.environ.get("LOG_LEVEL", "WARNING")
    add_to_path(*stack.layer_dirs)


def stage_from_environment() -> str:
    """API_STAGE names the stage the API is served on (`prod` -> every API path under /prod); unset: $default."""
    stage = os.environ.get("API_STAGE", "").strip() or DEFAULT_STAGE
    if stage != DEFAULT_STAGE and not _STAGE_NAME.match(stage):
        raise SystemExit(f"API_STAGE={stage!r}: a stage name is 1 to 128 letters, digits, '-' or '_'")
    return stage


def invalid(field: str, message: str) -> tuple[int, dict[str, Any]]:
    """A local endpoint's 400, in the API's error shape."""
    return 400, {"code": "request_body_invalid_error", "message": message,
                 "details": {"errors": [{"field": field, "message": message}]}}


class LocalStack:
    def __init__(self, host: str = "127.0.0.1", port: int = 3000, stage: str = DEFAULT_STAGE) -> None:
        self.host, self.port, self.stage = host, port, stage
        self.moto = SerialMotoServer()
        self.stack = describe()
        self.pools: dict[str, FunctionPool] = {}
        self.loops: list[Any] = []
        self.tap: EventTap | None = None
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://{self.host}:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """Where the API answers: the root, or /<stage> on a named stage."""
        return self.url if self.stage == DEFAULT_STAGE else f"{self.url}/{self.stage}"

    def api_pool(self) -> FunctionPool:
        return next(pool for pool in self.pools.values() if pool.spec.http_api)

    def start(self) -> LocalStack:
        import boto3

        self.moto.start()
        prepare_environment(self.moto.url, self.stack)
        from local.moments import SchedulerClock  # imports the layer, on the path from here on

        session = boto3.session.Session()
        provision(self.stack, session)
        sqs, events = session.client("sqs"), session.client("events")

        # A local-only tap: every bus event, in publish order, for GET /_local/events.
        tap_url = sqs.create_queue(QueueName="local-tap")["QueueUrl"]
        tap_arn = sqs.get_queue_attributes(QueueUrl=tap_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = os.environ["EVENT_BUS_NAME"]
        events.put_rule(Name="local-tap", EventBusName=bus, EventPattern=json.dumps({"source": ["booking-service"]}))
        events.put_targets(Rule="local-tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": tap_arn}])
        self.tap = EventTap(sqs, tap_url)
        self.loops.append(self.tap)

        streams = session.client("dynamodbstreams")
        for logical, spec in self.stack.functions.items():
            pool = self.pools[logical] = FunctionPool(spec)
            pool.warm()
            for source in spec.sources:
                if source.kind == "DynamoDB":
                    self.loops.append(StreamPoller(streams, source.arn, pool.invoke, source.batch_size, source.filters))
                else:
                    url = self.stack.queue_urls[source.arn]
                    self.loops.append(QueuePoller(sqs, url, source.arn, pool.invoke, source.batch_size))
        self.loops.append(SchedulerClock(session))
        for loop in self.loops:
            loop.start()
        return self

    def open_front_door(self) -> LocalStack:
        """Start answering HTTP; /health is 200 from here on, so call this once the stack is ready."""
        self.server = FrontDoorServer((self.host, self.port), _front_door(self))
        threading.Thread(target=self.server.serve_forever, name="front-door", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        for loop in self.loops:
            loop.stop()
        self.moto.stop()

    # routing -----------------------------------------------------------------------------------------------------
    def api_target(self, path: str, target: str) -> str | None:
        """The path and query the API sees on its stage for the request target `target` (path `path`), or None
        when the request is outside the stage (API Gateway answers those itself). GET /health also answers at the
        root on a named stage: a readiness probe for whoever started the stack."""
        if self.stage == DEFAULT_STAGE:
            return target if path.startswith("/") else None
        prefix = f"/{self.stage}"
        if path == prefix or path.startswith(prefix + "/"):
            query = urlsplit(target).query
            return (path[len(prefix):] or "/") + (f"?{query}" if query else "")
        if path == "/health":
            return target
        return None

    # local-only endpoints ----------------------------------------------------------------------------------
    def local_route(self, method: str, path: str, body: bytes) -> tuple[int, Any] | None:
        if method == "GET" and path == "/_local/events":
            assert self.tap is not None
            return 200, self.tap.snapshot()
        match = re.fullmatch(r"/_local/payments/([^/]+)/succeed", path)
        if method == "POST" and match:
            return self._payment_succeeded(match.group(1))
        if method == "GET" and path == "/_local/emails":
            from local.mailbox import sent_emails

            return 200, sent_emails()
        if method == "GET" and path == "/_local/sms":
            from local.sms import sent_texts

            return 200, sent_texts()
        if method == "POST" and path == "/_local/scheduler/run":
            return self._run_scheduler(body)
        if path == "/_local/clock":
            return self._clock(method, body)
        return None

    def _run_scheduler(self, body: bytes) -> tuple[int, Any]:
        import boto3

        from local.moments import parse_until, run_schedules

        try:
            until = parse_until(json.loads(body or b"{}"))
        except (KeyError, ValueError, TypeError, OverflowError):
            return invalid("until", 'give {"until": "<ISO instant with offset>"}')
        session = boto3.session.Session()
        fired = run_schedules(session.client("scheduler"), session.client("events"), session.client("sqs"), until)
        return 200, {"fired": fired}

    def _clock(self, method: str, body: bytes) -> tuple[int, Any] | None:
        """GET: the stack's time; POST {"now": ISO}: move it forward to that instant (at most CLOCK_HORIZON ahead
        of real time), ticking on from there; DELETE: back to real time. Due schedules fire by themselves as the
        stack's time passes them."""
        from booking_core import clock
        from booking_core.timeutil import iso_z, parse_instant

        if method == "POST":
            try:
                instant = parse_instant(str(json.loads(body or b"{}")["now"]))
            except (KeyError, ValueError, TypeError, OverflowError):
                return invalid("now", 'give {"now": "<ISO instant with offset>"}')
            if instant - datetime.now(timezone.utc) > CLOCK_HORIZON:
                return invalid("now", f"at most {CLOCK_HORIZON.days} days ahead of real time")
            try:
                clock.move_to(instant)
            except ValueError as error:
                return invalid("now", f"{error}; the stack's time is {iso_z(clock.now())}")
        elif method == "DELETE":
            clock.reset()
        elif method != "GET":
            return None
        return 200, {"now": iso_z(clock.now()), "offsetSeconds": round(clock.offset().total_seconds(), 3),
                     "realTime": not clock.offset()}

    def _payment_succeeded(self, payment_uid: str) -> tuple[int, Any]:
        """The test payment provider reports the payment completed (what Stripe's webhook does in AWS)."""
        from booking_core import clock
        from booking_core.errors import DomainError
        from booking_core.repositories.bookings import DynamoBookingStore
        from booking_core.services.changes import payment_succeeded

        try:
            return 200, payment_succeeded(DynamoBookingStore(), payment_uid, clock.now())
        except DomainError as error:
            return error.status, error.body()["error"]


# Routes behind the HTTP API's JWT authorizer in template.yaml (BookerJwtAuthorizer).
JWT_ROUTES = ("/v2/me/",)
# HTTP API's own limit on a request's payload; the API refuses anything over 256 KB itself.
MAX_BODY_BYTES = 10 * 1024 * 1024
JSON = "application/json"


def emulate_jwt_authorizer(authorization: str | None) -> tuple[dict[str, Any] | None, bytes | None]:
    """API Gateway's JWT authorizer, locally: HS256 with BOOKER_JWT_SECRET; missing or bad token -> 401."""
    import jwt

    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None, b'{"message":"Unauthorized"}'
    try:
        claims = jwt.decode(token.strip(), os.environ["BOOKER_JWT_SECRET"], algorithms=["HS256"],
                            options={"verify_aud": False, "require": ["exp"]})
    except jwt.PyJWTError:
        return None, b'{"message":"Unauthorized"}'
    return claims, None


class FrontDoorServer(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a burst of simultaneous clients got connection resets.
    request_queue_size = 128
    daemon_threads = True


class _BadRequest(Exception):
    def __init__(self, status: HTTPStatus) -> None:
        super().__init__(status.phrase)
        self.status = status


def _front_door(stack: LocalStack) -> type[BaseHTTPRequestHandler]:
    class FrontDoor(BaseHTTPRequestHandler):
        """API Gateway in front of the API function: any method, any path; what it refuses itself (a path outside
        the stage, a body it cannot read, a malformed request) gets its JSON `{"message": ...}`, never HTML."""

        protocol_version = "HTTP/1.1"
        server_version = "booking-local"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
            return

        def __getattr__(self, name: str) -> Any:
            # The template's routes are ANY: every method reaches the function (do_GET, do_TRACE, do_FOO...).
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """The base class answers a request it cannot parse with an HTML page (and 501 for an unknown method,
            505 for HTTP/2 on this port): here it is JSON, and a 400, since the request was at fault."""
            status = HTTPStatus(code) if code < 500 else HTTPStatus.BAD_REQUEST
            if self.request_version == "HTTP/0.9":  # unparsable request line: still answer with a status line
                self.request_version = "HTTP/1.0"
            self.close_connection = True
            self._send(status, {"Content-Type": JSON, "Connection": "close"},
                       json.dumps({"message": status.phrase}).encode())

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return self._read_chunks()
            declared = (self.headers.get("Content-Length") or "0").strip()
            if not declared.isdigit():
                raise _BadRequest(HTTPStatus.BAD_REQUEST)
            if int(declared) > MAX_BODY_BYTES:
                raise _BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return self.rfile.read(int(declared)) if int(declared) else b""

        def _read_chunks(self) -> bytes:
            body = b""
            while True:
                size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                try:
                    size = int(size_line, 16)
                except ValueError:
                    raise _BadRequest(HTTPStatus.BAD_REQUEST) from None
                if size < 0 or len(body) + size > MAX_BODY_BYTES:
                    raise _BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailers
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline(1024)  # the CRLF after the chunk

        def _handle(self) -> None:
            try:
                body = self._read_body()
            except _BadRequest as refusal:
                self.close_connection = True
                self._send(refusal.status, {"Content-Type": JSON, "Connection": "close"},
                           json.dumps({"message": refusal.status.phrase}).encode())
                return
            path = urlsplit(self.path).path
            if path.startswith("/_local/"):
                self._local(path, body)
                return
            target = stack.api_target(path, self.path)
            if target is None:  # outside the stage: API Gateway's own answer
                self._send(HTTPStatus.NOT_FOUND, {"Content-Type": JSON}, b'{"message":"Not Found"}')
                return
            self._api(target, body)

        def _local(self, path: str, body: bytes) -> None:
            try:
                handled = stack.local_route(self.command, path, body)
            except Exception:  # noqa: BLE001 - a local endpoint that crashed: a 500 without internals
                handled = 500, {"code": "internal_server_error", "message": "the local endpoint failed"}
            if handled is None:
                handled = 404, {"code": "not_found_error", "message": "no such local route"}
            status, data = handled
            envelope = {"status": "success", "data": data} if status < 400 else {"status": "error", "error": data}
            self._send(status, {"Content-Type": JSON}, json.dumps(envelope).encode())

        def _api(self, target: str, body: bytes) -> None:
            text: str | bytes | None = None
            if body:
                try:
                    text = body.decode()
                except UnicodeDecodeError:
                    text = body
            claims = None
            if urlsplit(target).path.startswith(JWT_ROUTES):
                claims, refusal = emulate_jwt_authorizer(self.headers.get("Authorization"))
                if refusal is not None:
                    self._send(401, {"Content-Type": JSON, "WWW-Authenticate": "Bearer"}, refusal)
                    return
            event = http_api_event(self.command, target, dict(self.headers.items()), text, self.client_address[0],
                                   jwt_claims=claims, stage=stack.stage)
            try:
                result = stack.api_pool().invoke(event)
                status, headers, data = response_parts(result)
            except Exception:  # noqa: BLE001 - a crashed function is a 500 without internals, as in AWS
                status, headers = 500, {"Content-Type": JSON}
                data = b'{"message":"Internal Server Error"}'
            self._send(status, headers, data)

        def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in {"content-length", "connection"}:
                    self.send_header(key, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":  # a HEAD answer has the headers of the GET answer and no body
                self.wfile.write(data)

    return FrontDoor
