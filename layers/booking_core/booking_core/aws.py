"""AWS clients, created on first use and shared by the process (boto3 clients are thread-safe): importing a module
never pays for a client it may not need."""

from __future__ import annotations

import threading
from typing import Any

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    if service not in _clients:
        with _lock:
            if service not in _clients:
                import boto3

                _clients[service] = boto3.client(service)
    return _clients[service]
