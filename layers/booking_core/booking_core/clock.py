"""The one place that decides what time it is: every read of 'now' in the layer and the functions goes through here.

Deployed, it is the wall clock. The local stack can move it forward (POST /_local/clock) to try what happens after a
meeting: from then on `now()` is that instant plus the time elapsed since, in the whole process (the API, the
subscribers and the local scheduler share this module), until `reset()` returns to real time. Nothing deployed calls
`move_to` or `reset`.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from booking_core.timeutil import UTC

_offset = timedelta(0)
_lock = threading.Lock()


def now() -> datetime:
    return datetime.now(UTC) + _offset


def epoch_seconds() -> float:
    """now() as seconds since the epoch (for TTLs and signature timestamps)."""
    return now().timestamp()


def offset() -> timedelta:
    """How far ahead of the wall clock now() is (zero unless the local stack moved it)."""
    return _offset


def move_to(instant: datetime) -> datetime:
    """Local stack only: make now() `instant` and keep it ticking from there. Only forward: an instant before now()
    raises ValueError (moments already fired cannot be undone)."""
    global _offset
    if instant.tzinfo is None:
        raise ValueError("the instant needs a UTC offset")
    with _lock:
        wall = datetime.now(UTC)
        if instant < wall + _offset:
            raise ValueError("the clock only moves forward")
        _offset = instant - wall
        return wall + _offset


def reset() -> datetime:
    """Local stack only: back to the wall clock."""
    global _offset
    with _lock:
        _offset = timedelta(0)
    return now()
