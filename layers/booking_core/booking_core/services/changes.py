"""Booking changes after creation: cancel (one booking, one seat, or a recurring series from one occurrence on),
the host's request to reschedule, host confirm / decline, payment completed. Each is one transaction that also writes
its events to the outbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from booking_core.concurrency import gather
from booking_core.domain.bookings import BookingRecord, CancelInput, RequestRescheduleInput, is_active
from booking_core.errors import DomainError, not_found
from booking_core.events.contracts import EventContext, new_event
from booking_core.observability import count, logger, mask_uid
from booking_core.domain.seats import host_view, seated_view
from booking_core.ports import (
    BookingListing,
    BookingStore,
    BookingWrite,
    LimitDelta,
    PaymentAlreadySettled,
    Release,
    RoundRobinIncrement,
    SeatLeave,
    SeatSlot,
    StatusChange,
    TransactionTooLarge,
    WriteContention,
)
from booking_core.repositories.keys import booker_key_of
from booking_core.services.retry import at_most_once, booking_change
from booking_core.timeutil import to_minutes


def _commit(store: BookingStore, plan: BookingWrite, what: str) -> None:
    """The change's transaction. StaleBooking (the booking was written since it was read) goes up to
    `booking_change` (services/retry.py), which reads and decides the change anew."""
    try:
        store.write(plan)
    except WriteContention as exc:
        raise DomainError("conflict_error", f"the booking changed while it was being {what}; try again") from exc
    except TransactionTooLarge as exc:
        raise DomainError("request_body_invalid_error", f"this change needs more than one transaction holds: make it "
                          "in smaller steps", {"errors": [{"field": "body", "message": str(exc)}]}) from exc
    count("BookingChanges", action=what)



def _undo_round_robin(record: BookingRecord, plan: BookingWrite) -> None:
    if record.round_robin_key:
        plan.round_robin.append(RoundRobinIncrement(*record.round_robin_key, delta=-1))


def cancel(store: BookingStore, uid: str, data: CancelInput, now: datetime, by_host: bool = False,
           admit: Callable[[], None] | None = None,
           listing: BookingListing | None = None) -> dict[str, Any] | list[dict[str, Any]]:
    """Cancel a booking (its slot is free at once) or, with seatUid, only that seat. Cancelling every seat of a
    seated booking is the host's decision (`by_host`: the admin key), never one seat holder's. With
    cancelSubsequentBookings an occurrence of a recurring series is cancelled with every later one (`listing` reads
    the series), answered with the array of them. `admit` (the per-IP abuse check) runs beside the first read, once
    however often the cancel is decided again (services/retry.py `booking_change`)."""
    return _cancel(store, uid, data, now, by_host, at_most_once(admit), listing)


@booking_change
def _cancel(store: BookingStore, uid: str, data: CancelInput, now: datetime, by_host: bool,
            admit: Callable[[], None] | None,
            listing: BookingListing | None) -> dict[str, Any] | list[dict[str, Any]]:
    record, seats, *_ = gather([lambda: store.get_booking(uid), lambda: store.seats(uid), *([admit] if admit else [])])
    if record is None:
        raise not_found("booking_not_found_error", "booking")
    if data.seat_uid:
        return _cancel_seat(store, record, seats, data, now)
    if record.is_seated and not by_host:
        raise DomainError("forbidden_error", "a seat holder cancels their own seat (seatUid); only the host cancels "
                                             "the whole booking")
    if data.cancel_subsequent_bookings and record.recurring_booking_uid and listing is not None:
        return _cancel_series(store, listing, record, data, now, by_host)
    if not is_active(record.status):
        return (host_view(record, seats) if record.is_seated else record).public()  # nothing changes, no event
    updated = record.model_copy(deep=True)
    updated.status, updated.cancellation_reason, updated.updated_at = "cancelled", data.cancellation_reason, now
    updated.ical_sequence += 1
    release = Release.of(record, updated, booker_key_of(record))
    seen = updated  # what the event and the answer show: for a seated booking, the host's view of every seat
    if record.is_seated:
        release.seat_slot = SeatSlot(record.event_type_id, to_minutes(record.start), record.uid, len(seats),
                                     record.seats_capacity or 1)
        seen = host_view(updated, seats)
    plan = BookingWrite(releases=[release], limits=limit_deltas_for_release(record),
                        events=[new_event("bookingCancelled", seen, occurred_at=now,
                                          context=EventContext(triggered_by="host" if by_host else "booker"))])
    _undo_round_robin(record, plan)
    _commit(store, plan, "cancelled")
    logger.info("booking cancelled", extra={"booking_uid": mask_uid(uid)})
    return seen.public()


def limit_deltas_for_release(record: BookingRecord) -> list[LimitDelta]:
    """Booking-limit counters give back this booking's place."""
    return [LimitDelta(key, -1, -record.duration) for key in record.limit_keys]


