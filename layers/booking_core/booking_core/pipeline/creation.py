"""Creation: the booking handlers. Each builds its records and writes them in ONE transaction with their locks,
guards, counters and events.

- SingleSeatBookingHandler (`create_single_seat`): one booking, or every occurrence of a recurring series
- MultiSeatBookingHandler (`open_seat`, `join_seat`): the first attendee opens the seated booking, later ones join
- RescheduleSingleSeat (`reschedule_single_seat`) and RescheduleMultiSeat (`reschedule_seat`)
"""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from booking_core.conferencing import APPS, PROVIDERS
from booking_core.domain import limits
from booking_core.domain.booking_fields import labels_of
from booking_core.domain.common import normalize_email
from booking_core.domain.bookings import CALENDAR_REFERENCES, Attendee, BookingRecord, EventTypeRef, Reference
from booking_core.domain.event_types import EventType
from booking_core.domain.payments import Payment
from booking_core.domain.seats import Seat, seated_view
from booking_core.errors import DomainError
from booking_core.events.contracts import EventContext, new_event
from booking_core.payments import provider
from booking_core.observability import logger
from booking_core.payments.base import PaymentError
from booking_core.pipeline.context import CreatedBooking, EnrichedBooking, ValidatedBooking
from booking_core.ports import (
    BookingStore,
    BookingWrite,
    HostBooking,
    LimitDelta,
    LimitReached,
    NewBooking,
    RecordUpdate,
    Release,
    ReservationRelease,
    RoundRobinIncrement,
    SeatJoin,
    SeatLeave,
    SeatOpen,
    SeatSlot,
    SlotTaken,
    StaleReservation,
)
from booking_core.repositories import keys
from booking_core.timeutil import from_minutes, iso_z


def new_uid() -> str:
    """22 URL-safe characters, 128 random bits."""
    return secrets.token_urlsafe(16)


def resolve_location(event_type: EventType, requested: str | None) -> tuple[str | None, str | None, str | None]:
    """(location, meetingUrl, meeting app): the booker's choice, else the type's first location. Jitsi gets its room
    now; an API-backed app (Meet, Teams, Zoom) gets its placeholder, and its meeting is made after the commit by
    the app-sync step. A booker choosing an app by its placeholder gets it only when the type offers it."""
    offered = {APPS[loc.integration].placeholder: loc.integration for loc in event_type.locations
               if loc.type == "integration" and loc.integration in APPS}
    if requested:
        return requested, None, offered.get(requested)
    if not event_type.locations:
        return None, None, None
    location = event_type.locations[0]
    if location.type == "link":
        return location.link, location.link, None
    if location.type == "address":
        return location.address, None, None
    if location.type == "phone":
        return location.phone, None, None
    if location.integration in APPS:
        return APPS[location.integration].placeholder, None, location.integration
    meeting_url = PROVIDERS[location.integration].create_meeting(event_type.slug)
    return meeting_url, meeting_url, None


def carry_meeting(original: BookingRecord, record: BookingRecord) -> None:
    """A rescheduled booking keeps its place and meeting: the same link while the organizer stays (the app-sync step
    moves the meeting), the app's placeholder when another host takes over (their own meeting is made). Calendar
    references are the app-sync step's to add."""
    record.meeting_app = original.meeting_app
    spec = APPS.get(original.meeting_app or "")
    if spec is not None and record.organizer.id != original.organizer.id:
        record.location, record.meeting_url, record.references = spec.placeholder, None, None
        return
    record.location, record.meeting_url = original.location, original.meeting_url
    record.references = [r for r in original.references or [] if r.type not in CALENDAR_REFERENCES] or None


def reserve_ids(enriched: EnrichedBooking, store: BookingStore, count: int) -> list[int]:
    """Booking ids, taken only now that the request has passed every check (a dry run takes none: 0)."""
    return [0] * count if enriched.is_dry_run else store.next_booking_ids(count)


def lock_keys(host_ids: list[int], held: tuple[int, int], bucket: int) -> list[tuple[int, int]]:
    """One lock per host and per lock-grid bucket the booking (with its buffers) covers."""
    return [(host_id, minute) for host_id in host_ids for minute in range(held[0], held[1], bucket)]


