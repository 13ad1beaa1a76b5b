"""Runs the phases in order, times each one, and chooses the creation handler.

    validate -> enrich -> check_enriched -> load_availability -> validate_availability -> create
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from contextlib import contextmanager
from functools import partial
from datetime import datetime

from booking_core.concurrency import gather
from booking_core.conferencing import APPS
from booking_core.domain.bookings import AttendeeInput, CreateBookingInput, RescheduleInput, is_active
from booking_core.domain.abuse import RateWindow, too_many
from booking_core.errors import DomainError, invalid, not_found
from booking_core.observability import count, logger, mask_email, mask_uid, phase_timer
from booking_core.pipeline.availability import load_availability
from booking_core.pipeline.context import CreatedBooking, EnrichedBooking, Rescheduling, ValidatedBooking
from booking_core.pipeline.creation import (
    create_single_seat,
    join_seat,
    open_seat,
    reschedule_seat,
    reschedule_single_seat,
    reservation_changed,
)
from booking_core.pipeline.enrichment import enrich
from booking_core.pipeline.post_validation import validate_availability
from booking_core.pipeline.validation import answer_booking_fields, check_enriched, validate
from booking_core.ports import (
    AlreadySeated,
    BookingStore,
    DuplicateBooking,
    RequestKeys,
    SeatsFull,
    SeatSlot,
    SeatSlotOpened,
    RateLimited,
    SlotTaken,
    StaleReservation,
    TransactionTooLarge,
    WriteContention,
)
from booking_core.services.retry import at_most_once, booking_change
from booking_core.timeutil import to_minutes

_SEAT_ATTEMPTS = 3


@contextmanager
def _outcome(action: str, event_type_id: int | None, email: str | None) -> Iterator[Callable[[CreatedBooking], None]]:
    """Count and log the outcome of a booking action (no full email addresses in logs)."""

    def done(outcome: CreatedBooking) -> None:
        if outcome.created and not outcome.booking.is_dry_run:
            count("BookingsCreated", len(outcome.bookings), action=action)
            logger.info(
                f"booking {action}",
                extra={"booking_uid": mask_uid(outcome.booking.uid), "event_type_id": event_type_id,
                       "attendee": mask_email(email), "status": outcome.booking.status,
                       "occurrences": len(outcome.bookings)},
            )

    try:
        yield done
    except DomainError as error:
        count("BookingFailed", code=error.code)
        logger.info("booking refused", extra={"code": error.code, "action": action, "event_type_id": event_type_id})
        raise


def create_booking(
    data: CreateBookingInput,
    store: BookingStore,
    now: datetime,
    signed_in_email: str | None = None,
    admit: Callable[[], None] | None = None,
    email_window: RateWindow | None = None,
) -> CreatedBooking:
    """Book. `admit` is the request's per-IP abuse check (run beside the first reads), `email_window` the per-email
    window the new booking counts in (written in its transaction); both refuse with 429 and write nothing."""
    with _outcome("created", data.event_type_id, data.attendee.email) as done:
        try:
            outcome = _create(data, store, now, signed_in_email, at_most_once(admit), email_window)
        except RateLimited as limited:
            raise too_many(limited.window, now) from None
        done(outcome)
        return outcome


def _create(data: CreateBookingInput, store: BookingStore, now: datetime, signed_in_email: str | None,
            admit: Callable[[], None] | None, email_window: RateWindow | None) -> CreatedBooking:
    for _ in range(_SEAT_ATTEMPTS):
        with phase_timer("validation"):
            request = validate(data, now, signed_in_email, email_window=email_window)
        with phase_timer("enrichment"):
            enriched = enrich(request, store, data.event_type_id, admit)
        with phase_timer("enriched_validation"):
            check_enriched(enriched)
            enriched = answer_booking_fields(enriched)
            existing = _existing(enriched.duplicate_uid, store)
            if existing is not None:
                return existing
        if enriched.joins_seat:
            return _join(enriched, store, now)
        try:
            with phase_timer("availability_loading"):
                loaded = load_availability(enriched, store)
            with phase_timer("post_enrichment_validation"):
                validated = validate_availability(loaded)
            with phase_timer("creation"):
                if enriched.is_seated:
                    return _seat_errors(partial(open_seat, validated, store, now))
                return create_single_seat(validated, store, now)
        except SeatSlotOpened:
            continue  # another attendee opened this seated booking first: join it
        except DomainError as error:
            if enriched.is_seated and error.status == 409 and _seat_slot_opened(store, data, request.start_min):
                continue  # the host became busy because this very seated booking was opened meanwhile
            raise
        except DuplicateBooking:
            # The same attendee's other request won the race: answer with that booking.
            again = store.fetch_request_data(RequestKeys(data.event_type_id, duplicate_key=enriched.duplicate_key))
            found = _existing(again.duplicate_uid, store)
            if found is None:
                raise DomainError("no_available_users_found_error", "the slot was booked meanwhile") from None
            return found
        except WriteContention as exc:
            raise DomainError("conflict_error", "too many simultaneous bookings of this slot; try again") from exc
    raise DomainError("conflict_error", "the seated booking kept changing; try again")


def _seat_slot_opened(store: BookingStore, data: CreateBookingInput, start_min: int) -> bool:
    keys = RequestKeys(data.event_type_id, seat_start_min=start_min)
    return store.fetch_request_data(keys).seat_slot is not None


def _existing(uid: str | None, store: BookingStore) -> CreatedBooking | None:
    """The attendee's active booking of this type at this start, if the duplicate guard points at one."""
    if uid is None:
        return None
    booking = store.get_booking(uid)
    if booking is None or not is_active(booking.status):
        return None
    return CreatedBooking(bookings=[booking], created=False)