def _cancel_series(store: BookingStore, listing: BookingListing, record: BookingRecord, data: CancelInput,
                   now: datetime, by_host: bool) -> list[dict[str, Any]]:
    """This occurrence and every later accepted or pending one of its series, in one transaction with one
    bookingCancelled each. A series has at most 24 occurrences, and its creation wrote all of them with their locks
    in one transaction, so cancelling part of it fits one too (what does not fit is refused, nothing written)."""
    assert record.recurring_booking_uid is not None
    found = {o.uid: o for o in listing.series(record.recurring_booking_uid, from_min=to_minutes(record.start),
                                              active_only=True) if o.start >= record.start}
    found.pop(record.uid, None)
    targets = sorted([*([record] if is_active(record.status) else []), *found.values()], key=lambda o: o.start)
    if not targets:
        return [record.public()]
    plan = BookingWrite()
    counters: dict[str, list[int]] = {}
    turns: dict[tuple[int, str, int], int] = {}
    cancelled = []
    for occurrence in targets:
        updated = occurrence.model_copy(deep=True)
        updated.status, updated.cancellation_reason, updated.updated_at = "cancelled", data.cancellation_reason, now
        updated.ical_sequence += 1
        plan.releases.append(Release.of(occurrence, updated, booker_key_of(occurrence)))
        plan.events.append(new_event("bookingCancelled", updated, occurred_at=now,
                                     context=EventContext(triggered_by="host" if by_host else "booker")))
        for delta in limit_deltas_for_release(occurrence):
            counters.setdefault(delta.key, [0, 0])
            counters[delta.key][0] += delta.count
            counters[delta.key][1] += delta.minutes
        if occurrence.round_robin_key:
            turns[occurrence.round_robin_key] = turns.get(occurrence.round_robin_key, 0) - 1
        cancelled.append(updated)
    plan.limits = [LimitDelta(key, count, minutes) for key, (count, minutes) in counters.items()]
    plan.round_robin = [RoundRobinIncrement(*key, delta=delta) for key, delta in turns.items()]
    _commit(store, plan, "cancelled")
    logger.info("series cancelled", extra={"booking_uid": mask_uid(record.uid), "occurrences": len(cancelled)})
    return [updated.public() for updated in cancelled]


@booking_change
def request_reschedule(store: BookingStore, uid: str, data: RequestRescheduleInput, now: datetime) -> dict[str, Any]:
    """The host asks the booker to pick another time: the booking is cancelled with rescheduleRequested (its slot
    is free at once) and the booker may then reschedule it, once. A repeat answers with it, unchanged."""
    record = store.get_booking(uid)
    if record is None:
        raise not_found("booking_not_found_error", "booking")
    if record.is_seated:
        raise DomainError("request_body_invalid_error", "a seated booking is rescheduled seat by seat: each attendee "
                          "moves their own seat", {"errors": [{"field": "uid", "message": "a seated booking"}]})
    if record.reschedule_requested and record.status == "cancelled":
        return record.public()
    if not is_active(record.status):
        raise DomainError("conflict_error", f"only accepted or pending bookings can be sent back to the booker "
                                            f"(this one is {record.status})")
    updated = record.model_copy(deep=True)
    updated.status, updated.cancellation_reason, updated.updated_at = "cancelled", data.reason, now
    updated.reschedule_requested = True
    updated.ical_sequence += 1
    plan = BookingWrite(releases=[Release.of(record, updated, booker_key_of(record))],
                        limits=limit_deltas_for_release(record),
                        events=[new_event("bookingCancelled", updated, occurred_at=now,
                                          context=EventContext(triggered_by="host"))])
    _undo_round_robin(record, plan)
    _commit(store, plan, "sent back for rescheduling")
    logger.info("reschedule requested", extra={"booking_uid": mask_uid(uid)})
    return updated.public()


