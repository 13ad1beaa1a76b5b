"""GET /v2/slots: the bookable starts of an event type, in the booker's time zone.

A start is listed exactly when POST /v2/bookings at that start would succeed right now: the same availability
computation, the same bounds, the same booking limits, and for seated types the seats still free.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from booking_core.concurrency import gather
from booking_core.errors import DomainError, invalid
from booking_core.pipeline.availability import (
    assemble_hosts,
    available_slots,
    bookable_hosts,
    first_working_hours,
    slot_rules,
    with_calendar_busy,
    within_limits,
)
from booking_core.pipeline.reads import ReadAhead, plan_slot_reads, remember, remembered, results_for
from booking_core.ports import BookingStore, RequestKeys
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
    except (ValueError, OverflowError) as exc:  # 9999-12-31 has no next day: out of range, not a crash
        raise invalid(field, "must be a date (2026-12-01) or an ISO 8601 instant with an offset") from exc


def get_slots(
    store: BookingStore,
    now: datetime,
    event_type_id: int,
    start: str,
    end: str,
    time_zone: str = "UTC",
    duration: int | None = None,
    private_link: str | None = None,
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

    # The event type's read, and beside it, for a type this container has seen, the reads that type calls for
    # (pipeline/reads.py): used only if the type just read calls for the same ones.
    known = remembered(event_type_id)
    ahead = plan_slot_reads(known, from_min, to_min) if known is not None else None
    first = gather([lambda: store.fetch_request_data(RequestKeys(event_type_id, private_link=private_link)),
                    *(ahead.calls(store) if ahead is not None else [])])
    found = first[0]
    event_type = found.event_type
    if event_type is None:
        raise DomainError("event_type_not_found", f"event type {event_type_id} not found")
    if event_type.hidden or private_link:
        if found.private_link is None or found.private_link.is_expired(now):
            raise DomainError("private_link_expired", "this private link is unknown, expired or used up")
    length = duration or event_type.length_in_minutes
    if length not in event_type.lengths:
        raise DomainError(
            "invalid_event_length", f"duration must be one of {event_type.lengths}", {"allowed": event_type.lengths}
        )
    if not event_type.host_ids:
        return {}

    # One concurrent round (none when read ahead): hosts and busy time, booking-limit counters, seated bookings.
    remember(event_type)
    reads = plan_slot_reads(event_type, from_min, to_min)
    answers = reads.answers(results_for(reads, ReadAhead(ahead, first[1:]) if ahead is not None else None, store,
                                        gather))
    hosts = with_calendar_busy(assemble_hosts(event_type.host_ids, answers.hosts, int(now.timestamp())),
                               reads.from_min, reads.to_min)
    limit_keys, seated = reads.limit_keys, reads.seat_slots is not None
    counts, seat_slots = answers.limit_counts, answers.seat_slots

    try:
        bookable = bookable_hosts(event_type, hosts)
    except DomainError:
        return {}  # no bookable host: nothing can be booked, so nothing is listed
    now_min = to_minutes(now)
    rules = slot_rules(event_type, length, now_min, bookable.tz_name, first_working_hours(event_type, hosts, bookable))
    starts = set(available_slots(event_type, hosts, bookable, rules, from_min, to_min))
    remaining: dict[int, int] = {}
    if seated and event_type.seats:
        capacity = event_type.seats.seats_per_time_slot
        remaining = {start: capacity for start in starts}
        for slot in seat_slots:
            if slot.remaining > 0 and rules.in_bounds(slot.start_min) and from_min <= slot.start_min < to_min:
                starts.add(slot.start_min)
                remaining[slot.start_min] = slot.remaining
            else:
                starts.discard(slot.start_min)
        joinable = {slot.start_min for slot in seat_slots if slot.remaining > 0}
    else:
        joinable = set()
    out: dict[str, list[dict[str, Any]]] = {}
    for minute in sorted(starts):
        if limit_keys and minute not in joinable and within_limits(event_type, counts, minute, length, bookable.tz_name):
            continue  # this day/week/month/year is full
        slot: dict[str, Any] = {"start": iso_local(minute, tz)}
        if seated:
            slot["seatsRemaining"] = remaining[minute]
        out.setdefault(local_date(minute, tz).isoformat(), []).append(slot)
    return out