def _join(enriched: EnrichedBooking, store: BookingStore, now: datetime) -> CreatedBooking:
    slot = enriched.seat_slot
    assert slot is not None and enriched.event_type.seats is not None
    email = enriched.request.input.attendee.email
    calls: list[Callable[[], Any]] = [lambda: store.get_booking(slot.booking_uid),
                                      lambda: store.holds_seat(slot.booking_uid, email)]
    if enriched.event_type.seats.show_attendee_info:
        calls.append(lambda: store.seats(slot.booking_uid))
    record, seated, *rest = gather(calls)
    if record is None or not is_active(record.status):
        raise DomainError("no_available_users_found_error", "this seated booking is no longer available")
    if seated:
        raise DomainError("already_signed_up_for_this_booking_error", "this email already holds a seat in this booking")
    if slot.remaining == 0:
        raise DomainError("booking_seats_full_error", "every seat of this booking is taken")
    others = rest[0] if rest else []
    with phase_timer("creation"):
        return _seat_errors(lambda: join_seat(enriched, record, slot, others, store, now))


def _seat_errors(action: Callable[[], CreatedBooking]) -> CreatedBooking:
    try:
        return action()
    except SeatsFull as exc:
        raise DomainError("booking_seats_full_error", "every seat of this booking is taken") from exc
    except AlreadySeated as exc:
        raise DomainError(
            "already_signed_up_for_this_booking_error", "this email already holds a seat in this booking"
        ) from exc
    except DuplicateBooking as exc:
        raise DomainError("no_available_users_found_error", "you already hold a booking at that time") from exc
    except SlotTaken as exc:
        raise DomainError("no_available_users_found_error", "the slot was booked meanwhile") from exc
    except StaleReservation as exc:
        raise reservation_changed() from exc
    except WriteContention as exc:
        raise DomainError("conflict_error", "too many simultaneous changes; try again") from exc
    except TransactionTooLarge as exc:
        raise invalid("start", "this booking is too long to move in one step: cancel it and book the new time") from exc


def check_slot(data: CreateBookingInput, store: BookingStore, now: datetime,
               admit: Callable[[], None] | None = None) -> ValidatedBooking:
    """The booking pipeline up to its last check, for a slot reservation: the slot is bookable right now exactly when
    this passes (no attendee yet, so the booker's own rules wait for the booking). `data.reservation_uid` names the
    caller's own reservation when it is being moved: its holds do not block it."""
    with phase_timer("validation"):
        request = validate(data, now, holding=True)
    with phase_timer("enrichment"):
        enriched = enrich(request, store, data.event_type_id, admit)
    with phase_timer("enriched_validation"):
        check_enriched(enriched)
    with phase_timer("availability_loading"):
        loaded = load_availability(enriched, store)
    with phase_timer("post_enrichment_validation"):
        return validate_availability(loaded)