def _cancel_seat(store: BookingStore, record: BookingRecord, seats: list, data: CancelInput, now: datetime) -> dict[str, Any]:
    seat = next((s for s in seats if s.seat_uid == data.seat_uid), None)
    if seat is None:
        raise not_found("booking_not_found_error", "seat")
    if not is_active(record.status):
        return record.public()
    closing = len(seats) == 1
    slot = SeatSlot(record.event_type_id, to_minutes(record.start), record.uid, len(seats), record.seats_capacity or 1)
    plan = BookingWrite(seat_leaves=[SeatLeave(slot=slot, seat=seat, close=closing)])
    base = record
    if closing:
        base = record.model_copy(deep=True)
        base.status, base.cancellation_reason, base.updated_at = "cancelled", data.cancellation_reason, now
        plan.releases.append(Release.of(record, base, booker_key_of(record)))
        plan.limits.extend(limit_deltas_for_release(record))
        _undo_round_robin(record, plan)
    view = seated_view(base, [s for s in seats if s is not seat], seat, taken=len(seats) - 1)
    view.status = "cancelled"  # as the leaving attendee sees it
    view.cancellation_reason = data.cancellation_reason
    plan.events.append(new_event("bookingCancelled", view, occurred_at=now,
                                 context=EventContext(seat_uid=seat.seat_uid, triggered_by="booker")))
    _commit(store, plan, "cancelled")
    return view.public()


@booking_change
def confirm(store: BookingStore, uid: str, now: datetime) -> dict[str, Any]:
    """Host accepts a pending booking: accepted + bookingConfirmed."""
    record = _pending(store, uid)
    if record.payment_required and not record.paid:
        raise DomainError("conflict_error", "this booking is awaiting payment; it can be confirmed once paid")
    updated = record.model_copy(deep=True)
    updated.status, updated.needs_confirmation, updated.updated_at = "accepted", False, now
    plan = BookingWrite(
        changes=[StatusChange.of(record, updated, booker_key_of(record))],
        events=[new_event("bookingConfirmed", updated, occurred_at=now, context=EventContext(triggered_by="host"))],
    )
    _commit(store, plan, "confirmed")
    return updated.public()


@booking_change
def decline(store: BookingStore, uid: str, reason: str | None, now: datetime) -> dict[str, Any]:
    """Host declines a pending booking: rejected + bookingRejected, slot freed."""
    record = _pending(store, uid)
    updated = record.model_copy(deep=True)
    updated.status, updated.cancellation_reason, updated.updated_at = "rejected", reason, now
    updated.ical_sequence += 1
    plan = BookingWrite(
        releases=[Release.of(record, updated, booker_key_of(record))],
        limits=limit_deltas_for_release(record),
        events=[new_event("bookingRejected", updated, occurred_at=now, context=EventContext(triggered_by="host"))],
    )
    _undo_round_robin(record, plan)
    _commit(store, plan, "declined")
    return updated.public()


def _pending(store: BookingStore, uid: str) -> BookingRecord:
    record = store.get_booking(uid)
    if record is None:
        raise not_found("booking_not_found_error", f"booking {uid}")
    if record.status != "pending":
        raise DomainError("conflict_error", f"only pending bookings can be confirmed or declined (this one is {record.status})")
    return record


@booking_change
def payment_succeeded(store: BookingStore, payment_uid: str, now: datetime) -> dict[str, Any]:
    """The provider reports the payment complete: bookingPaid, then accepted + bookingConfirmed, or still pending +
    bookingRequested when the host must also confirm. Repeated reports change nothing."""
    payment = store.get_payment(payment_uid)
    if payment is None:
        raise not_found("not_found_error", f"payment {payment_uid}")
    if payment.status == "succeeded":
        return payment.public()
    records = [r for r in gather([lambda uid=uid: store.get_booking(uid) for uid in payment.booking_uids]) if r]
    settled = payment.model_copy(update={"status": "succeeded", "updated_at": now})
    plan = BookingWrite(payments=[settled], payment_expected_status="pending")
    for record in records:
        if not is_active(record.status):
            continue  # cancelled while unpaid: nothing to confirm
        updated = record.model_copy(deep=True)
        updated.paid, updated.updated_at = True, now
        if not record.needs_confirmation:
            updated.status = "accepted"
        plan.changes.append(StatusChange.of(record, updated, booker_key_of(record)))
        context = EventContext(triggered_by="system")
        plan.events.append(new_event("bookingPaid", updated, occurred_at=now, context=context))
        follow = "bookingConfirmed" if updated.status == "accepted" else "bookingRequested"
        plan.events.append(new_event(follow, updated, occurred_at=now, context=context))
    try:
        _commit(store, plan, "paid")
    except PaymentAlreadySettled:
        pass  # a concurrent report won; the result is the same
    return settled.public()
