"""Reading bookings for the booker API."""

from __future__ import annotations

import re
from typing import Any

from booking_core.concurrency import gather
from booking_core.domain.seats import host_view, seated_view
from booking_core.errors import not_found
from booking_core.ports import BookingListing, BookingStore


_SERIES_UID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def get_booking(store: BookingStore, uid: str, seat_uid: str | None = None, admin: bool = False,
                listing: BookingListing | None = None) -> dict[str, Any] | list[dict[str, Any]]:
    """A booking by uid. For a seated booking: the caller's own seat (`seatUid`), other attendees' names only with
    showAttendeeInfo, every attendee in full only with the admin key; and the seats remaining. A recurring series'
    uid (recurringBookingUid) answers with the array of its bookings by start."""
    record, seats = gather([lambda: store.get_booking(uid), lambda: store.seats(uid)])
    if record is None and listing is not None and not seat_uid and _SERIES_UID.match(uid):
        series = listing.series(uid)
        if series:
            return [occurrence.public() for occurrence in series]
    if record is None:
        raise not_found("booking_not_found_error", "booking")
    if not record.is_seated:
        return record.public()
    if admin and not seat_uid:
        return host_view(record, seats).public()
    seat = next((s for s in seats if s.seat_uid == seat_uid), None) if seat_uid else None
    if seat_uid and seat is None:
        raise not_found("booking_not_found_error", "seat")
    return seated_view(record, seats, seat, taken=len(seats)).public()
