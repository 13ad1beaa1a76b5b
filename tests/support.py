"""Helpers for tests that drive functions through their real handlers (integration) or HTTP (e2e)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.apigw import http_api_event, response_parts

@contextmanager
def serving(handler: type[BaseHTTPRequestHandler],
            server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    """`handler` answering HTTP on a free loopback port in background threads, for as long as the block lasts."""
    server = server_class(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def base_url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@dataclass(frozen=True)
class Delivery:
    """One request a webhook receiver answered with a 2xx."""

    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.raw)


class WebhookReceiver:
    """A webhook consumer on a loopback port. `status(path, call)` decides each answer (call counts from 1 per path;
    200 by default; a 3xx answer carries `Location: /ok`). Deliveries answered 2xx are kept in `received`, in order;
    every request is counted in `calls`."""

    def __init__(self, status: Callable[[str, int], int] = lambda path, call: 200) -> None:
        self.received: list[Delivery] = []
        self.calls: Counter[str] = Counter()
        self._status = status

    def clear(self) -> None:
        self.received.clear()
        self.calls.clear()

    def bodies(self, trigger: str | None = None) -> list[dict[str, Any]]:
        """The JSON bodies received, only those of `trigger` when given."""
        return [d.body for d in self.received if trigger is None or d.body["triggerEvent"] == trigger]

    @contextmanager
    def running(self) -> Iterator[str]:
        """Serve for as long as the block lasts; yields the base URL."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls[self.path] += 1
                status = receiver._status(self.path, receiver.calls[self.path])
                if 200 <= status < 300:
                    receiver.received.append(Delivery(self.path, dict(self.headers), raw))
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/ok")
                self.send_header("Content-Length", "0")
                self.end_headers()

        with serving(Handler) as server:
            yield base_url(server)


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
ADMIN_KEY = "test-admin-key"


def weekday_ahead(days: int = 14, weekday: int = 2) -> date:
    """A date at least `days` ahead that falls on `weekday` (Monday = 0): far from notice and 'now' effects."""
    day = datetime.now(timezone.utc).date() + timedelta(days=days)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def wednesday_in_week(week: int) -> date:
    """The Wednesday `week` weeks after the one at least two weeks ahead. Tests sharing one long-lived stack (e2e)
    each take their own week, so their bookings never collide whatever weekday today is."""
    return weekday_ahead(14) + timedelta(weeks=week)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def data(self) -> Any:
        return self.body["data"]

    @property
    def code(self) -> str | None:
        return (self.body.get("error") or {}).get("code") if isinstance(self.body, dict) else None


class Api:
    """Calls a booking_api handler with API Gateway HTTP API events, like the front door does."""

    def __init__(self, handler: Callable[[Any, Any], Any], context_factory: Callable[[], Any],
                 stage: str = "$default") -> None:
        self.handler = handler
        self.context_factory = context_factory
        self.stage = stage  # "$default", or a named stage as template.yaml deploys (paths then start with /<stage>)

    def on_stage(self, stage: str) -> "Api":
        """The same function behind another stage of the API."""
        return Api(self.handler, self.context_factory, stage)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        admin: bool = False,
        headers: dict[str, str] | None = None,
        raw_body: str | bytes | None = None,
        source_ip: str = "127.0.0.1",
    ) -> Reply:
        all_headers = {"content-type": "application/json", **(headers or {})}
        if admin:
            all_headers["authorization"] = f"Bearer {ADMIN_KEY}"
        text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        event = http_api_event(method, path, all_headers, text, source_ip=source_ip, stage=self.stage)
        result = self.handler(event, self.context_factory())
        status, response_headers, data = response_parts(result)
        return Reply(status, response_headers, json.loads(data) if data else None)

    # management shortcuts ------------------------------------------------------------------------------------
    def host(self, name: str = "Host", time_zone: str = "Europe/London", hours: tuple[str, str] = ("09:00", "17:00"),
             days: list[str] | None = None, overrides: list[dict[str, str]] | None = None, email: str | None = None) -> dict:
        user = self.call("POST", "/v2/users", {"name": name, "email": email or f"{name.lower().replace(' ', '.')}@example.com",
                                                "timeZone": time_zone}, admin=True)
        assert user.status == 201, user.body
        schedule = self.call("POST", "/v2/schedules", {
            "userId": user.data["id"], "name": "Work", "timeZone": time_zone,
            "availability": [{"days": days or WEEKDAYS, "startTime": hours[0], "endTime": hours[1]}],
            "overrides": overrides or [],
        }, admin=True)
        assert schedule.status == 201, schedule.body
        return user.data

    def event_type(self, **fields: Any) -> dict:
        body = {"title": "Meeting", "slug": "meeting", "lengthInMinutes": 30, **fields}
        reply = self.call("POST", "/v2/event-types", body, admin=True)
        assert reply.status == 201, reply.body
        return reply.data

    def book(self, event_type_id: int, start: str, email: str = "booker@example.org", **extra: Any) -> Reply:
        body = {"start": start, "eventTypeId": event_type_id,
                "attendee": {"name": "Booker", "email": email, "timeZone": "Europe/London"}, **extra}
        return self.call("POST", "/v2/bookings", body)

    def slots(self, event_type_id: int, start: str, end: str, time_zone: str = "UTC", **extra: Any) -> dict:
        query = f"eventTypeId={event_type_id}&start={start}&end={end}&timeZone={time_zone}"
        for key, value in extra.items():
            query += f"&{key}={value}"
        reply = self.call("GET", f"/v2/slots?{query}")
        assert reply.status == 200, reply.body
        return reply.data
