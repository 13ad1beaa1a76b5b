"""Booking limits per day / ISO week / month / year in the event type's time zone. (Which counter a booking counts
in is a key of the table: repositories/keys.py.)"""

from __future__ import annotations

from dataclasses import dataclass

from booking_core.domain.event_types import EventType

PERIODS = ("day", "week", "month", "year")


def configured_periods(event_type: EventType) -> list[str]:
    periods = []
    for period in PERIODS:
        by_count = event_type.booking_limits_count and getattr(event_type.booking_limits_count, period)
        by_minutes = event_type.booking_limits_duration and getattr(event_type.booking_limits_duration, period)
        if by_count or by_minutes:
            periods.append(period)
    return periods


def limit_of(event_type: EventType, period: str) -> tuple[int | None, int | None]:
    count = getattr(event_type.booking_limits_count, period) if event_type.booking_limits_count else None
    minutes = getattr(event_type.booking_limits_duration, period) if event_type.booking_limits_duration else None
    return count, minutes


@dataclass(frozen=True, slots=True)
class Usage:
    count: int
    minutes: int


def exceeded(event_type: EventType, period: str, current: Usage, adding: Usage) -> str | None:
    """'booking_limit_reached' / 'duration_limit_reached' when adding to a counter of `period` would pass its limits."""
    max_count, max_minutes = limit_of(event_type, period)
    if max_count is not None and current.count + adding.count > max_count:
        return "booking_limit_reached"
    if max_minutes is not None and current.minutes + adding.minutes > max_minutes:
        return "duration_limit_reached"
    return None
