"""GET /v2/slots: the bookable starts of an event type, in the booker's time zone."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from booking_core.errors import DomainError, invalid
from booking_core.pipeline.availability import (
    available_slots,
    bookable_hosts,
    first_working_hours,
    load_hosts,
    slot_rules,
)
from booking_core.ports import BookingStore
from booking_core.timeutil import iso_local, local_date, local_midnight_minutes, parse_instant, to_minutes, zone

MAX_RANGE_DAYS = 92
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _bound(value: str, field: str, tz: Any, is_end: bool) -> int:
    """A date means whole days in the requested zone (an end date is inclusive); anything else is an instant."""
    try:
        if _DATE.match(value):
            day = date.fromisoformat(value)
            return local_midnight_minutes(day + timedelta(days=1) if is_end else day, tz)
        return to_minutes(parse_instant(value))
    except ValueError as exc:
        raise invalid(field, "must be a date (2026-12-01) or an ISO 8601 instant with an offset") from exc


def get_slots(
    store: BookingStore,
    now: datetime,
    event_type_id: int,
    start: str,
    end: str,
    time_zone: str = "UTC",
    duration: int | None = None,
) -> dict[str, list[dict[str, Any]]]:
    try:
        tz = zone(time_zone)
    except ValueError as exc:
        raise invalid("timeZone", "must be an IANA time zone such as Europe/London") from exc
    from_min = _bound(start, "start", tz, is_end=False)
    to_min = _bound(end, "end", tz, is_end=True)
    if to_min <= from_min:
        raise invalid("end", "must be after start")
    if to_min - from_min > MAX_RANGE_DAYS * 1440:
        raise invalid("end", f"a slots query spans at most {MAX_RANGE_DAYS} days")

    event_type = store.fetch_request_data(event_type_id, None).event_type
    if event_type is None:
        raise DomainError("event_type_not_found", f"event type {event_type_id} not found")
    length = duration or event_type.length_in_minutes
    if length not in event_type.lengths:
        raise DomainError(
            "invalid_event_length", f"duration must be one of {event_type.lengths}", {"allowed": event_type.lengths}
        )
    if not event_type.host_ids:
        return {}

    hosts = load_hosts(store, event_type.host_ids, from_min, to_min)
    try:
        bookable = bookable_hosts(event_type, hosts)
    except DomainError:
        return {}  # no bookable host: nothing can be booked, so nothing is listed
    now_min = to_minutes(now)
    rules = slot_rules(event_type, length, now_min, bookable.tz_name, first_working_hours(event_type, hosts, bookable))
    slots = available_slots(event_type, hosts, bookable, rules, from_min, to_min)

    out: dict[str, list[dict[str, Any]]] = {}
    for minute in slots:
        out.setdefault(local_date(minute, tz).isoformat(), []).append({"start": iso_local(minute, tz)})
    return out
