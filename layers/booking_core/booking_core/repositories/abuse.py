"""Abuse-limit counters: one item per window, incremented with ADD under a condition (never read-then-write), so
a refused request writes nothing; expired windows are removed by the table's TTL."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import UpdateError

from booking_core.domain.abuse import RateWindow
from booking_core.ports import RateLimited
from booking_core.repositories.tables import RateCounterItem

# The item outlives its window a little, so a clock skew between containers cannot reopen a window early.
EXPIRY_GRACE_SECONDS = 3600


def rate_key(window: RateWindow) -> tuple[str, str]:
    return f"RATE#{window.kind}#{window.subject}#{window.starts_at}", "RATE"


def counted(window: RateWindow) -> tuple[RateCounterItem, list[Any], Any]:
    """The item, its update actions and its condition: one more request, if the window has room."""
    item = RateCounterItem(*rate_key(window))
    actions = [RateCounterItem.count.add(1), RateCounterItem.expires_at.set(window.ends_at + EXPIRY_GRACE_SECONDS),
               RateCounterItem.kind.set(RateCounterItem)]
    condition = RateCounterItem.count.does_not_exist() | (RateCounterItem.count < window.limit)
    return item, actions, condition


def admit(window: RateWindow) -> None:
    """Count one request in `window`, or raise RateLimited when it is full (nothing is written then)."""
    item, actions, condition = counted(window)
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise RateLimited(window) from exc
        raise