def status_of(enriched: EnrichedBooking, paid: bool) -> tuple[str, str]:
    """(status, detail type): payment first, then the host's confirmation, else accepted."""
    if enriched.payment_required and not paid:
        return "pending", "bookingPaymentInitiated"
    if enriched.needs_confirmation:
        return "pending", "bookingRequested"
    return "accepted", "bookingCreated"


def context_of(record: BookingRecord, seat_uid: str | None = None) -> EventContext:
    return EventContext(
        private_link=record.private_link,
        routing_form_response_id=record.routing_form_response_id,
        seat_uid=seat_uid,
        triggered_by="booker",
    )


def build_record(
    validated: ValidatedBooking,
    host_ids: list[int],
    start_min: int,
    booking_id: int,
    now: datetime,
    status: str,
    limit_keys: list[str],
) -> BookingRecord:
    enriched = validated.loaded.enriched
    data = enriched.request.input
    event_type = enriched.event_type
    held = validated.rules.held(start_min)
    location, meeting_url, meeting_app = resolve_location(event_type, validated.location)
    uid = new_uid()
    record = BookingRecord(
        id=booking_id,
        uid=uid,
        ical_uid=f"{uid}@booking-service",
        title=validated.title,
        description=event_type.description,
        status=status,
        start=from_minutes(start_min),
        end=from_minutes(start_min + enriched.length),
        duration=enriched.length,
        event_type_id=event_type.id,
        event_type=EventTypeRef(id=event_type.id, slug=event_type.slug),
        hosts=[validated.host_ref(host_id) for host_id in host_ids],
        attendees=[Attendee(name=data.attendee.name, email=data.attendee.email, time_zone=data.attendee.time_zone,
                            language=data.attendee.language, phone_number=data.attendee.phone_number)],
        guests=_guests(enriched, validated),
        location=location,
        meeting_url=meeting_url,
        meeting_app=meeting_app,
        metadata=data.metadata,
        booking_fields_responses=dict(enriched.responses),
        booking_fields=labels_of(event_type.booking_fields),
        created_at=now,
        updated_at=now,
        payment_required=True if enriched.payment_required else None,
        is_dry_run=True if enriched.is_dry_run else None,
        busy_start_min=held[0],
        busy_end_min=held[1],
        lock_keys=lock_keys(host_ids, held, validated.rules.bucket),
        duplicate_key=enriched.duplicate_key if start_min == enriched.request.start_min else None,
        routing_form_response_id=data.routing.response_id if data.routing else None,
        team_member_ids=data.routing.team_member_ids if data.routing else None,
        private_link=data.private_link,
        before_buffer=event_type.before_event_buffer,
        after_buffer=event_type.after_event_buffer,
        booker_email=normalize_email(data.attendee.email),
        needs_confirmation=enriched.needs_confirmation,
        price_amount=event_type.price.amount if enriched.payment_required and event_type.price else None,
        price_currency=event_type.price.currency if enriched.payment_required and event_type.price else None,
        seats_capacity=event_type.seats.seats_per_time_slot if event_type.seats else None,
        show_attendee_info=bool(event_type.seats and event_type.seats.show_attendee_info),
        limit_keys=limit_keys,
        reminder_minutes=[1440] if event_type.reminders is None else [r.minutes_before for r in event_type.reminders],
    )
    if meeting_url and location is not None and event_type.locations and event_type.locations[0].type == "integration":
        record.references = [Reference(type="jitsi", uid=meeting_url.rsplit("/", 1)[1], meeting_url=meeting_url)]
    return record


def _guests(enriched: EnrichedBooking, validated: ValidatedBooking) -> list[str]:
    """Guests who are hosts of the type, the attendee, or repeated are dropped (blocked ones already were)."""
    host_emails = {validated.loaded.hosts[h].config.user.email.lower() for h in validated.loaded.hosts}
    attendee = enriched.request.input.attendee.email.lower()
    out: list[str] = []
    for guest in enriched.guests:
        lowered = guest.lower()
        if lowered in host_emails or lowered == attendee or lowered in {g.lower() for g in out}:
            continue
        out.append(guest)
    return out


