"""Occurrences of a recurring event type: the same wall-clock time in the type's time zone, across DST."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from booking_core.timeutil import UTC


def occurrences(first: datetime, frequency: str, interval: int, count: int, tz: ZoneInfo) -> list[datetime]:
    """`count` starts (UTC) beginning at `first`, every `interval` days/weeks/months at the same local time.

    Monthly series keep the day of month and skip months without it (as RFC 5545 RRULE does: the 31st never lands
    on the 30th).
    """
    local = first.astimezone(tz)
    wall = local.replace(tzinfo=None)
    out: list[datetime] = []
    step = 0
    while len(out) < count and step < count * 12 + 24:
        if frequency == "daily":
            candidate = wall + timedelta(days=interval * step)
        elif frequency == "weekly":
            candidate = wall + timedelta(weeks=interval * step)
        else:
            month_index = wall.month - 1 + interval * step
            year, month = wall.year + month_index // 12, month_index % 12 + 1
            if wall.day > calendar.monthrange(year, month)[1]:
                step += 1
                continue
            candidate = wall.replace(year=year, month=month)
        out.append(candidate.replace(tzinfo=tz).astimezone(UTC))
        step += 1
    return out
