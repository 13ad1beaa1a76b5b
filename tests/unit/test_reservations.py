"""Slot reservations through the phases, with the in-memory store (same guarantees as DynamoDB's conditions)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from booking_core.domain.bookings import CreateBookingInput
from booking_core.domain.reservations import ReservationInput, ReservationPatch
from booking_core.errors import DomainError
from booking_core.pipeline.runner import create_booking
from booking_core.services import reservations
from booking_core.services.slots import get_slots
from tests.unit.fakes import InMemoryStore

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)  # Tuesday
WED = "2026-12-02"
TEN = f"{WED}T10:00:00Z"


def book(store: InMemoryStore, start: str = TEN, email: str = "jane@example.org", now: datetime = NOW,
         event_type_id: int = 1, **extra):
    return create_booking(CreateBookingInput.model_validate({
        "start": start, "eventTypeId": event_type_id,
        "attendee": {"name": "Jane", "email": email, "timeZone": "UTC"}, **extra}), store, now)


def refused(action) -> DomainError:
    with pytest.raises(DomainError) as caught:
        action()
    return caught.value


def reserve(store: InMemoryStore, start: str = TEN, now: datetime = NOW, event_type_id: int = 1, **extra) -> dict:
    data = ReservationInput.model_validate({"eventTypeId": event_type_id, "slotStart": start, **extra})
    return reservations.reserve(store, data, now)


def listed(store: InMemoryStore, now: datetime = NOW, event_type_id: int = 1) -> set[str]:
    days = get_slots(store, now, event_type_id, WED, WED, "UTC")
    return {slot["start"] for slots in days.values() for slot in slots}


def local(start: str) -> str:
    return start.replace("Z", ".000+00:00")


def test_a_reservation_holds_the_slot_until_its_booking_takes_it(store):
    held = reserve(store)
    assert held["eventTypeId"] == 1 and held["slotStart"] == "2026-12-02T10:00:00.000Z"
    assert held["slotEnd"] == "2026-12-02T10:30:00.000Z" and held["reservationDuration"] == 5
    assert held["reservationUntil"] == "2026-12-01T08:05:00.000Z" and len(held["reservationUid"]) >= 22
    assert local(TEN) not in listed(store)
    assert refused(lambda: book(store)).code == "slot_reserved"
    assert refused(lambda: reserve(store)).code == "slot_reserved"
    booking = book(store, reservationUid=held["reservationUid"]).booking
    assert booking.status == "accepted"
    assert store.reservations == {} and store.held_locks == {}  # consumed in the booking's own write
    assert all(lock_uid == booking.uid for lock_uid in store.locks.values())
    assert refused(lambda: reservations.get(store, held["reservationUid"], NOW)).code == "not_found_error"
    assert refused(lambda: book(store, email="other@example.org")).code == "no_available_users_found_error"


def test_an_expired_reservation_frees_the_slot_by_itself(store):
    held = reserve(store, reservationDuration=15)
    later = NOW + timedelta(minutes=15)
    assert local(TEN) not in listed(store, NOW + timedelta(minutes=14, seconds=59))
    assert local(TEN) in listed(store, later)
    assert refused(lambda: reservations.get(store, held["reservationUid"], later)).code == "not_found_error"
    assert store.held_locks  # nothing swept it: the conditions accept an expired hold
    assert book(store, email="late@example.org", now=later).created
    assert refused(lambda: book(store, reservationUid=held["reservationUid"], now=later)).code == \
        "no_available_users_found_error"


def test_an_expired_reservation_can_be_reserved_over(store):
    reserve(store)
    again = reserve(store, now=NOW + timedelta(minutes=6))
    assert refused(lambda: book(store, now=NOW + timedelta(minutes=6))).code == "slot_reserved"
    assert book(store, now=NOW + timedelta(minutes=6), reservationUid=again["reservationUid"]).created


def test_a_reservation_is_refused_as_a_booking_would_be(store):
    assert refused(lambda: reserve(store, start=f"{WED}T07:00:00Z")).code == "no_available_users_found_error"
    assert refused(lambda: reserve(store, start="2026-11-30T10:00:00Z")).code == "booking_in_past"
    assert refused(lambda: reserve(store, slotDuration=45)).code == "invalid_event_length"
    assert refused(lambda: reserve(store, event_type_id=99)).code == "event_type_not_found"
    book(store)
    assert refused(lambda: reserve(store)).code == "no_available_users_found_error"


def test_durations_are_bounded():
    with pytest.raises(ValueError):
        ReservationInput.model_validate({"eventTypeId": 1, "slotStart": TEN, "reservationDuration": 16})
    with pytest.raises(ValueError):
        ReservationInput.model_validate({"eventTypeId": 1, "slotStart": TEN, "reservationDuration": 0})


def test_a_booking_passing_a_reservation_of_another_slot_is_refused(store):
    held = reserve(store)
    error = refused(lambda: book(store, start=f"{WED}T11:00:00Z", reservationUid=held["reservationUid"]))
    assert error.code == "request_body_invalid_error"
    assert error.details["errors"][0]["field"] == "reservationUid"


def test_an_unknown_reservation_uid_counts_for_nothing(store):
    assert book(store, reservationUid="no-such-reservation").created


def test_moving_a_reservation_frees_the_old_slot_and_holds_the_new(store):
    held = reserve(store)
    uid = held["reservationUid"]
    moved = reservations.move(store, uid, ReservationPatch.model_validate({"slotStart": f"{WED}T11:00:00Z"}),
                              NOW + timedelta(minutes=1))
    assert moved["slotStart"] == "2026-12-02T11:00:00.000Z" and moved["reservationUntil"] == "2026-12-01T08:06:00.000Z"
    slots = listed(store)
    assert local(TEN) in slots and local(f"{WED}T11:00:00Z") not in slots
    assert book(store, email="other@example.org").created
    assert refused(lambda: book(store, start=f"{WED}T11:00:00Z", email="x@example.org")).code == "slot_reserved"
    assert book(store, start=f"{WED}T11:00:00Z", reservationUid=uid).created


def test_extending_overlapping_and_moving_onto_a_taken_slot():
    store = InMemoryStore()
    store.add_host(1)
    store.add_event_type(1, owner_id=1, slot_interval=15)
    held = reserve(store)
    uid = held["reservationUid"]
    extended = reservations.move(store, uid, ReservationPatch.model_validate({"reservationDuration": 15}),
                                 NOW + timedelta(minutes=4))
    assert extended["reservationUntil"] == "2026-12-01T08:19:00.000Z"
    assert local(TEN) not in listed(store, NOW + timedelta(minutes=10))
    # overlapping itself (a 10:15 start shares buckets with 10:00): it keeps what it needs, frees the rest
    reservations.move(store, uid, ReservationPatch.model_validate({"slotStart": f"{WED}T10:15:00Z"}),
                      NOW + timedelta(minutes=5))
    assert store.reservations[uid].slot_start.hour == 10 and store.reservations[uid].slot_start.minute == 15
    assert all(holder == uid for holder, _ in store.held_locks.values()) and len(store.held_locks) == 6
    book(store, start=f"{WED}T11:00:00Z", email="other@example.org")
    error = refused(lambda: reservations.move(store, uid, ReservationPatch.model_validate(
        {"slotStart": f"{WED}T11:00:00Z"}), NOW + timedelta(minutes=6)))
    assert error.code == "no_available_users_found_error"
    assert store.reservations[uid].slot_start.minute == 15  # unchanged


def test_cancelling_a_reservation_frees_the_slot_at_once(store):
    held = reserve(store)
    reservations.cancel(store, held["reservationUid"], NOW)
    assert local(TEN) in listed(store) and store.held_locks == {} and store.reservations == {}
    assert refused(lambda: reservations.cancel(store, held["reservationUid"], NOW)).code == "not_found_error"


def test_seated_types_cannot_be_reserved():
    store = InMemoryStore()
    store.add_host(1)
    store.add_event_type(1, owner_id=1, seats={"seats_per_time_slot": 3})
    error = refused(lambda: reserve(store))
    assert error.code == "request_body_invalid_error" and error.details["errors"][0]["field"] == "eventTypeId"


def test_round_robin_holds_the_host_a_booking_would_get_and_leaves_the_others_bookable():
    store = InMemoryStore()
    store.add_host(1)
    store.add_host(2)
    store.add_event_type(1, scheduling_type="roundRobin", hosts=[{"user_id": 1}, {"user_id": 2}])
    held = reserve(store)
    reserved_host = store.reservations[held["reservationUid"]].host_ids
    assert len(reserved_host) == 1
    assert local(TEN) in listed(store)  # the other host is still free
    other = book(store, email="other@example.org").booking
    assert [h.id for h in other.hosts] != reserved_host
    assert local(TEN) not in listed(store)
    assert refused(lambda: book(store, email="third@example.org")).code == "slot_reserved"
    mine = book(store, reservationUid=held["reservationUid"]).booking
    assert [h.id for h in mine.hosts] == reserved_host


def test_a_recurring_type_holds_every_occurrence():
    store = InMemoryStore()
    store.add_host(1)
    store.add_event_type(1, owner_id=1, recurrence={"frequency": "weekly", "interval": 1, "occurrences": 3})
    held = reserve(store)
    assert len(store.reservations[held["reservationUid"]].holds) == 3
    next_week = get_slots(store, NOW, 1, "2026-12-09", "2026-12-09", "UTC")
    assert "2026-12-09T10:00:00.000+00:00" not in {s["start"] for s in next_week["2026-12-09"]}
    series = book(store, reservationUid=held["reservationUid"])
    assert len(series.bookings) == 3 and store.reservations == {}


def test_a_reservation_blocks_the_hosts_other_types_too(store):
    store.add_event_type(2, owner_id=1, slug="other")
    reserve(store)
    assert local(TEN) not in listed(store, event_type_id=2)
    assert refused(lambda: book(store, event_type_id=2)).code == "slot_reserved"