def new_booking(record: BookingRecord, enriched: EnrichedBooking, start_min: int, stale_uid: str | None) -> NewBooking:
    host_ids = [host.id for host in record.hosts]
    host_booking = HostBooking(
        uid=record.uid,
        event_type_id=record.event_type_id,
        start_min=start_min,
        end_min=start_min + record.duration,
        busy_start_min=record.busy_start_min,
        busy_end_min=record.busy_end_min,
        status=record.status,
    )
    return NewBooking(
        record=record,
        lock_keys=record.lock_keys,
        host_bookings=[(host_id, host_booking) for host_id in host_ids],
        duplicate_key=record.duplicate_key,
        stale_duplicate_uid=stale_uid,
        booker_key=enriched.booker_key,
        reservation_uid=enriched.reservation.uid if enriched.reservation else None,
    )


def consumed(enriched: EnrichedBooking) -> list[ReservationRelease]:
    """The booker's reservation goes in the booking's own transaction (its locks become the booking's)."""
    reservation = enriched.reservation
    return [ReservationRelease(reservation, reservation.version)] if reservation else []


def limit_deltas(event_type: EventType, adds: list[BookingRecord], removes: list[BookingRecord]) -> list[LimitDelta]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for record in adds:
        for key in record.limit_keys:
            totals[key][0] += 1
            totals[key][1] += record.duration
    for record in removes:
        for key in record.limit_keys:
            totals[key][0] -= 1
            totals[key][1] -= record.duration
    deltas = []
    for key, (count, minutes) in totals.items():
        max_count, max_minutes = limits.limit_of(event_type, keys.limit_period(key))
        deltas.append(LimitDelta(key, count, minutes, max_count, max_minutes))
    return deltas


def _payment(enriched: EnrichedBooking, records: list[BookingRecord], now: datetime) -> Payment | None:
    """Create the provider payment before the transaction (idempotent on its uid); stored in the same write."""
    event_type = enriched.event_type
    if not enriched.payment_required or enriched.is_rescheduling or enriched.is_dry_run or event_type.price is None:
        return None
    payment_uid = new_uid()
    amount = event_type.price.amount * len(records)
    try:
        created = provider().create(payment_uid, amount, event_type.price.currency, records[0].title)
    except PaymentError as exc:
        logger.error("payment not started", extra={"reason": str(exc), "event_type_id": event_type.id})
        raise DomainError("internal_server_error", "the payment could not be started; try again") from exc
    for record in records:
        record.payment_uid = payment_uid
    return Payment(
        payment_uid=payment_uid,
        booking_uids=[record.uid for record in records],
        provider=provider().name,
        external_id=created.external_id,
        client_secret=created.client_secret,
        amount=amount,
        currency=event_type.price.currency,
        created_at=now,
        updated_at=now,
    )


Made = TypeVar("Made")


def first_free(
    validated: ValidatedBooking,
    store: BookingStore,
    attempt: Callable[[int | None], tuple[Made, BookingWrite | None]],
) -> Made:
    """Write the plan `attempt` builds for the best round-robin host (or for the fixed hosts alone); when that host
    was taken by someone else meanwhile (their lock is held), try the next one. A held lock of a fixed host fails
    the request. A plan of None is a dry run: nothing is written."""
    enriched = validated.loaded.enriched
    for round_robin_host in list(validated.round_robin_ranking) or [None]:
        made, plan = attempt(round_robin_host)
        if plan is None:
            return made
        try:
            store.write(plan)
        except SlotTaken as taken:
            if round_robin_host is not None and not (taken.host_ids & set(validated.fixed_host_ids)):
                continue
            raise taken_error(enriched) from taken
        except LimitReached as reached:
            raise limit_error(reached) from reached
        except StaleReservation as exc:
            raise reservation_changed() from exc
        return made
    raise DomainError("round_robin_host_unavailable_for_booking", "every available host was booked meanwhile")


def commit_first_free(
    validated: ValidatedBooking,
    store: BookingStore,
    attempt: Callable[[int | None], tuple[list[BookingRecord], BookingWrite | None]],
) -> CreatedBooking:
    return CreatedBooking(bookings=first_free(validated, store, attempt), created=True)


