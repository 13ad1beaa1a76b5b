"""Property: a slot is listed exactly when booking it would succeed right now.

Generated schedules (several time zones, DST included), existing bookings of other types with their own buffers,
lengths, intervals, buffers, notice, booking windows, daily limits, seats, out-of-office entries and slot
reservations (live ones of this type and of the host's other types, and expired ones that nothing swept). For every
listed start a booking succeeds; for a sample of other starts on the 5-minute grid it is refused. A start a live
reservation of this type holds is never listed, and booking it with the reservation's uid succeeds.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

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


def attempt(store: InMemoryStore, event_type_id: int, start_min: int, email: str, dry_run: bool = True,
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
    "away": st.lists(st.tuples(st.integers(0, 3 * 24 * 12 - 1), st.integers(1, 48)), max_size=2),
    # (offset, own type or the host's other type, minutes ago it was made: 0 live, 10 expired)
    "reserved": st.lists(st.tuples(st.integers(0, 3 * 24 * 12 - 1), st.sampled_from([True, True, False]),
                                   st.sampled_from([0, 0, 10])), max_size=4),
    "probes": st.lists(st.integers(0, 3 * 24 * 12 - 1), min_size=10, max_size=25),
})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=scenario)
def test_listed_exactly_when_bookable(case):
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
    window_start = to_minutes(parse_instant("2027-03-27T00:00:00Z"))
    for index, (offset, length, buffer) in enumerate(case["existing"]):  # other bookings, made the normal way
        store.add_event_type(100 + index, owner_id=1, length_in_minutes=length, slot_interval=5,
                             after_event_buffer=buffer)
        attempt(store, 100 + index, window_start + offset * 5, f"other{index}@x.org", dry_run=False)
    for offset, hours in case["away"]:  # out of office from that 5-minute mark, for that many half hours
        start = from_minutes(window_start + offset * 5)
        store.add_out_of_office(1, start, start + timedelta(minutes=30 * hours))
    store.add_event_type(99, owner_id=1, length_in_minutes=15, slot_interval=5)
    held: dict[int, str] = {}
    open_starts = sorted(to_minutes(parse_instant(slot["start"])) for slots in get_slots(
        store, NOW, 1, WINDOW_START, WINDOW_END, "UTC").values() for slot in slots)
    for offset, own_type, age in case["reserved"]:  # own type: one of its listed starts; else any 5-minute mark
        start = open_starts[offset % len(open_starts)] if own_type and open_starts else window_start + offset * 5
        uid = reserve(store, 1 if own_type else 99, start, age)
        if uid and own_type and age == 0:
            held[start] = uid
    listed_days = get_slots(store, NOW, 1, WINDOW_START, WINDOW_END, "UTC")
    listed = {to_minutes(parse_instant(slot["start"])) for slots in listed_days.values() for slot in slots}
    event(f"live reservations of this type: {min(len(held), 2)}")
    event(f"out of office: {bool(case['away'])}")
    for start, uid in held.items():
        assert start not in listed, f"{iso_z(from_minutes(start))} is reserved but listed"
        assert attempt(store, 1, start, "holder@x.org", reservation_uid=uid), "the reservation's own booking failed"

    for start in sorted(listed):
        assert attempt(store, 1, start, "booker@x.org"), f"listed {iso_z(from_minutes(start))} but refused"
    for offset in case["probes"]:
        start = window_start + offset * 5
        if start not in listed:
            assert not attempt(store, 1, start, "booker@x.org"), f"{iso_z(from_minutes(start))} not listed but bookable"

    if listed:  # a real booking of a listed slot commits, and then the listing follows it
        chosen = sorted(listed)[len(listed) // 2]
        real = store.clone()
        assert attempt(real, 1, chosen, "real@x.org", dry_run=False)
        after = get_slots(real, NOW, 1, WINDOW_START, WINDOW_END, "UTC")
        relisted = {to_minutes(parse_instant(s["start"])) for slots in after.values() for s in slots}
        for start in sorted(relisted | {chosen}):
            assert attempt(real, 1, start, "second@x.org") == (start in relisted)


def test_the_property_can_fail():
    """The check above is not vacuous: a store whose busy time the slots endpoint cannot see breaks it."""
    store = InMemoryStore()
    store.add_host(1)
    store.add_event_type(1, owner_id=1)
    hidden = InMemoryStore()
    hidden.add_host(1)
    hidden.add_event_type(1, owner_id=1)
    attempt(hidden, 1, to_minutes(parse_instant("2027-03-29T10:00:00Z")), "x@x.org", dry_run=False)
    listed = get_slots(store, NOW, 1, WINDOW_START, WINDOW_END, "UTC")  # computed without the booking
    starts = [to_minutes(parse_instant(s["start"])) for slots in listed.values() for s in slots]
    assert not all(attempt(hidden, 1, start, "y@x.org") for start in starts)
