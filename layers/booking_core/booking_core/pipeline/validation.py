"""Validation phases that need no I/O: the request on its own, then the request against what enrichment found."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from booking_core.domain.abuse import RateWindow
from booking_core.domain.access import lookup_keys, strongest
from booking_core.domain.booking_fields import check_responses
from booking_core.domain.bookings import CreateBookingInput, is_active
from booking_core.domain.common import normalize_email
from booking_core.errors import DomainError, invalid
from booking_core.pipeline.context import BookingRequest, EnrichedBooking, Rescheduling
from booking_core.timeutil import to_minutes


def validate(
    data: CreateBookingInput,
    now: datetime,
    signed_in_email: str | None = None,
    rescheduling: Rescheduling | None = None,
    email_window: RateWindow | None = None,
    holding: bool = False,
) -> BookingRequest:
    """Schema validation happened at the edge (pydantic, phonenumbers); here: a start in the past is refused
    before any other time rule. `holding`: the check of a slot reservation (no attendee yet)."""
    if data.start < now:
        raise DomainError("booking_in_past", "the requested start is in the past")
    return BookingRequest(
        input=data,
        now=now,
        start_min=to_minutes(data.start),
        now_min=to_minutes(now),
        signed_in_email=signed_in_email,
        rescheduling=rescheduling,
        email_window=email_window,
        holding=holding,
    )


def check_enriched(enriched: EnrichedBooking) -> None:
    """Rules that need the event type and the request's own lookups but no host data: fail fast before
    availability is loaded."""
    event_type = enriched.event_type
    request = enriched.request
    data = request.input
    if enriched.is_rescheduling:
        _check_reschedule(enriched)
    if not event_type.host_ids:
        raise DomainError("event_type_no_hosts", "this event type has no bookable host")
    if enriched.is_holding and event_type.seats is not None:
        raise invalid("eventTypeId", "seats of a seated event type are taken one by one and cannot be reserved")
    if event_type.seats is not None and event_type.recurrence is not None:
        raise DomainError("recurring_event_seats_error", "seated event types cannot be recurring")
    if data.recurrence_count is not None:
        if event_type.recurrence is None:
            raise invalid("recurrenceCount", "this event type is not recurring")
        if data.recurrence_count > event_type.recurrence.occurrences:
            raise invalid("recurrenceCount", f"at most {event_type.recurrence.occurrences} occurrences")
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
    if event_type.disable_guests and data.guests and not enriched.is_rescheduling:
        raise invalid("guests", "this event type does not accept guests")
    if not enriched.is_holding:
        _check_booker(enriched)
        _check_reservation(enriched)
    if not enriched.is_rescheduling:
        _check_private_link(enriched)
    if data.routing is not None and enriched.routing_response is None:
        raise DomainError(
            "routing_form_response_not_found", f"routing form response {data.routing.response_id} not found"
        )


def _check_reschedule(enriched: EnrichedBooking) -> None:
    rescheduling = enriched.request.rescheduling
    assert rescheduling is not None
    original = rescheduling.original
    if rescheduling.released_already:
        if original.rescheduled_to_uid is not None:
            raise DomainError("cancelled_bookings_cannot_be_rescheduled", "this booking was rescheduled already")
        return  # the host asked for another time: their request, not the booker's notice, decides
    if not is_active(original.status):
        raise DomainError("cancelled_bookings_cannot_be_rescheduled", "this booking is no longer active")
    notice = enriched.event_type.minimum_reschedule_notice
    original_start = to_minutes(original.start)
    if notice and original_start - enriched.request.now_min < notice:
        raise DomainError(
            "reschedule_notice_too_short",
            f"bookings starting within {notice} minutes cannot be rescheduled",
        )


def _check_reservation(enriched: EnrichedBooking) -> None:
    """A booking that passes a live reservation books exactly its slot (an unknown or expired one counts for
    nothing: the booking takes its chances like any other)."""
    reservation = enriched.reservation
    if reservation is None:
        return
    if to_minutes(reservation.slot_start) != enriched.request.start_min or reservation.length != enriched.length:
        raise invalid("reservationUid", "this reservation holds another slot: book its slotStart and length, or "
                                        "book without it")


def _check_booker(enriched: EnrichedBooking) -> None:
    """Blocklist on the booker: `block` refuses; `requireLogin` needs a verified JWT for that very address."""
    booker = enriched.request.input.attendee.email
    wanted = set(lookup_keys(booker))
    entries = [entry for entry in enriched.blocklist if (entry.type, entry.value) in wanted]
    action = strongest(entries)
    if action == "block":
        raise DomainError("booker_email_blocked", "this email address cannot book")
    if action == "requireLogin":
        signed_in = enriched.request.signed_in_email
        if signed_in is None or normalize_email(signed_in) != normalize_email(booker):
            raise DomainError("booker_email_requires_login", "sign in as this email address to book")


def _check_private_link(enriched: EnrichedBooking) -> None:
    """A hidden type is bookable only through a valid link; a link that is given must be valid too."""
    given = enriched.request.input.private_link
    link = enriched.private_link
    if enriched.event_type.hidden or given:
        if link is None or link.is_expired(enriched.request.now):
            raise DomainError("private_link_expired", "this private link is unknown, expired or used up")


def answer_booking_fields(enriched: EnrichedBooking) -> EnrichedBooking:
    """The answers to the event type's booking fields, checked and normalised, every problem listed in one 400. A
    type without fields takes any answers (within the body's bounds); a reschedule keeps the answers it was booked
    with, even if the type's questions changed since."""
    fields = enriched.event_type.booking_fields
    if not fields or enriched.is_rescheduling:
        return enriched
    answers, problems = check_responses(fields, enriched.request.input.booking_fields_responses)
    if problems:
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:3])
        raise DomainError("request_body_invalid_error", summary, {"errors": problems})
    return replace(enriched, responses=answers)