def create_single_seat(validated: ValidatedBooking, store: BookingStore, now: datetime) -> CreatedBooking:
    """SingleSeatBookingHandler: one booking (or a whole recurring series) for the fixed hosts and the best free
    round-robin host."""
    enriched = validated.loaded.enriched
    status, detail_type = status_of(enriched, paid=False)
    series_uid = str(uuid.uuid4()) if enriched.is_recurring else None
    ids = reserve_ids(enriched, store, len(validated.starts))

    def attempt(round_robin_host: int | None) -> tuple[list[BookingRecord], BookingWrite | None]:
        hosts = validated.hosts_for(round_robin_host)
        records = []
        for index, start in enumerate(validated.starts):
            booking_id = ids[index]
            record = build_record(validated, hosts, start, booking_id, now, status, validated.limit_keys[index])
            record.recurring_booking_uid = series_uid
            if round_robin_host is not None and validated.loaded.round_robin_period:
                record.round_robin_key = (enriched.event_type.id, validated.loaded.round_robin_period, round_robin_host)
            records.append(record)
        if enriched.is_dry_run:
            return records, None
        payment = _payment(enriched, records, now)
        return records, BookingWrite(
            creates=[new_booking(r, enriched, s, enriched.duplicate_uid) for r, s in zip(records, validated.starts)],
            limits=limit_deltas(enriched.event_type, records, []),
            round_robin=[RoundRobinIncrement(*records[0].round_robin_key, delta=len(records))]
            if records[0].round_robin_key else [],
            payments=[payment] if payment else [],
            rate_windows=enriched.request.rate_windows,
            released_reservations=consumed(enriched),
            events=[new_event(detail_type, r, occurred_at=now, context=context_of(r)) for r in records],  # type: ignore[arg-type]
            now=now,
        )

    return commit_first_free(validated, store, attempt)


def taken_error(enriched: EnrichedBooking) -> DomainError:
    if not enriched.is_team_event:
        return DomainError("no_available_users_found_error", "the slot was booked meanwhile")
    if enriched.is_round_robin:
        return DomainError("round_robin_host_unavailable_for_booking", "the hosts were booked meanwhile")
    return DomainError("fixed_hosts_unavailable_for_booking", "a fixed host was booked meanwhile")


def reservation_changed() -> DomainError:
    return DomainError("conflict_error", "the reservation changed meanwhile (moved, cancelled or expired); try again")


def limit_error(reached: LimitReached) -> DomainError:
    return DomainError("booking_limit_reached", f"the booking limit for this {keys.limit_period(reached.key)} is reached")


# -- seats ----------------------------------------------------------------------------------------------------------
def seat_of(enriched: EnrichedBooking, booking_uid: str, now: datetime, guests: list[str] | None = None) -> Seat:
    """The attendee's seat: their own details, guests, metadata and answers (no other seat holder sees them)."""
    data = enriched.request.input
    attendee = data.attendee
    return Seat(
        seat_uid=new_uid(),
        booking_uid=booking_uid,
        attendee=Attendee(name=attendee.name, email=attendee.email, time_zone=attendee.time_zone,
                          language=attendee.language, phone_number=attendee.phone_number),
        created_at=iso_z(now),
        guests=list(enriched.guests if guests is None else guests),
        metadata=dict(data.metadata),
        booking_fields_responses=dict(enriched.responses),
    )


def _without_private_data(record: BookingRecord) -> None:
    """A seated booking's record keeps no attendee's own data: every seat keeps its own."""
    record.guests, record.metadata, record.booking_fields_responses = [], {}, {}


