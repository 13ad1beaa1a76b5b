"""The one place that reads the wall clock, so tests and the local scheduler can reason about 'now'."""

from __future__ import annotations

from datetime import datetime

from booking_core.timeutil import UTC


def now() -> datetime:
    return datetime.now(UTC)
