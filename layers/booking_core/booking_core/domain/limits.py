"""Booking limits per day / ISO week / month / year in the event type's time zone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from booking_core.domain.event_types import EventType
from booking_core.timeutil import local_date, local_midnight_minutes

PERIODS = ("day", "week", "month", "year")


def period_id(period: str, day: date) -> str:
    if period == "day":
        return f"day#{day.isoformat()}"
    if period == "week":
        iso = day.isocalendar()
        return f"week#{iso.year}-W{iso.week:02d}"
    if period == "month":
        return f"month#{day.year}-{day.month:02d}"
    return f"year#{day.year}"


def counter_key(event_type_id: int, period: str, day: date) -> str:
    return f"{event_type_id}#{period_id(period, day)}"


def configured_periods(event_type: EventType) -> list[str]:
    periods = []
    for period in PERIODS:
        by_count = event_type.booking_limits_count and getattr(event_type.booking_limits_count, period)
        by_minutes = event_type.booking_limits_duration and getattr(event_type.booking_limits_duration, period)
        if by_count or by_minutes:
            periods.append(period)
    return periods


def keys_for_start(event_type: EventType, start_min: int, tz: ZoneInfo) -> list[str]:
    day = local_date(start_min, tz)
    return [counter_key(event_type.id, period, day) for period in configured_periods(event_type)]


def candidate_keys(event_type: EventType, start_min: int) -> list[str]:
    """Keys for any time zone (local dates within a day of the UTC date): fetched before the zone is known."""
    utc_day = local_date(start_min, ZoneInfo("UTC"))
    out: list[str] = []
    for offset in (-1, 0, 1):
        for period in configured_periods(event_type):
            key = counter_key(event_type.id, period, utc_day + timedelta(days=offset))
            if key not in out:
                out.append(key)
    return out


def limit_of(event_type: EventType, period: str) -> tuple[int | None, int | None]:
    count = getattr(event_type.booking_limits_count, period) if event_type.booking_limits_count else None
    minutes = getattr(event_type.booking_limits_duration, period) if event_type.booking_limits_duration else None
    return count, minutes


@dataclass(frozen=True, slots=True)
class Usage:
    count: int
    minutes: int


def add_usage(bookings: Iterable[tuple[str, int]]) -> dict[str, Usage]:
    """(key, minutes) pairs -> per-key totals."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, minutes in bookings:
        totals[key][0] += 1
        totals[key][1] += minutes
    return {key: Usage(count, minutes) for key, (count, minutes) in totals.items()}


def exceeded(
    event_type: EventType, key: str, current: Usage, adding: Usage
) -> str | None:
    """'booking_limit_reached' / 'duration_limit_reached' when adding would pass the key's period limits."""
    period = key.split("#")[1]
    max_count, max_minutes = limit_of(event_type, period)
    if max_count is not None and current.count + adding.count > max_count:
        return "booking_limit_reached"
    if max_minutes is not None and current.minutes + adding.minutes > max_minutes:
        return "duration_limit_reached"
    return None


def period_days(key: str, tz: ZoneInfo) -> tuple[date, date]:
    """First and last local date of the period a key names (for hiding limited periods from slots)."""
    period, value = key.split("#")[1], key.split("#")[2]
    if period == "day":
        day = date.fromisoformat(value)
        return day, day
    if period == "week":
        year, week = value.split("-W")
        first = date.fromisocalendar(int(year), int(week), 1)
        return first, first + timedelta(days=6)
    if period == "month":
        year, month = (int(part) for part in value.split("-"))
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return first, following - timedelta(days=1)
    first = date(int(value), 1, 1)
    return first, date(int(value), 12, 31)


def minutes_range(key: str, tz: ZoneInfo) -> tuple[int, int]:
    first, last = period_days(key, tz)
    return local_midnight_minutes(first, tz), local_midnight_minutes(last + timedelta(days=1), tz)
