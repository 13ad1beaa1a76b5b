"""Run independent I/O calls at the same time: one sequential round trip instead of one per call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# The most calls one gather runs at once: one read per host of the largest team (domain.bookings.MAX_TEAM_HOSTS,
# 100) and the few other reads of the same round (round-robin counts, limit counters, the booker's bookings, seat
# slots), so that every availability read of a request is one round trip. The pool starts threads only when calls
# wait for one (an idle thread is reused first), so a small team's request never creates more than it uses. The
# DynamoDB connection pools are sized to the same number (repositories/tables.py).
MAX_IN_FLIGHT = 108

_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=MAX_IN_FLIGHT - 1, thread_name_prefix="io")
    return _executor


def gather(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Call every function concurrently and return their results in order; the first exception propagates."""
    if len(calls) <= 1:
        return [call() for call in calls]
    futures = [_pool().submit(call) for call in calls[1:]]
    first = calls[0]()  # the calling thread does one share of the work itself
    return [first, *(future.result() for future in futures)]
