"""Run independent I/O calls at the same time: one sequential round trip instead of one per call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="io")
    return _executor


def gather(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Call every function concurrently and return their results in order; the first exception propagates."""
    if len(calls) <= 1:
        return [call() for call in calls]
    futures = [_pool().submit(call) for call in calls[1:]]
    first = calls[0]()  # the calling thread does one share of the work itself
    return [first, *(future.result() for future in futures)]
