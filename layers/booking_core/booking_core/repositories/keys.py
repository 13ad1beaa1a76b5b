"""The keys that leave the repositories as opaque strings.

The pipeline and the services hand these to the store (`RequestKeys.duplicate_key`, `NewBooking.booker_key`,
`LimitDelta.key`, the keys `limit_counts` reads) and a booking record keeps the ones it holds (`duplicateKey`,
`limitKeys`), so the write that later releases the booking finds the same items. Nothing outside `repositories/`
builds one or looks inside one: they ask this module. Each is (part of) a main-table key (see
repositories/tables.py), so stored records and items depend on these forms: changing one is a data migration.

No PynamoDB here: the booking path imports this module before it needs a table.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from booking_core.domain.bookings import BookingRecord
from booking_core.domain.common import normalize_email
from booking_core.domain.event_types import EventType
from booking_core.domain.limits import configured_periods
from booking_core.timeutil import local_date

_UTC = ZoneInfo("UTC")


def duplicate_key(event_type_id: int, start_min: int, email: str) -> str:
    """The duplicate guard of 'same attendee, type and start' (the guard item's partition key). The email is only
    lower-cased: `a+x@` and `a@` are two attendees here."""
    return f"DUP#{event_type_id}#{start_min}#{email.lower()}"


def booker_key(event_type_id: int, email: str) -> str:
    """A booker's bookings of one type (the active-bookings limit), by their normalised email ('+tag' dropped)."""
    return f"{event_type_id}#{normalize_email(email)}"


def booker_key_of(record: BookingRecord) -> str | None:
    """The booker index entry a booking was written with (None for bookings without a booker email)."""
    return booker_key(record.event_type_id, record.booker_email) if record.booker_email else None


# -- booking-limit counters: <eventTypeId>#<period>#<the period's calendar label> -------------------------------------
def limit_key(event_type_id: int, period: str, day: date) -> str:
    """The counter of `period` (day, week, month, year) that `day` (a date in the type's time zone) falls in."""
    if period == "day":
        label = day.isoformat()
    elif period == "week":
        iso = day.isocalendar()
        label = f"{iso.year}-W{iso.week:02d}"
    elif period == "month":
        label = f"{day.year}-{day.month:02d}"
    elif period == "year":
        label = str(day.year)
    else:
        raise ValueError(f"unknown booking-limit period {period!r}")
    return f"{event_type_id}#{period}#{label}"


def limit_period(key: str) -> str:
    """The period (day, week, month, year) a counter key counts."""
    return key.split("#")[1]


def limit_keys_at(event_type: EventType, start_min: int, tz: ZoneInfo) -> list[str]:
    """The counters a booking of the type starting at `start_min` counts in (`tz`: the type's time zone)."""
    day = local_date(start_min, tz)
    return [limit_key(event_type.id, period, day) for period in configured_periods(event_type)]


def limit_keys_between(event_type: EventType, from_min: int, to_min: int) -> list[str]:
    """Every counter a start in [from_min, to_min) can count in, whatever the type's time zone (a day each way)."""
    periods = configured_periods(event_type)
    keys: dict[str, None] = {}
    day = local_date(from_min, _UTC) - timedelta(days=1)
    last = local_date(to_min, _UTC) + timedelta(days=1)
    while day <= last:
        for period in periods:
            keys[limit_key(event_type.id, period, day)] = None
        day += timedelta(days=1)
    return list(keys)
