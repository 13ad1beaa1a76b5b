"""Booking limits per day / ISO week / month / year in the event type's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from booking_core.domain.event_types import EventType
from booking_core.timeutil import local_date

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


def limit_of(event_type: EventType, period: str) -> tuple[int | None, int | None]:
    count = getattr(event_type.booking_limits_count, period) if event_type.booking_limits_count else None
    minutes = getattr(event_type.booking_limits_duration, period) if event_type.booking_limits_duration else None
    return count, minutes


@dataclass(frozen=True, slots=True)
class Usage:
    count: int
    minutes: int


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
