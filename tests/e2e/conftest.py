"""The local stack as `make run` starts it (python -m local), driven over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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

    def eventually(self, check, timeout: float = 20.0, interval: float = 0.25):
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(interval)


def start_stack() -> tuple[subprocess.Popen, str, list[str]]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TABLE_", "OUTBOX_", "IDEMPOTENCY_",
                                                                    "EVENT_BUS", "ADMIN_", "BOOKER_", "POWERTOOLS_"))}
    env.update({"PORT": str(port), "PYTHONUNBUFFERED": "1"})
    process = subprocess.Popen([sys.executable, "-m", "local"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as response:
                if response.status == 200:
                    return process, base, lines
        except (urllib.error.URLError, ConnectionError, OSError):
            if process.poll() is not None:
                raise RuntimeError("local stack exited:\n" + (process.stdout.read() if process.stdout else ""))
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("local stack did not answer /health in time")


def stop_stack(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        return -1, output
    return process.returncode, output


@pytest.fixture(scope="session")
def stack():
    process, base, _ = start_stack()
    yield Http(base)
    code, output = stop_stack(process)
    assert code == 0, output[-3000:]
