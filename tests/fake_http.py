"""What the provider fakes share: a threaded loopback server, a log of the requests it got, and injected faults
(the next N matching requests answered with a status of the test's choosing, e.g. 429 with Retry-After, or 503)."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


class Faults:
    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, method: str, path: str, status: int, *, times: int = 1, headers: dict[str, str] | None = None,
            body: Any = None) -> None:
        """Answer the next `times` requests whose method is `method` and whose path matches the regex `path`."""
        with self._lock:
            self._rules.append(Fault(method, re.compile(path), status, times, headers or {}, body))

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.method == method and rule.path.search(path) and rule.times > 0:
                    rule.times -= 1
                    return rule
        return None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()


class FakeHandler(BaseHTTPRequestHandler):
    """Base handler: `state` (with `requests`, `faults`, `lock`) is set on the subclass."""

    state: Any
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        return

    def reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def raw_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def json_body(self) -> tuple[Any, str | None]:
        """(parsed body, problem): a JSON request must say so and parse."""
        raw = self.raw_body()
        if not raw:
            return None, None
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            return None, "Content-Type must be application/json"
        try:
            return json.loads(raw), None
        except ValueError:
            return None, "the body is not JSON"

    def record(self, body: Any) -> None:
        entry = {"method": self.command, "path": self.path, "body": body, "headers": dict(self.headers),
                 "at": time.monotonic()}
        with self.state.lock:
            self.state.requests.append(entry)

    def fault(self) -> bool:
        """Answer with an injected fault if one matches; True when it did."""
        rule = self.state.faults.take(self.command, self.path)
        if rule is None:
            return False
        self.reply(rule.status, rule.body, rule.headers)
        return True


class FakeServer:
    def __init__(self, handler: type[FakeHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
