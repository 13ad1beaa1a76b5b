"""The booking pipeline's phases end to end with an in-memory store: every issue-2 rule and its contract error."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from booking_core.domain.bookings import CreateBookingInput
from booking_core.errors import DomainError
from booking_core.pipeline.runner import create_booking
from booking_core.timeutil import to_minutes
from tests.unit.fakes import InMemoryStore

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)  # a Tuesday; London is on UTC in December
WED = "2026-12-02"


def request(event_type_id: int = 1, start: str = f"{WED}T10:00:00Z", email: str = "jane@example.org", **extra):
    return CreateBookingInput.model_validate(
        {
            "start": start,
            "eventTypeId": event_type_id,
            "attendee": {"name": "Jane", "email": email, "timeZone": "Europe/Paris"},
            **extra,
        }
    )


def book(store: InMemoryStore, **kwargs):
    return create_booking(request(**kwargs), store, NOW)


def refused(store: InMemoryStore, **kwargs) -> str:
    with pytest.raises(DomainError) as caught:
        book(store, **kwargs)
    return caught.value.code


def test_single_host_booking_writes_booking_locks_and_event(store):
    outcome = book(store)
    booking = outcome.booking
    assert outcome.created
    assert booking.status == "accepted"
    assert [h.id for h in booking.hosts] == [1]
    assert booking.start == datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
    assert booking.end - booking.start == timedelta(minutes=30)
    assert booking.title == "Meeting between Alice and Jane"
    # one lock per 5-minute bucket of 10:00-10:30 for host 1
    start = to_minutes(booking.start)
    assert sorted(store.locks) == [(1, start + 5 * i) for i in range(6)]
    assert [e.detail_type for e in store.outbox] == ["bookingCreated"]
    detail = json.loads(store.outbox[0].detail_json)
    assert detail["booking"]["uid"] == booking.uid
    assert detail["booking"]["organizer"]["id"] == 1
    assert detail["context"]["triggeredBy"] == "booker"
    assert detail["version"] == 1 and detail["previousBooking"] is None


def test_unknown_event_type(store):
    assert refused(store, event_type_id=99) == "event_type_not_found"


def test_type_without_hosts_cannot_be_booked(store):
    store.add_event_type(2, scheduling_type="collective", hosts=[])
    assert refused(store, event_type_id=2) == "event_type_no_hosts"


def test_locked_host_is_never_booked(store):
    store.add_host(1, locked=True)
    assert refused(store) == "event_type_no_hosts"


def test_past_start_is_checked_before_any_other_rule(store):
    assert refused(store, start="2026-11-30T10:00:00Z", lengthInMinutes=45) == "booking_in_past"


def test_minimum_notice(store):
    store.add_event_type(1, owner_id=1, minimum_booking_notice=3 * 60)
    assert refused(store, start="2026-12-01T10:00:00Z") == "booking_time_out_of_bounds_error"
    assert book(store, start="2026-12-01T11:00:00Z").created


def test_booking_window_calendar_days(store):
    store.add_event_type(1, owner_id=1, booking_window={"type": "calendarDays", "value": 7})
    assert refused(store, start="2026-12-10T10:00:00Z") == "booking_time_out_of_bounds_error"
    assert book(store, start="2026-12-08T10:00:00Z").created


def test_booking_window_range(store):
    store.add_event_type(1, owner_id=1, booking_window={"type": "range", "value": ["2026-12-03", "2026-12-04"]})
    assert refused(store) == "booking_time_out_of_bounds_error"
    assert book(store, start="2026-12-03T10:00:00Z").created


def test_length_must_be_offered(store):
    assert refused(store, lengthInMinutes=45) == "invalid_event_length"
    store.add_event_type(1, owner_id=1, length_in_minutes_options=[30, 60])
    booking = book(store, lengthInMinutes=60).booking
    assert booking.duration == 60 and booking.end - booking.start == timedelta(minutes=60)


def test_outside_working_hours(store):
    assert refused(store, start=f"{WED}T18:00:00Z") == "no_available_users_found_error"
    assert refused(store, start=f"{WED}T16:45:00Z") == "no_available_users_found_error"  # would end at 17:15


def test_start_off_the_slot_grid_is_not_bookable(store):
    assert refused(store, start=f"{WED}T10:10:00Z") == "no_available_users_found_error"


def test_buffers_block_neighbouring_slots(store):
    store.add_event_type(1, owner_id=1, after_event_buffer=15, before_event_buffer=0)
    assert book(store).created  # 10:00-10:30, holds until 10:45
    assert refused(store, start=f"{WED}T10:30:00Z", email="other@example.org") == "no_available_users_found_error"
    assert book(store, start=f"{WED}T11:00:00Z", email="other@example.org").created


def test_before_buffer_of_the_new_booking_counts(store):
    assert book(store, start=f"{WED}T10:00:00Z").created  # 10:00-10:30, no buffers
    store.add_event_type(1, owner_id=1, before_event_buffer=15)
    assert refused(store, start=f"{WED}T10:30:00Z", email="b@example.org") == "no_available_users_found_error"


def test_collective_needs_every_host(store):
    store.add_host(2, name="Bob")
    store.add_event_type(3, scheduling_type="collective", hosts=[{"user_id": 1}, {"user_id": 2}])
    assert book(store, event_type_id=1).created  # Alice busy 10:00-10:30
    assert refused(store, event_type_id=3, email="c@example.org") == "fixed_hosts_unavailable_for_booking"
    booking = book(store, event_type_id=3, start=f"{WED}T11:00:00Z").booking
    assert [h.id for h in booking.hosts] == [1, 2]
    assert {host for host, _ in store.locks if store.locks[(host, _)] == booking.uid} == {1, 2}


def test_round_robin_spreads_bookings_evenly():
    store = InMemoryStore()
    for host in (1, 2, 3):
        store.add_host(host)
    store.add_event_type(5, scheduling_type="roundRobin", hosts=[{"user_id": h} for h in (1, 2, 3)])
    chosen = [
        book(store, event_type_id=5, start=f"{WED}T{9 + i:02d}:00:00Z", email=f"b{i}@example.org").booking.hosts[0].id
        for i in range(6)
    ]
    assert sorted(chosen.count(h) for h in (1, 2, 3)) == [2, 2, 2]


def test_round_robin_skips_busy_hosts_and_reports_when_none_is_free():
    store = InMemoryStore()
    store.add_host(1)
    store.add_host(2)
    store.add_event_type(1, owner_id=1)
    store.add_event_type(2, owner_id=2)
    store.add_event_type(5, scheduling_type="roundRobin", hosts=[{"user_id": 1}, {"user_id": 2}])
    book(store, event_type_id=1)  # host 1 busy at 10:00
    assert book(store, event_type_id=5, email="x@example.org").booking.hosts[0].id == 2
    assert refused(store, event_type_id=5, email="y@example.org") == "round_robin_host_unavailable_for_booking"


def test_round_robin_mandatory_host_must_be_free():
    store = InMemoryStore()
    for host in (1, 2, 3):
        store.add_host(host)
    store.add_event_type(1, owner_id=1)
    store.add_event_type(5, scheduling_type="roundRobin",
                         hosts=[{"user_id": 1, "mandatory": True}, {"user_id": 2}, {"user_id": 3}])
    book(store, event_type_id=1)
    assert refused(store, event_type_id=5, email="x@example.org") == "fixed_hosts_unavailable_for_booking"
    booking = book(store, event_type_id=5, start=f"{WED}T11:00:00Z", email="x@example.org").booking
    assert booking.hosts[0].id == 1 and booking.hosts[1].id in {2, 3}  # fixed host first


def test_round_robin_moves_on_when_the_chosen_host_was_taken_meanwhile():
    store = InMemoryStore()
    store.add_host(1)
    store.add_host(2)
    store.add_event_type(5, scheduling_type="roundRobin", hosts=[{"user_id": 1, "priority": 4}, {"user_id": 2}])
    # host 1 ranks first, but another booking took its lock after availability was read
    start = to_minutes(datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc))
    store.locks[(1, start)] = "someone-else"
    assert book(store, event_type_id=5).booking.hosts[0].id == 2


def test_same_attendee_same_slot_returns_the_existing_booking(store):
    first = book(store)
    again = book(store, email="JANE@example.org")
    assert not again.created
    assert again.booking.uid == first.booking.uid
    assert len(store.bookings) == 1 and len(store.outbox) == 1


def test_other_attendee_same_slot_is_refused(store):
    book(store)
    assert refused(store, email="someone@example.org") == "no_available_users_found_error"


def test_dry_run_writes_nothing(store):
    outcome = book(store, isDryRun=True)
    assert outcome.booking.is_dry_run is True
    assert outcome.booking.public()["isDryRun"] is True
    assert store.bookings == {} and store.locks == {} and store.outbox == []
    assert "next_booking_id" not in store.calls and "create_booking" not in store.calls


def test_guests_who_are_hosts_are_dropped(store):
    booking = book(store, guests=["host1@example.com", "friend@example.org", "FRIEND@example.org"]).booking
    assert booking.guests == ["friend@example.org"]


def test_disable_guests_rejects_guests(store):
    store.add_event_type(1, owner_id=1, disable_guests=True)
    assert refused(store, guests=["friend@example.org"]) == "request_body_invalid_error"


def test_seats_with_recurrence_is_an_invalid_combination(store):
    store.add_event_type(1, owner_id=1, seats={"seats_per_time_slot": 3},
                         recurrence={"frequency": "weekly", "interval": 1, "occurrences": 3})
    assert refused(store) == "recurring_event_seats_error"


def test_slot_in_the_booker_offset_is_the_same_instant(store):
    booking = book(store, start=f"{WED}T11:00:00+01:00").booking
    assert booking.start == datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)


def test_host_schedule_in_another_time_zone():
    store = InMemoryStore()
    store.add_host(1, time_zone="America/New_York")  # 09:00-17:00 New York = 14:00-22:00 UTC in December
    store.add_event_type(1, owner_id=1)
    with pytest.raises(DomainError):
        create_booking(request(start=f"{WED}T10:00:00Z"), store, NOW)
    assert create_booking(request(start=f"{WED}T14:00:00Z"), store, NOW).created
