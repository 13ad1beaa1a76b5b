"""A refused condition in the booking transaction is reported as the domain failure of the item that carried it.

DynamoDB answers a cancelled TransactWriteItems with one reason per item, in request order; the store reads the item
of each refused reason from its own list of the request (repositories/bookings.py `_Operations.items`). Each
scenario here writes a plan with items of many kinds (puts, deletes and updates: the kinds a client library could
regroup) through the real store against the server, with exactly one condition refused, and checks which failure
comes back: a reason matched to the wrong item would name another failure. Nothing of a refused plan is written.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from booking_core.domain.abuse import RateWindow
from booking_core.domain.bookings import Attendee, BookingRecord, EventTypeRef, HostRef
from booking_core.domain.payments import Payment
from booking_core.domain.reservations import Hold, Reservation
from booking_core.domain.seats import Seat
from booking_core.ports import (
    AlreadySeated,
    BookingWrite,
    DuplicateBooking,
    HostBooking,
    LimitDelta,
    LimitReached,
    NewBooking,
    OutboxEvent,
    PaymentAlreadySettled,
    RateLimited,
    Release,
    ReservationWrite,
    RoundRobinIncrement,
    SeatJoin,
    SeatOpen,
    SeatsFull,
    SeatSlot,
    SeatSlotOpened,
    SlotTaken,
    StaleBooking,
    StaleReservation,
)
from booking_core.timeutil import UTC, from_minutes

NOW = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
START = int(NOW.timestamp() // 60) + 7 * 1440  # a week ahead, on the lock grid
_ids = itertools.count(900_000)


@pytest.fixture(scope="module")
def store(aws):
    from booking_core.repositories.bookings import DynamoBookingStore

    return DynamoBookingStore()


def record(uid: str, host_id: int, event_type_id: int, start: int = START, seats: int | None = None) -> BookingRecord:
    return BookingRecord(
        id=next(_ids), uid=uid, title="Refusals", status="accepted", start=from_minutes(start),
        end=from_minutes(start + 30), duration=30, event_type_id=event_type_id,
        event_type=EventTypeRef(id=event_type_id, slug="refusals"),
        hosts=[HostRef(id=host_id, name="H", email=f"h{host_id}@example.org", time_zone="UTC")],
        attendees=[Attendee(name="A", email="a@example.org", time_zone="UTC")], created_at=NOW, updated_at=NOW,
        busy_start_min=start, busy_end_min=start + 30, lock_keys=[(host_id, start + m) for m in range(0, 30, 5)],
        duplicate_key=f"refusal-guard-{uid}", booker_email="a@example.org", seats_capacity=seats,
        limit_keys=[f"{event_type_id}#day#2031-03-10"],
    )


def event(uid: str) -> OutboxEvent:
    return OutboxEvent(event_id=f"evt-{uid}", detail_type="bookingCreated", detail_json="{}",
                       created_at=NOW.isoformat())


def creation(booking: BookingRecord, **extra) -> BookingWrite:
    """A booking's creation with items of every action around it: the booking, listing and busy items, locks, the
    duplicate guard, the booker entry (puts), a limit counter, a round-robin count, an abuse window (updates) and its
    event (the outbox)."""
    host = booking.hosts[0].id
    start = int(booking.start.timestamp() // 60)
    held = HostBooking(booking.uid, booking.event_type_id, start, start + 30, start, start + 30, booking.status)
    window = RateWindow("ip", f"198.51.100.{next(_ids) % 250}", 1000, int(NOW.timestamp()) // 60 * 60,
                        int(NOW.timestamp()) // 60 * 60 + 60)
    plan = BookingWrite(
        creates=[NewBooking(record=booking, lock_keys=list(booking.lock_keys), host_bookings=[(host, held)],
                            duplicate_key=booking.duplicate_key, booker_key=f"{booking.event_type_id}#a@example.org")],
        limits=[LimitDelta(booking.limit_keys[0], 1, 30, 10, 600)],
        round_robin=[RoundRobinIncrement(booking.event_type_id, "2031-03", host)],
        rate_windows=[window],
        events=[event(booking.uid)],
        now=NOW,
    )
    for name, value in extra.items():
        setattr(plan, name, value)
    return plan


def refused(store, plan: BookingWrite) -> Exception:
    with pytest.raises(Exception) as caught:
        store.write(plan)
    return caught.value


def fresh() -> tuple[str, int, int]:
    n = next(_ids)
    return f"refusal-{n}", n, n


def test_a_plan_without_refusals_is_written_whole(store):
    uid, host, type_id = fresh()
    store.write(creation(record(uid, host, type_id)))
    assert store.get_booking(uid).version == 1
    assert store.limit_counts([f"{type_id}#day#2031-03-10"])[f"{type_id}#day#2031-03-10"].count == 1


def test_a_held_lock_is_slot_taken_for_its_host(store):
    uid, host, type_id = fresh()
    store.write(creation(record(uid, host, type_id)))
    other, _, _ = fresh()
    failure = refused(store, creation(record(other, host, type_id + 1)))
    assert isinstance(failure, SlotTaken) and failure.host_ids == {host}
    assert store.get_booking(other) is None


def test_the_attendees_guard_is_a_duplicate_booking(store):
    uid, host, type_id = fresh()
    first = record(uid, host, type_id)
    store.write(creation(first))
    again = record(fresh()[0], host + 1, type_id)
    again.duplicate_key = first.duplicate_key
    assert isinstance(refused(store, creation(again)), DuplicateBooking)


def test_a_full_limit_counter_is_limit_reached_for_that_counter(store):
    uid, host, type_id = fresh()
    key = f"{type_id}#day#2031-03-11"
    store.write(BookingWrite(limits=[LimitDelta(key, 1, 30)], now=NOW))  # one booking counted already
    plan = creation(record(uid, host, type_id))
    plan.limits.append(LimitDelta(key, 1, 30, 1, None))  # one booking allowed in this period
    failure = refused(store, plan)
    assert isinstance(failure, LimitReached) and failure.key == key


def test_a_full_abuse_window_is_rate_limited_with_its_window(store):
    uid, host, type_id = fresh()
    plan = creation(record(uid, host, type_id))
    full = RateWindow("email", f"full-{uid}@example.org", 1, plan.rate_windows[0].starts_at,
                      plan.rate_windows[0].ends_at)
    store.write(BookingWrite(rate_windows=[full], now=NOW))  # its one request
    plan.rate_windows = [plan.rate_windows[0], full]
    failure = refused(store, plan)
    assert isinstance(failure, RateLimited) and failure.window == full


def test_a_settled_payment_is_payment_already_settled(store):
    uid, host, type_id = fresh()
    payment = Payment(payment_uid=f"pay-{uid}", booking_uids=[uid], provider="test", amount=100, currency="EUR",
                      created_at=NOW, updated_at=NOW)
    store.write(BookingWrite(payments=[payment], now=NOW))
    assert isinstance(refused(store, creation(record(uid, host, type_id), payments=[payment])), PaymentAlreadySettled)


def test_a_booking_that_changed_since_it_was_read_is_stale(store):
    uid, host, type_id = fresh()
    booking = record(uid, host, type_id)
    store.write(creation(booking))
    read = store.get_booking(uid)
    cancelled = read.model_copy(deep=True)
    cancelled.status = "cancelled"
    read.version += 1  # as if read before a change that happened since
    newcomer = record(fresh()[0], host + 1, type_id + 1)
    failure = refused(store, creation(newcomer, releases=[Release.of(read, cancelled, None)]))
    assert isinstance(failure, StaleBooking)
    assert store.get_booking(uid).status == "accepted" and store.get_booking(newcomer.uid) is None


def _seat(booking_uid: str, email: str) -> Seat:
    return Seat(seat_uid=f"seat-{next(_ids)}", booking_uid=booking_uid,
                attendee=Attendee(name="S", email=email, time_zone="UTC"), created_at=NOW.isoformat())


def test_seats_opened_full_or_taken_twice_are_their_own_failures(store):
    uid, host, type_id = fresh()
    seated = record(uid, host, type_id, seats=2)
    slot = SeatSlot(type_id, START, uid, taken=1, capacity=2)
    store.write(creation(seated, seat_opens=[SeatOpen(slot, _seat(uid, "first@example.org"))]))

    rival = record(fresh()[0], host + 1, type_id, seats=2)
    opened = refused(store, creation(rival, seat_opens=[SeatOpen(SeatSlot(type_id, START, rival.uid, 1, 2),
                                                                 _seat(rival.uid, "rival@example.org"))]))
    assert isinstance(opened, SeatSlotOpened)

    twice = BookingWrite(seat_joins=[SeatJoin(slot, _seat(uid, "first@example.org"))],
                         rate_windows=creation(rival).rate_windows, events=[event(f"join-{uid}")], now=NOW)
    assert isinstance(refused(store, twice), AlreadySeated)

    store.write(BookingWrite(seat_joins=[SeatJoin(slot, _seat(uid, "second@example.org"))], now=NOW))
    full = BookingWrite(seat_joins=[SeatJoin(slot, _seat(uid, "third@example.org"))],
                        rate_windows=creation(rival).rate_windows, events=[event(f"full-{uid}")], now=NOW)
    assert isinstance(refused(store, full), SeatsFull)


def test_a_reservation_that_changed_is_stale(store):
    uid, host, type_id = fresh()
    start = START + 120
    reservation = Reservation(uid=f"res-{uid}", event_type_id=type_id, slot_start=from_minutes(start),
                              slot_end=from_minutes(start + 30), reservation_duration=5,
                              reservation_until=NOW + timedelta(minutes=5), created_at=NOW, host_ids=[host],
                              lock_keys=[(host, start)], holds=[Hold(host_id=host, start_min=start, end_min=start + 30,
                                                                     busy_start_min=start, busy_end_min=start + 30)])
    store.write(BookingWrite(reservations=[ReservationWrite(reservation)], now=NOW))
    moved = store.get_reservation(reservation.uid)
    plan = creation(record(uid, host, type_id), reservations=[ReservationWrite(moved, expected_version=7)])
    assert isinstance(refused(store, plan), StaleReservation)

