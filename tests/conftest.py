"""Test set-up shared by every suite.

The environment is fixed before any booking_core import (PynamoDB binds table names and the endpoint when its models
are defined): table names come from template.yaml exactly as the local stack resolves them, and AWS points at a
single-threaded moto server on a port reserved here, started by the `aws` fixture when a test needs it.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


MOTO_PORT = _free_port()
ADMIN_KEY = "test-admin-key"

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{MOTO_PORT}",
        "ADMIN_API_KEY": ADMIN_KEY,
        "BOOKER_JWT_SECRET": "test-booker-secret-0123456789-abcdefghij",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_METRICS_NAMESPACE": "BookingService",
        "PAYMENT_PROVIDER": "test",  # deployments name it explicitly; the tests use the test provider
    }
)
sys.path.insert(0, str(ROOT))

from local.provision import describe  # noqa: E402

_STACK = describe()
os.environ.update(_STACK.environment())


def _settings_follow_monkeypatched_environment() -> None:
    """booking_core reads its settings from the environment once per process (config.settings, cached), as a Lambda
    container does at cold start. Tests change the environment between scenarios with monkeypatch, so every setenv,
    delenv and undo (also a monkeypatch.context() leaving) drops the cached settings: the next read sees the change."""
    def clearing(change):
        def changed(self, *args, **kwargs):
            from booking_core.config import settings

            try:
                return change(self, *args, **kwargs)
            finally:
                settings.cache_clear()

        return changed

    for name in ("setenv", "delenv", "undo"):
        setattr(pytest.MonkeyPatch, name, clearing(getattr(pytest.MonkeyPatch, name)))


_settings_follow_monkeypatched_environment()


@pytest.fixture(scope="session")
def aws():
    """The serial moto server with every template resource provisioned (once per test session)."""
    import boto3

    from local.lambdas import add_to_path
    from local.moto_server import SerialMotoServer
    from local.provision import provision

    server = SerialMotoServer(port=MOTO_PORT).start()
    stack = provision(describe(), boto3.session.Session())
    add_to_path(*stack.layer_dirs)
    yield stack
    server.stop()
