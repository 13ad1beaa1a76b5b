"""Seats of a seated booking, and what each party may see of them.

A seat holder sees their own seat in full (their guests, metadata, booking-field answers, phone number); other
attendees only by name, email, time zone and language, and only when the type sets showAttendeeInfo. The host (the
admin key) sees every attendee. The booking record itself carries no attendee's private data: each seat keeps its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from booking_core.domain.bookings import Attendee, BookingRecord


@dataclass(frozen=True, slots=True)
class Seat:
    seat_uid: str
    booking_uid: str
    attendee: Attendee
    created_at: str
    guests: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    booking_fields_responses: dict[str, Any] = field(default_factory=dict)


def _public_attendee(attendee: Attendee) -> Attendee:
    """Another attendee as a seat holder may see them: no phone number."""
    return attendee.model_copy(update={"phone_number": None})


def seated_view(record: BookingRecord, seats: list[Seat], seat: Seat | None, taken: int) -> BookingRecord:
    """A seated booking as one attendee (`seat`) sees it, or as a stranger sees it (`seat` None)."""
    view = record.model_copy(deep=True)
    own = seat.seat_uid if seat else None
    shown = [_public_attendee(s.attendee) for s in seats if s.seat_uid != own] if record.show_attendee_info else []
    if seat is not None:
        shown.insert(0, seat.attendee)
    view.attendees = shown
    view.guests = list(seat.guests) if seat else []
    view.metadata = dict(seat.metadata) if seat else {}
    view.booking_fields_responses = dict(seat.booking_fields_responses) if seat else {}
    view.seat_uid = seat.seat_uid if seat else None
    view.seats_remaining = max((record.seats_capacity or 0) - taken, 0)
    return view


def host_view(record: BookingRecord, seats: list[Seat]) -> BookingRecord:
    """A seated booking as its host sees it: every attendee, in full; the seats' guests together."""
    view = record.model_copy(deep=True)
    view.attendees = [s.attendee for s in seats]
    view.guests = list(dict.fromkeys(guest for s in seats for guest in s.guests))
    view.seats_remaining = max((record.seats_capacity or 0) - len(seats), 0)
    return view
