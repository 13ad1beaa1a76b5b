"""AWS clients, created on first use and shared by the process (boto3 clients are thread-safe): importing a module
never pays for a client it may not need."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_clients: dict[tuple[str, str], Any] = {}
_lock = threading.Lock()


def client(service: str, variant: str = "", make: Callable[[], Any] | None = None) -> Any:
    """The process's client of `service`. A `variant` is a differently configured client of the same service, built
    once by `make` (which defaults to boto3's own defaults)."""
    key = (service, variant)
    if key not in _clients:
        with _lock:
            if key not in _clients:
                if make is None:
                    import boto3

                    _clients[key] = boto3.client(service)
                else:
                    _clients[key] = make()
    return _clients[key]