def reschedule_booking(
    uid: str,
    data: RescheduleInput,
    store: BookingStore,
    now: datetime,
    signed_in_email: str | None = None,
    admit: Callable[[], None] | None = None,
) -> CreatedBooking:
    """The reschedule flows: the original's attendee books the new start through the same phases. `admit` (the
    per-IP abuse check) runs beside the first read.

    When the original was written by someone else between its read and the move's transaction (a subscriber
    recording the calendar event or meeting it made for it, which happens right after every booking), the move is
    read and decided again from the start (services/retry.py `booking_change`), then 409 conflict_error."""
    return _reschedule(uid, data, store, now, signed_in_email, at_most_once(admit))


@booking_change
def _reschedule(uid: str, data: RescheduleInput, store: BookingStore, now: datetime, signed_in_email: str | None,
                admit: Callable[[], None] | None) -> CreatedBooking:
    original, seats, *_ = gather([lambda: store.get_booking(uid), lambda: store.seats(uid), *([admit] if admit else [])])
    if original is None:
        raise not_found("booking_not_found_error", f"booking {uid}")
    seat = slot = None
    if original.is_seated:
        if not data.seat_uid:
            raise invalid("seatUid", "a seated booking is rescheduled one seat at a time: give your seatUid")
        seat = next((s for s in seats if s.seat_uid == data.seat_uid), None)
        if seat is None:
            raise not_found("booking_not_found_error", f"seat {data.seat_uid} of booking {uid}")
        slot = SeatSlot(original.event_type_id, to_minutes(original.start), original.uid, taken=len(seats),
                        capacity=original.seats_capacity or 1)
    elif data.seat_uid:
        raise invalid("seatUid", "this booking has no seats")
    attendee = seat.attendee if seat else original.attendees[0]
    own = seat if seat else original  # a seat moves with its own guests, metadata and answers
    request_input = CreateBookingInput(
        start=data.start,
        event_type_id=original.event_type_id,
        attendee=AttendeeInput(name=attendee.name, email=attendee.email, time_zone=attendee.time_zone,
                               language=attendee.language, phone_number=attendee.phone_number),
        guests=own.guests,
        length_in_minutes=original.duration,
        # a meeting app's meeting went with a booking the host sent back: the type's location makes a new one
        location=None if original.reschedule_requested and original.meeting_app in APPS else original.location,
        metadata=own.metadata,
        booking_fields_responses=own.booking_fields_responses,
    )
    rescheduling = Rescheduling(original=original, seat=seat, seat_slot=slot,
                                rescheduled_by=data.rescheduled_by, reason=data.rescheduling_reason)
    with _outcome("rescheduled", original.event_type_id, attendee.email) as done:
        with phase_timer("validation"):
            request = validate(request_input, now, signed_in_email, rescheduling)
        with phase_timer("enrichment"):
            enriched = enrich(request, store, original.event_type_id)
        with phase_timer("enriched_validation"):
            check_enriched(enriched)
        if original.is_seated and enriched.seat_slot is not None:
            if enriched.seat_slot.booking_uid == original.uid:
                raise invalid("start", "this seat is already at that time")
            target = store.get_booking(enriched.seat_slot.booking_uid)
            outcome = _seat_errors(lambda: reschedule_seat(None, enriched, target, store, now))
            done(outcome)
            return outcome
        with phase_timer("availability_loading"):
            loaded = load_availability(enriched, store)
        with phase_timer("post_enrichment_validation"):
            validated = validate_availability(loaded)
        with phase_timer("creation"):
            if original.is_seated:
                outcome = _seat_errors(lambda: reschedule_seat(validated, enriched, None, store, now))
            else:
                outcome = _seat_errors(lambda: reschedule_single_seat(validated, store, now))
        done(outcome)
        return outcome
