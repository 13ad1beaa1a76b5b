"""The local stack: every function of template.yaml wired to emulated AWS in one process, no Docker needed."""

from __future__ import annotations

import json
import os
import re
import threading
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


class LocalStack:
    def __init__(self, host: str = "127.0.0.1", port: int = 3000) -> None:
        self.host, self.port = host, port
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

    def api_pool(self) -> FunctionPool:
        return next(pool for pool in self.pools.values() if pool.spec.http_api)

    def start(self) -> LocalStack:
        import boto3

        self.moto.start()
        prepare_environment(self.moto.url, self.stack)
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
        for loop in self.loops:
            loop.start()
        return self

    def open_front_door(self) -> LocalStack:
        """Start answering HTTP; /health is 200 from here on, so call this once the stack is ready."""
        self.server = ThreadingHTTPServer((self.host, self.port), _front_door(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="front-door", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        for loop in self.loops:
            loop.stop()
        self.moto.stop()

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
        return None

    def _run_scheduler(self, body: bytes) -> tuple[int, Any]:
        import boto3

        from local.moments import parse_until, run_schedules

        try:
            until = parse_until(json.loads(body or b"{}"))
        except (KeyError, ValueError):
            return 400, {"code": "request_body_invalid_error", "message": 'give {"until": "<ISO instant>"}'}
        session = boto3.session.Session()
        fired = run_schedules(session.client("scheduler"), session.client("events"), session.client("sqs"), until)
        return 200, {"fired": fired}

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


def _front_door(stack: LocalStack) -> type[BaseHTTPRequestHandler]:
    class FrontDoor(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "booking-local"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
            return

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            if path.startswith("/_local/"):
                handled = stack.local_route(self.command, path, body)
                if handled is None:
                    self._send(404, {"Content-Type": "application/json"}, json.dumps(
                        {"status": "error", "error": {"code": "not_found_error", "message": "no such local route"}}
                    ).encode())
                    return
                status, data = handled
                envelope = {"status": "success", "data": data} if status < 400 else {"status": "error", "error": data}
                self._send(status, {"Content-Type": "application/json"}, json.dumps(envelope).encode())
                return
            text: str | bytes | None = None
            if body:
                try:
                    text = body.decode()
                except UnicodeDecodeError:
                    text = body
            claims = None
            if path.startswith(JWT_ROUTES):
                claims, refusal = emulate_jwt_authorizer(self.headers.get("Authorization"))
                if refusal is not None:
                    self._send(401, {"Content-Type": "application/json", "WWW-Authenticate": "Bearer"}, refusal)
                    return
            event = http_api_event(self.command, self.path, dict(self.headers.items()), text, self.client_address[0],
                                   jwt_claims=claims)
            try:
                result = stack.api_pool().invoke(event)
                status, headers, data = response_parts(result)
            except Exception:  # noqa: BLE001 - a crashed function is a 500 without internals, as in AWS
                status, headers = 500, {"Content-Type": "application/json"}
                data = b'{"message":"Internal Server Error"}'
            self._send(status, headers, data)

        def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in {"content-length", "connection"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

    return FrontDoor
