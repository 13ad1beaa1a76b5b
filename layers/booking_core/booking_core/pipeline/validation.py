"""Validation phases that need no I/O: the request on its own, then the request against its event type."""

from __future__ import annotations

from datetime import datetime

from booking_core.domain.bookings import CreateBookingInput
from booking_core.errors import DomainError, invalid
from booking_core.pipeline.context import BookingRequest, EnrichedBooking
from booking_core.timeutil import to_minutes


def validate(data: CreateBookingInput, now: datetime, signed_in_email: str | None = None) -> BookingRequest:
    """Schema validation happened at the edge (pydantic, phonenumbers); here: a start in the past is refused
    before any other time rule."""
    if data.start < now:
        raise DomainError("booking_in_past", "the requested start is in the past")
    return BookingRequest(
        input=data,
        now=now,
        start_min=to_minutes(data.start),
        now_min=to_minutes(now),
        signed_in_email=signed_in_email,
    )


def check_enriched(enriched: EnrichedBooking) -> None:
    """Rules that need the event type but no host data: fail fast before availability is loaded."""
    event_type = enriched.event_type
    request = enriched.request
    if not event_type.host_ids:
        raise DomainError("event_type_no_hosts", "this event type has no bookable host")
    if event_type.seats is not None and event_type.recurrence is not None:
        raise DomainError("recurring_event_seats_error", "seated event types cannot be recurring")
    if enriched.length not in event_type.lengths:
        raise DomainError(
            "invalid_event_length",
            f"lengthInMinutes must be one of {event_type.lengths}",
            {"allowed": event_type.lengths},
        )
    if request.start_min < request.now_min + event_type.minimum_booking_notice:
        raise DomainError(
            "booking_time_out_of_bounds_error",
            f"bookings need at least {event_type.minimum_booking_notice} minutes notice",
        )
    if event_type.disable_guests and request.input.guests:
        raise invalid("guests", "this event type does not accept guests")
