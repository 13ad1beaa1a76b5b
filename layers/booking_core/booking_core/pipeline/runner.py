"""Runs the phases in order, times each one, and turns a repeated request into the existing booking."""

from __future__ import annotations

from datetime import datetime

from booking_core.domain.bookings import CreateBookingInput, is_active
from booking_core.errors import DomainError
from booking_core.observability import count, logger, mask_email, phase_timer
from booking_core.pipeline.availability import load_availability
from booking_core.pipeline.context import CreatedBooking, EnrichedBooking
from booking_core.pipeline.creation import create_single_seat
from booking_core.pipeline.enrichment import enrich
from booking_core.pipeline.post_validation import validate_availability
from booking_core.pipeline.validation import check_enriched, validate
from booking_core.ports import BookingStore, DuplicateBooking


def create_booking(
    data: CreateBookingInput, store: BookingStore, now: datetime, signed_in_email: str | None = None
) -> CreatedBooking:
    try:
        outcome = _run(data, store, now, signed_in_email)
    except DomainError as error:
        count("BookingFailed", code=error.code)
        logger.info("booking refused", extra={"code": error.code, "event_type_id": data.event_type_id})
        raise
    if outcome.created and not data.is_dry_run:
        count("BookingsCreated")
        logger.info(
            "booking created",
            extra={
                "booking_uid": outcome.booking.uid,
                "event_type_id": data.event_type_id,
                "attendee": mask_email(data.attendee.email),
                "status": outcome.booking.status,
            },
        )
    return outcome


def _run(data: CreateBookingInput, store: BookingStore, now: datetime, signed_in_email: str | None) -> CreatedBooking:
    with phase_timer("validation"):
        request = validate(data, now, signed_in_email)
    with phase_timer("enrichment"):
        enriched = enrich(request, store)
    with phase_timer("enriched_validation"):
        check_enriched(enriched)
        existing = _existing(enriched, store)
        if existing is not None:
            return existing
    with phase_timer("availability_loading"):
        loaded = load_availability(enriched, store)
    with phase_timer("post_enrichment_validation"):
        validated = validate_availability(loaded)
    with phase_timer("creation"):
        try:
            return create_single_seat(validated, store, now)
        except DuplicateBooking:
            # The same attendee's other request won the race: answer with that booking.
            again = store.fetch_request_data(enriched.event_type.id, enriched.duplicate_key)
            found = _existing_uid(again.duplicate_uid, enriched, store)
            if found is None:
                raise
            return found


def _existing(enriched: EnrichedBooking, store: BookingStore) -> CreatedBooking | None:
    return _existing_uid(enriched.duplicate_uid, enriched, store)


def _existing_uid(uid: str | None, enriched: EnrichedBooking, store: BookingStore) -> CreatedBooking | None:
    """The attendee's active booking of this type at this start, if the duplicate guard points at one."""
    if uid is None:
        return None
    booking = store.get_booking(uid)
    if booking is None or not is_active(booking.status):
        return None
    return CreatedBooking(booking=booking, created=False)
