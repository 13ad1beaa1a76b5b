"""Slot reservations (`/v2/slots/reservations`): hold a slot while the booker fills in the form.

- Create: the booking pipeline's checks without an attendee (`check_slot`), so a reservation is made exactly when a
  booking of the slot would succeed now, and refused with the error that booking would get. Then ONE transaction
  takes the slot's locks (conditional like a booking's: free, or held by a reservation that has expired) and writes
  the holds the availability reads and the reservation itself. Two racing reservations: one transaction wins.
- Move / extend (PATCH): the same checks for the new start with the reservation's own holds ignored, then one
  transaction that re-takes what it keeps, takes what is new and lets go of the rest.
- Cancel (DELETE): one transaction that lets go of everything it holds.
- Expiry needs no write: holds and locks count until `reservationUntil` and for nothing afterwards.

The uid is the capability (128 random bits): whoever holds it may read, move, cancel and book with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from booking_core.concurrency import gather
from booking_core.domain.bookings import AttendeeInput, CreateBookingInput
from booking_core.domain.reservations import Hold, Reservation, ReservationInput, ReservationPatch, held_until
from booking_core.errors import not_found
from booking_core.observability import count, logger, mask_uid
from booking_core.pipeline.context import ValidatedBooking
from booking_core.pipeline.creation import first_free, lock_keys, new_uid, reservation_changed
from booking_core.pipeline.runner import check_slot
from booking_core.ports import BookingStore, BookingWrite, ReservationRelease, ReservationWrite, StaleReservation
from booking_core.timeutil import from_minutes

# The pipeline's checks need an attendee; a reservation has none yet (the booker rules apply when they book).
_SLOT_HOLDER = {"name": "Slot reservation", "email": "slot-holder@reservation.invalid", "timeZone": "UTC"}


def _check(store: BookingStore, event_type_id: int, start: datetime, length: int | None, private_link: str | None,
           now: datetime, admit: Callable[[], None] | None = None, own: str | None = None) -> ValidatedBooking:
    data = CreateBookingInput(start=start, event_type_id=event_type_id,
                              attendee=AttendeeInput.model_validate(_SLOT_HOLDER), length_in_minutes=length,
                              private_link=private_link, reservation_uid=own)
    return check_slot(data, store, now, admit)


def _holding(validated: ValidatedBooking, uid: str, round_robin_host: int | None, minutes: int, now: datetime,
             created_at: datetime, private_link: str | None) -> Reservation:
    """What a booking of the slot would hold, for the hosts it would get: every occurrence's locks and intervals."""
    enriched = validated.loaded.enriched
    hosts = validated.hosts_for(round_robin_host)
    locks: list[tuple[int, int]] = []
    holds: list[Hold] = []
    for start in validated.starts:
        held = validated.rules.held(start)
        locks += lock_keys(hosts, held, validated.rules.bucket)
        holds += [Hold(host_id=host, start_min=start, end_min=start + enriched.length, busy_start_min=held[0],
                       busy_end_min=held[1]) for host in hosts]
    first = validated.starts[0]
    return Reservation(uid=uid, event_type_id=enriched.event_type.id, slot_start=from_minutes(first),
                       slot_end=from_minutes(first + enriched.length), reservation_duration=minutes,
                       reservation_until=held_until(now, minutes), created_at=created_at, private_link=private_link,
                       host_ids=hosts, lock_keys=locks, holds=holds)


def reserve(store: BookingStore, data: ReservationInput, now: datetime,
            admit: Callable[[], None] | None = None) -> dict[str, Any]:
    """201: the slot is held; else the error a booking of the slot would get now."""
    validated = _check(store, data.event_type_id, data.slot_start, data.slot_duration, data.private_link, now, admit)
    uid = new_uid()

    def attempt(round_robin_host: int | None) -> tuple[Reservation, BookingWrite]:
        reservation = _holding(validated, uid, round_robin_host, data.reservation_duration, now, now,
                               data.private_link)
        return reservation, BookingWrite(reservations=[ReservationWrite(reservation)], now=now)

    reservation = first_free(validated, store, attempt)
    count("SlotsReserved")
    logger.info("slot reserved", extra={"reservation_uid": mask_uid(uid), "event_type_id": data.event_type_id,
                                        "minutes": data.reservation_duration})
    return reservation.public()


def _live(store: BookingStore, uid: str, now: datetime, admit: Callable[[], None] | None = None) -> Reservation:
    found, *_ = gather([lambda: store.get_reservation(uid), *([admit] if admit else [])])
    if found is None or not found.is_live(now):
        raise not_found("not_found_error", "reservation (unknown or expired)")
    return found


def get(store: BookingStore, uid: str, now: datetime) -> dict[str, Any]:
    return _live(store, uid, now).public()


def move(store: BookingStore, uid: str, patch: ReservationPatch, now: datetime,
         admit: Callable[[], None] | None = None) -> dict[str, Any]:
    """A new start and/or a new duration (counted from now), checked as a booking of the new slot would be."""
    current = _live(store, uid, now, admit)
    start = patch.slot_start or current.slot_start
    minutes = patch.reservation_duration or current.reservation_duration
    validated = _check(store, current.event_type_id, start, current.length, current.private_link, now, own=uid)
    seen = validated.loaded.enriched.reservation
    if seen is None or seen.version != current.version:
        raise reservation_changed()

    def attempt(round_robin_host: int | None) -> tuple[Reservation, BookingWrite]:
        moved = _holding(validated, uid, round_robin_host, minutes, now, current.created_at, current.private_link)
        return moved, BookingWrite(reservations=[ReservationWrite(moved, expected_version=current.version)],
                                   released_reservations=[ReservationRelease(current, current.version,
                                                                             keep_item=True)], now=now)

    moved = first_free(validated, store, attempt)
    logger.info("slot reservation moved", extra={"reservation_uid": mask_uid(uid), "minutes": minutes})
    return moved.public()


def cancel(store: BookingStore, uid: str, now: datetime, admit: Callable[[], None] | None = None) -> None:
    current = _live(store, uid, now, admit)
    try:
        store.write(BookingWrite(released_reservations=[ReservationRelease(current, current.version)], now=now))
    except StaleReservation as exc:
        raise reservation_changed() from exc
    logger.info("slot reservation cancelled", extra={"reservation_uid": mask_uid(uid)})