def open_seat(validated: ValidatedBooking, store: BookingStore, now: datetime) -> CreatedBooking:
    """MultiSeatBookingHandler, first attendee: the booking, its locks and the seat slot, in one write."""
    enriched = validated.loaded.enriched
    start = validated.starts[0]
    hosts = validated.hosts_for(validated.round_robin_ranking[0] if validated.round_robin_ranking else None)
    booking_id = reserve_ids(enriched, store, 1)[0]
    record = build_record(validated, hosts, start, booking_id, now, "accepted", validated.limit_keys[0])
    seat = seat_of(enriched, record.uid, now, guests=record.guests)
    _without_private_data(record)
    capacity = record.seats_capacity or 1
    view = seated_view(record, [seat], seat, taken=1)
    if enriched.is_dry_run:
        return CreatedBooking(bookings=[view], created=True, seat_uid=seat.seat_uid)
    slot = SeatSlot(enriched.event_type.id, start, record.uid, taken=1, capacity=capacity)
    store.write(BookingWrite(
        creates=[new_booking(record, enriched, start, None)],
        seat_opens=[SeatOpen(slot=slot, seat=seat)],
        limits=limit_deltas(enriched.event_type, [record], []),
        rate_windows=enriched.request.rate_windows,
        released_reservations=consumed(enriched),
        events=[new_event("bookingCreated", view, occurred_at=now, context=context_of(record, seat.seat_uid))],
        now=now,
    ))
    return CreatedBooking(bookings=[view], created=True, seat_uid=seat.seat_uid)


def join_seat(
    enriched: EnrichedBooking,
    record: BookingRecord,
    slot: SeatSlot,
    others: list[Seat],
    store: BookingStore,
    now: datetime,
) -> CreatedBooking:
    """MultiSeatBookingHandler, later attendees: take one of the remaining seats (a conditional counter)."""
    seat = seat_of(enriched, record.uid, now)
    view = seated_view(record, [*others, seat], seat, taken=slot.taken + 1)
    if enriched.is_dry_run:
        return CreatedBooking(bookings=[view], created=True, seat_uid=seat.seat_uid)
    store.write(BookingWrite(
        seat_joins=[SeatJoin(slot=slot, seat=seat)],
        rate_windows=enriched.request.rate_windows,
        events=[new_event("bookingCreated", view, occurred_at=now, context=context_of(record, seat.seat_uid))],
    ))
    return CreatedBooking(bookings=[view], created=True, seat_uid=seat.seat_uid)


# -- reschedules ------------------------------------------------------------------------------------------------------
def reschedule_single_seat(validated: ValidatedBooking, store: BookingStore, now: datetime) -> CreatedBooking:
    """RescheduleSingleSeat: in one transaction the original is cancelled (rescheduledToUid) and releases its
    locks, and the new booking (rescheduledFromUid) takes the new slot. Confirmation rules apply to the new time;
    a payment carries over."""
    enriched = validated.loaded.enriched
    rescheduling = enriched.request.rescheduling
    assert rescheduling is not None
    original = rescheduling.original
    status, _ = status_of(enriched, paid=original.paid)
    booking_id = reserve_ids(enriched, store, 1)[0]

    def attempt(round_robin_host: int | None) -> tuple[list[BookingRecord], BookingWrite | None]:
        hosts = validated.hosts_for(round_robin_host)
        record = build_record(validated, hosts, validated.starts[0], booking_id, now, status, validated.limit_keys[0])
        record.rescheduled_from_uid = original.uid
        record.rescheduling_reason = rescheduling.reason
        record.rescheduled_by = rescheduling.rescheduled_by
        record.recurring_booking_uid = original.recurring_booking_uid
        record.payment_uid, record.paid = original.payment_uid, original.paid
        record.payment_required = original.payment_required
        record.price_amount, record.price_currency = original.price_amount, original.price_currency
        record.private_link = original.private_link
        if not (rescheduling.released_already and original.meeting_app in APPS):
            carry_meeting(original, record)  # (a meeting deleted with the cancelled original is made anew)
        record.ical_uid, record.ical_sequence = original.ical_uid or record.ical_uid, original.ical_sequence + 1
        record.routing_form_response_id = original.routing_form_response_id
        record.booking_fields = original.booking_fields  # the questions its answers were given to
        if round_robin_host is not None and validated.loaded.round_robin_period:
            record.round_robin_key = (enriched.event_type.id, validated.loaded.round_robin_period, round_robin_host)
        previous = original.model_copy(deep=True)
        previous.status = "cancelled"
        previous.ical_sequence = record.ical_sequence
        previous.rescheduled_to_uid = record.uid
        previous.rescheduling_reason = rescheduling.reason
        previous.updated_at = now
        if enriched.is_dry_run:
            return [record], None
        plan = BookingWrite(
            creates=[new_booking(record, enriched, validated.starts[0], None)],
            events=[new_event("bookingRescheduled", record, occurred_at=now, previous=previous,
                              context=context_of(record))],
            now=now,
        )
        if rescheduling.released_already:  # its slot and counters went back when the host asked for a new time
            plan.updates.append(RecordUpdate(previous, original.version))
            plan.limits = limit_deltas(enriched.event_type, [record], [])
            plan.round_robin = [RoundRobinIncrement(*record.round_robin_key)] if record.round_robin_key else []
        else:
            plan.releases.append(Release.of(original, previous, enriched.booker_key))
            plan.limits = limit_deltas(enriched.event_type, [record], [original])
            plan.round_robin = _round_robin_moves(original, record)
        return [record], plan

    return commit_first_free(validated, store, attempt)


