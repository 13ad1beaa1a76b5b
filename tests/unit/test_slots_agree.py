"""Property: a slot is listed exactly when booking it would succeed right now.

Generated schedules (several time zones, DST included), existing bookings of this type and of other types with their
own buffers, lengths, intervals, buffers, notice, booking windows, daily limits, seats, out-of-office entries and slot
reservations (live ones of this type and of the host's other types, and expired ones that nothing swept). Every
listed start, the unlisted starts next to each (5 minutes either side, where an off-by-one in buffers, notice or
locks shows) and a drawn sample of the window's other 5-minute marks are tried with a real booking, its transaction
included (a dry run returns before it, so it cannot see a lock), each against a copy of the store as it was: a tried
start is listed exactly when that write succeeds. A start a live reservation of this type holds is never listed, and
booking it with the reservation's uid succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from unittest import mock

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from booking_core import observability
from booking_core.domain.bookings import CreateBookingInput
from booking_core.domain.reservations import ReservationInput
from booking_core.errors import DomainError
from booking_core.pipeline.runner import create_booking
from booking_core.services import reservations
from booking_core.services.slots import get_slots
from booking_core.timeutil import from_minutes, iso_z, parse_instant, to_minutes
from tests.unit.fakes import InMemoryStore

ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NOW = datetime(2027, 3, 26, 7, 3, tzinfo=timezone.utc)  # the weekend DST starts in Europe (March 28)
WINDOW_START = "2027-03-27"
WINDOW_END = "2027-03-29"
WINDOW = to_minutes(parse_instant("2027-03-27T00:00:00Z"))
GRID = [WINDOW + 5 * step for step in range(3 * 24 * 12)]  # every 5-minute start of the three listed days


class _NoMetric:
    def add_dimension(self, name: str, value: str) -> None:
        pass


@contextmanager
def _no_metric(*_args, **_kwargs) -> Iterator[_NoMetric]:
    yield _NoMetric()


@contextmanager
def quiet() -> Iterator[None]:
    """No metrics or info logs: each example makes hundreds of booking attempts, and emitting their telemetry costs
    more than the attempts themselves (it is not what this test checks)."""
    logging.disable(logging.INFO)
    try:
        with mock.patch.object(observability, "single_metric", _no_metric):
            yield
    finally:
        logging.disable(logging.NOTSET)


def attempt(store: InMemoryStore, event_type_id: int, start_min: int, email: str, dry_run: bool = False,
            reservation_uid: str | None = None) -> bool:
    data = CreateBookingInput.model_validate({
        "start": iso_z(from_minutes(start_min)), "eventTypeId": event_type_id, "isDryRun": dry_run,
        "attendee": {"name": "P", "email": email, "timeZone": "UTC"}, "reservationUid": reservation_uid})
    try:
        create_booking(data, store, NOW)
    except DomainError:
        return False
    return True


def reserve(store: InMemoryStore, event_type_id: int, start_min: int, age_minutes: int) -> str | None:
    """A 5-minute reservation made `age_minutes` ago (expired when that is 5 or more), if the slot was bookable."""
    data = ReservationInput.model_validate({"eventTypeId": event_type_id, "slotStart": iso_z(from_minutes(start_min))})
    try:
        return reservations.reserve(store, data, NOW - timedelta(minutes=age_minutes))["reservationUid"]
    except DomainError:
        return None


def bookable(store: InMemoryStore, starts: list[int]) -> set[int]:
    """The starts a real booking of type 1 gets, each tried against a copy of `store` as it is. A refused write
    changes nothing (the store contract, tests/contract, holds the in-memory store to it as to DynamoDB), so the copy
    is only replaced after a booking went through."""
    accepted: set[int] = set()
    trial = store.clone()
    for start in starts:
        if attempt(trial, 1, start, "booker@x.org"):
            accepted.add(start)
            trial = store.clone()
    return accepted


scenario = st.fixed_dictionaries({
    "zone": st.sampled_from(ZONES),
    "start_hour": st.integers(0, 12),
    "span_hours": st.integers(2, 10),
    "days": st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True),
    "length": st.sampled_from([15, 20, 30, 45, 60]),
    "interval": st.sampled_from([None, 10, 15, 30]),
    "before": st.sampled_from([0, 5, 10, 15]),
    "after": st.sampled_from([0, 5, 10, 15]),
    "notice": st.sampled_from([0, 60, 24 * 60]),
    "window": st.sampled_from([None, 1, 2]),
    "day_limit": st.sampled_from([None, 1, 3]),
    "seats": st.sampled_from([None, 2]),
    "existing": st.lists(st.tuples(st.integers(0, 3 * 24 * 12 - 1), st.sampled_from([15, 30, 60]),
                                   st.sampled_from([0, 10])), max_size=6),
    "own": st.lists(st.integers(0, 3 * 24 * 12 - 1), max_size=3),  # bookings of this type (index into its slots)
    "away": st.lists(st.tuples(st.integers(0, 3 * 24 * 12 - 1), st.integers(1, 48)), max_size=2),
    # (offset, own type or the host's other type, minutes ago it was made: 0 live, 10 expired)
    "reserved": st.lists(st.tuples(st.integers(0, 3 * 24 * 12 - 1), st.sampled_from([True, True, False]),
                                   st.sampled_from([0, 0, 10])), max_size=4),
    "probes": st.lists(st.integers(0, len(GRID) - 1), min_size=10, max_size=25),  # unlisted starts tried besides
})


def instants(starts: set[int]) -> list[str]:
    return [iso_z(from_minutes(start)) for start in sorted(starts)]


def listed_starts(store: InMemoryStore, event_type_id: int = 1) -> list[int]:
    days = get_slots(store, NOW, event_type_id, WINDOW_START, WINDOW_END, "UTC")
    return sorted(to_minutes(parse_instant(slot["start"])) for slots in days.values() for slot in slots)


def tried(listed: set[int], probes: list[int]) -> list[int]:
    """The starts to book: every listed one, its neighbours on the 5-minute grid and the drawn probes."""
    near = {start + step for start in listed for step in (-5, 5)}
    return sorted((listed | near | {GRID[index] for index in probes}) & set(GRID))


# About 60 ms per example on average (half list nothing; a full one makes a few hundred real attempts).
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=scenario)
def test_listed_exactly_when_bookable(case):
    with quiet():
        check_listing_agrees(case)


def check_listing_agrees(case: dict) -> None:
    store = InMemoryStore()
    store.add_host(1, time_zone=case["zone"], hours=(f"{case['start_hour']:02d}:00",
                                                     f"{min(case['start_hour'] + case['span_hours'], 24):02d}:00"
                                                     if case['start_hour'] + case['span_hours'] < 24 else "24:00"),
                   days=case["days"])
    fields = {"owner_id": 1, "length_in_minutes": case["length"], "slot_interval": case["interval"],
              "before_event_buffer": case["before"], "after_event_buffer": case["after"],
              "minimum_booking_notice": case["notice"]}
    if case["window"]:
        fields["booking_window"] = {"type": "calendarDays", "value": case["window"]}
    if case["day_limit"]:
        fields["booking_limits_count"] = {"day": case["day_limit"]}
    if case["seats"]:
        fields["seats"] = {"seats_per_time_slot": case["seats"]}
    store.add_event_type(1, **fields)
    for index, (offset, length, buffer) in enumerate(case["existing"]):  # other bookings, made the normal way
        store.add_event_type(100 + index, owner_id=1, length_in_minutes=length, slot_interval=5,
                             after_event_buffer=buffer)
        attempt(store, 100 + index, WINDOW + offset * 5, f"other{index}@x.org")
    for offset, hours in case["away"]:  # out of office from that 5-minute mark, for that many half hours
        start = from_minutes(WINDOW + offset * 5)
        store.add_out_of_office(1, start, start + timedelta(minutes=30 * hours))
    store.add_event_type(99, owner_id=1, length_in_minutes=15, slot_interval=5)
    open_starts = listed_starts(store)
    for index, pick in enumerate(case["own"]):  # this type's own bookings (a seat, for a seated type): limits count
        if open_starts:
            attempt(store, 1, open_starts[pick % len(open_starts)], f"own{index}@x.org")
    held: dict[int, str] = {}
    open_starts = listed_starts(store)
    for offset, own_type, age in case["reserved"]:  # own type: one of its listed starts; else any 5-minute mark
        start = open_starts[offset % len(open_starts)] if own_type and open_starts else WINDOW + offset * 5
        uid = reserve(store, 1 if own_type else 99, start, age)
        if uid and own_type and age == 0:
            held[start] = uid
    listed = set(listed_starts(store))
    event(f"live reservations of this type: {min(len(held), 2)}")
    event(f"out of office: {bool(case['away'])}")
    event(f"bookings of this type: {len(case['own'])}")
    for start, uid in held.items():
        assert start not in listed, f"{iso_z(from_minutes(start))} is reserved but listed"
        assert attempt(store.clone(), 1, start, "holder@x.org", reservation_uid=uid), "the reservation's booking failed"

    assert listed <= set(GRID), "a listed start off the 5-minute grid"
    probes = tried(listed, case["probes"])
    event(f"listed starts: {'some' if listed else 'none'}")
    accepted = bookable(store, probes)
    assert not listed - accepted, f"listed but refused: {instants(listed - accepted)}"
    assert not accepted - listed, f"bookable but not listed: {instants(accepted - listed)}"


def test_the_property_can_fail():
    """The check above is not vacuous: a store whose busy time the slots endpoint cannot see breaks it, and so does a
    lock that only the booking transaction sees (a dry run would miss it)."""
    store = InMemoryStore()
    store.add_host(1)
    store.add_event_type(1, owner_id=1)
    ten = to_minutes(parse_instant("2027-03-29T10:00:00Z"))
    listed = set(listed_starts(store))
    probes = tried(listed, [])
    assert ten in listed and bookable(store, probes) == listed

    hidden = store.clone()
    attempt(hidden, 1, ten, "x@x.org")  # the listing above was computed without this booking
    assert ten not in bookable(hidden, probes)

    locked = store.clone()
    locked.locks[(1, ten)] = "held-by-a-booking-the-listing-cannot-see"
    assert set(listed_starts(locked)) == listed and ten not in bookable(locked, probes)
    assert attempt(locked, 1, ten, "y@x.org", dry_run=True)  # what the dry-run probes used to accept
