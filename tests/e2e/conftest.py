"""The local stack as `make run` starts it (python -m local), driven over HTTP."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.conftest import ROOT, _free_port
from tests.support import Reply

LOCAL_ADMIN_KEY = "local-admin-key"


class Http:
    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, body: Any = None, admin: bool = False,
             headers: dict[str, str] | None = None) -> Reply:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if admin:
            request.add_header("Authorization", f"Bearer {LOCAL_ADMIN_KEY}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(response.status, dict(response.headers), json.loads(response.read() or b"null"))
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), json.loads(error.read() or b"null"))

    def eventually(self, check, timeout: float = 60.0, interval: float = 0.25):
        """Poll `check` until it is truthy. The generous timeout only costs time when a test fails; asynchronous
        steps take well under a second on an idle machine but much longer on a loaded two-core CI runner."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(interval)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class StackProcess:
    """`python -m local` as a child process. Its output is drained as it comes (an unread pipe would fill up and
    block the stack's logging threads) and kept for the assertions."""

    def __init__(self, sigint_ignored: bool = False, environment: dict[str, str] | None = None) -> None:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith((
            "AWS_", "TABLE_", "OUTBOX_", "IDEMPOTENCY_", "EVENT_BUS", "ADMIN_", "BOOKER_", "POWERTOOLS_", "API_STAGE"))}
        env.update({"PORT": str(port), "PYTHONUNBUFFERED": "1", **(environment or {})})
        self.process = subprocess.Popen([sys.executable, "-m", "local"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        # as a shell starts a background job: SIGINT ignored
                                        preexec_fn=_ignore_sigint if sigint_ignored else None)
        self.base = f"http://127.0.0.1:{port}"
        self.lines: collections.deque[str] = collections.deque(maxlen=5000)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_healthy(self, timeout: float = 90) -> StackProcess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                if self.process.poll() is not None:
                    self._reader.join(timeout=5)
                    raise RuntimeError("local stack exited:\n" + self.output) from None
                time.sleep(0.3)
        self.process.kill()
        raise RuntimeError("local stack did not answer /health in time")

    def interrupt(self, timeout: float = 30) -> int | None:
        """Send what Ctrl-C sends; the exit code, or None when the stack did not stop in time (then it is killed)."""
        self.process.send_signal(signal.SIGINT)
        try:
            code: int | None = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            code = None
        self._reader.join(timeout=5)
        return code


@pytest.fixture(scope="package")
def provider_fakes():
    """Fakes of Google, Microsoft Graph and Zoom on loopback; the stack's provider endpoints point at them."""
    from tests.google_fake import FakeGoogle
    from tests.graph_fake import FakeGraph
    from tests.zoom_fake import FakeZoom

    fakes = {"google": FakeGoogle().start(), "graph": FakeGraph().start(), "zoom": FakeZoom().start()}
    yield fakes
    for fake in fakes.values():
        fake.stop()


def provider_endpoints(fakes: dict[str, Any]) -> dict[str, str]:
    return {"GOOGLE_CALENDAR_BASE_URL": fakes["google"].base_url, "GOOGLE_OAUTH_URL": fakes["google"].token_url,
            "MICROSOFT_GRAPH_BASE_URL": fakes["graph"].base_url, "MICROSOFT_OAUTH_URL": fakes["graph"].token_url,
            "ZOOM_API_BASE_URL": fakes["zoom"].base_url, "ZOOM_OAUTH_URL": fakes["zoom"].token_url}


@pytest.fixture(scope="package")  # stopped after the last e2e test, not left running under the others
def stack(provider_fakes):
    stack = StackProcess(environment=provider_endpoints(provider_fakes)).wait_healthy()
    http = Http(stack.base)
    http.process = stack  # type: ignore[attr-defined]  # for the failure report below
    yield http
    code = stack.interrupt()
    assert code == 0, stack.output[-3000:]


STACK_LINES_ON_FAILURE = 400


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing e2e test's report carries what the local stack printed last (its functions' structured logs,
    the pollers' retries): an asynchronous step that did not happen in time leaves its reason there, and on a CI
    runner that output is otherwise gone with the stack."""
    outcome = yield
    report = outcome.get_result()
    http = item.funcargs.get("stack") if report.when == "call" and report.failed else None
    process = getattr(http, "process", None)
    if process is not None:
        lines = list(process.lines)[-STACK_LINES_ON_FAILURE:]
        report.sections.append((f"local stack output, last {len(lines)} lines", "".join(lines)))