def _round_robin_moves(original: BookingRecord, record: BookingRecord) -> list[RoundRobinIncrement]:
    if original.round_robin_key == record.round_robin_key:
        return []
    moves = []
    if original.round_robin_key:
        moves.append(RoundRobinIncrement(*original.round_robin_key, delta=-1))
    if record.round_robin_key:
        moves.append(RoundRobinIncrement(*record.round_robin_key, delta=1))
    return moves


def reschedule_seat(
    validated: ValidatedBooking | None,
    enriched: EnrichedBooking,
    target: BookingRecord | None,
    store: BookingStore,
    now: datetime,
) -> CreatedBooking:
    """RescheduleMultiSeat: only the caller's seat moves. It joins the seated booking at the new time if there is
    one (`target`), else opens a new one; the old booking is cancelled when its last seat leaves."""
    rescheduling = enriched.request.rescheduling
    assert rescheduling is not None and rescheduling.seat is not None and rescheduling.seat_slot is not None
    original, old_seat, old_slot = rescheduling.original, rescheduling.seat, rescheduling.seat_slot
    closing = old_slot.taken <= 1
    plan = BookingWrite(seat_leaves=[SeatLeave(slot=old_slot, seat=old_seat, close=closing)], now=now)
    new_slot = enriched.seat_slot
    if target is not None and new_slot is not None:
        record = target
        seat = seat_of(enriched, record.uid, now)
        plan.seat_joins.append(SeatJoin(slot=new_slot, seat=seat))
        taken = new_slot.taken + 1
    else:
        assert validated is not None
        hosts = validated.hosts_for(validated.round_robin_ranking[0] if validated.round_robin_ranking else None)
        booking_id = reserve_ids(enriched, store, 1)[0]
        record = build_record(validated, hosts, validated.starts[0], booking_id, now, "accepted",
                              validated.limit_keys[0])
        record.rescheduled_from_uid = original.uid
        seat = seat_of(enriched, record.uid, now, guests=record.guests)
        _without_private_data(record)
        slot = SeatSlot(enriched.event_type.id, validated.starts[0], record.uid, taken=1,
                        capacity=record.seats_capacity or 1)
        plan.creates.append(new_booking(record, enriched, validated.starts[0], None))
        plan.seat_opens.append(SeatOpen(slot=slot, seat=seat))
        plan.limits.extend(limit_deltas(enriched.event_type, [record], []))
        taken = 1
    previous = seated_view(original, [old_seat], old_seat, taken=old_slot.taken - 1)
    if closing:
        cancelled = original.model_copy(deep=True)
        cancelled.status = "cancelled"
        cancelled.rescheduled_to_uid = record.uid
        cancelled.updated_at = now
        plan.releases.append(Release.of(original, cancelled, enriched.booker_key))
        plan.limits.extend(limit_deltas(enriched.event_type, [], [original]))
        previous = seated_view(cancelled, [old_seat], old_seat, taken=0)
    view = seated_view(record, [seat], seat, taken=taken)
    view.rescheduled_from_uid = original.uid
    view.rescheduling_reason = rescheduling.reason
    if enriched.is_dry_run:
        return CreatedBooking(bookings=[view], created=True, seat_uid=seat.seat_uid)
    plan.events.append(new_event("bookingRescheduled", view, occurred_at=now, previous=previous,
                                 context=context_of(record, seat.seat_uid)))
    store.write(plan)
    return CreatedBooking(bookings=[view], created=True, seat_uid=seat.seat_uid)
