"""Host operations through the services with the in-memory store: each is one write carrying its event; reassign
moves locks and counters; request-reschedule releases the booking and lets its booker move it once; a series is
cancelled from one occurrence on in one write."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from booking_core.domain.bookings import (
    AddGuestsInput,
    CancelInput,
    CreateBookingInput,
    LocationInput,
    MarkAbsentInput,
    ReassignInput,
    RequestRescheduleInput,
    RescheduleInput,
)
from booking_core.errors import DomainError
from booking_core.pipeline.runner import create_booking, reschedule_booking
from booking_core.services import host_operations as ops
from booking_core.services.changes import cancel, request_reschedule
from booking_core.timeutil import to_minutes
from tests.unit.fakes import CALENDAR_EVENT, written_meanwhile

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)  # Tuesday
WED = "2026-12-02"


def book(store, event_type_id=1, start=f"{WED}T10:00:00Z", email="jane@example.org", **extra):
    return create_booking(CreateBookingInput.model_validate({
        "start": start, "eventTypeId": event_type_id,
        "attendee": {"name": "Jane", "email": email, "timeZone": "Europe/Paris"}, **extra}), store, NOW)


def code(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def events(store, since: int = 0) -> list[tuple[str, dict]]:
    return [(e.detail_type, json.loads(e.detail_json)) for e in store.outbox[since:]]


@pytest.fixture
def pool(store):
    for host in (2, 3, 4):
        store.add_host(host)
    store.add_event_type(5, scheduling_type="roundRobin", hosts=[{"user_id": h} for h in (2, 3, 4)])
    return store


def test_reassign_hands_the_booking_to_the_next_free_host_in_one_write(pool):
    booking = book(pool, event_type_id=5).booking
    assert booking.hosts[0].id == 2
    start = to_minutes(booking.start)
    writes, since = pool.calls.count("write"), len(pool.outbox)
    moved = ops.reassign(pool, booking.uid, ReassignInput(reason="ill"), NOW)
    assert [h["id"] for h in moved["hosts"]] == [3] and pool.calls.count("write") == writes + 1
    assert pool.locks[(3, start)] == booking.uid and (2, start) not in pool.locks
    assert [b.uid for b in pool.host_bookings_of(3)] == [booking.uid] and pool.host_bookings_of(2) == []
    period = booking.start.strftime("%Y-%m")
    assert (pool.rr_counts[(5, period, 2)], pool.rr_counts[(5, period, 3)]) == (0, 1)
    [(kind, detail)] = events(pool, since)
    assert kind == "bookingReassigned" and detail["context"]["reassignReason"] == "ill"
    assert detail["previousBooking"]["hosts"][0]["id"] == 2 and detail["booking"]["hosts"][0]["id"] == 3


def test_reassign_to_a_chosen_host_only_when_they_are_a_free_pool_host(pool):
    store = pool
    booking = book(store, event_type_id=5).booking
    store.add_event_type(6, owner_id=4)
    book(store, event_type_id=6, email="other@example.org")  # host 4 is busy at 10:00
    assert code(lambda: ops.reassign(store, booking.uid, ReassignInput(user_id=4), NOW)) == (
        "round_robin_host_unavailable_for_booking")
    assert code(lambda: ops.reassign(store, booking.uid, ReassignInput(user_id=1), NOW)) == (
        "round_robin_host_unavailable_for_booking")  # not a host of the type
    store.add_host(3, locked=True)
    assert code(lambda: ops.reassign(store, booking.uid, ReassignInput(), NOW)) == (
        "round_robin_host_unavailable_for_booking")  # 3 is locked, 4 busy: nobody left
    assert store.bookings[booking.uid].hosts[0].id == 2


def test_a_host_taken_meanwhile_is_skipped_for_the_next_one(pool, monkeypatch):
    booking = book(pool, event_type_id=5).booking
    start = to_minutes(booking.start)
    real_write = pool.write

    def racing_write(plan):
        if plan.reassignments and (3, start) not in pool.locks:
            pool.locks[(3, start)] = "someone-else"  # host 3 booked between the read and the write
        return real_write(plan)

    monkeypatch.setattr(pool, "write", racing_write)
    moved = ops.reassign(pool, booking.uid, ReassignInput(), NOW)
    assert [h["id"] for h in moved["hosts"]] == [4]


def test_mark_absent_rules(store):
    booking = book(store).booking
    later = booking.start + timedelta(minutes=5)
    assert code(lambda: ops.mark_absent(store, booking.uid, MarkAbsentInput(host=True), NOW)) == "booking_not_started"
    marked = ops.mark_absent(store, booking.uid, MarkAbsentInput.model_validate(
        {"attendees": [{"email": "JANE@example.org", "absent": True}]}), later)
    assert marked["attendees"][0]["absent"] is True and marked["absentHost"] is False
    [(kind, detail)] = events(store, len(store.outbox) - 1)
    assert kind == "bookingNoShowUpdated"
    assert detail["context"]["noShow"] == {"host": None, "attendees": [{"email": "JANE@example.org", "noShow": True}]}
    writes = store.calls.count("write")
    ops.mark_absent(store, booking.uid, MarkAbsentInput.model_validate(
        {"attendees": [{"email": "jane@example.org", "absent": True}]}), later)
    assert store.calls.count("write") == writes  # nothing changed: no write, no event


def test_request_reschedule_then_the_booker_moves_it_once(store):
    booking = book(store).booking
    start = to_minutes(booking.start)
    asked = request_reschedule(store, booking.uid, RequestRescheduleInput(reason="away"), NOW)
    assert asked["status"] == "cancelled" and asked["rescheduleRequested"] is True
    assert (1, start) not in store.locks  # the slot is free at once
    kind, detail = events(store)[-1]
    assert kind == "bookingCancelled" and detail["context"]["triggeredBy"] == "host"
    assert detail["booking"]["rescheduleRequested"] is True
    moved = reschedule_booking(booking.uid, RescheduleInput.model_validate({"start": f"{WED}T11:00:00Z"}), store,
                               NOW).booking
    assert moved.rescheduled_from_uid == booking.uid and store.bookings[booking.uid].rescheduled_to_uid == moved.uid
    assert store.locks[(1, to_minutes(moved.start))] == moved.uid
    assert code(lambda: reschedule_booking(booking.uid, RescheduleInput.model_validate(
        {"start": f"{WED}T12:00:00Z"}), store, NOW)) == "cancelled_bookings_cannot_be_rescheduled"


def test_guests_and_location_are_one_write_with_a_higher_sequence(store):
    booking = book(store, guests=["a@example.org"]).booking
    added = ops.add_guests(store, booking.uid, AddGuestsInput.model_validate(
        {"guests": [{"email": "b@example.org"}, {"email": "A@example.org"}]}), NOW)
    assert added["guests"] == ["a@example.org", "b@example.org"] and added["iCalSequence"] == 1
    kind, detail = events(store)[-1]
    assert kind == "bookingUpdated" and detail["previousBooking"]["guests"] == ["a@example.org"]
    located = ops.change_location(store, booking.uid, LocationInput(location="Office"), NOW)
    assert located["location"] == "Office" and located["iCalSequence"] == 2
    assert events(store)[-1][1]["previousBooking"]["location"] is None


def test_a_host_operation_is_decided_again_when_a_subscriber_wrote_the_booking_meanwhile(store):
    booking = book(store).booking
    meanwhile = written_meanwhile(store, booking.uid)
    added = ops.add_guests(store, booking.uid, AddGuestsInput.model_validate({"guests": [{"email": "b@example.org"}]}),
                           NOW)
    assert meanwhile == [1] and added["guests"] == ["b@example.org"]
    stored = store.bookings[booking.uid]
    assert stored.guests == ["b@example.org"] and stored.references == [CALENDAR_EVENT]  # neither write lost
    assert [kind for kind, _ in events(store)].count("bookingUpdated") == 1


def test_a_series_is_cancelled_from_an_occurrence_on_in_one_write(store):
    store.add_event_type(7, owner_id=1, recurrence={"frequency": "weekly", "interval": 1, "occurrences": 3},
                         booking_limits_count={"month": 10})
    series = book(store, event_type_id=7).bookings

    class Listing:
        def series(self, series_uid, from_min=None, active_only=False):
            return [store.get_booking(b.uid) for b in series if to_minutes(b.start) >= (from_min or 0)]

    limits_before = dict(store.limits)
    writes = store.calls.count("write")
    cancelled = cancel(store, series[1].uid, CancelInput(cancel_subsequent_bookings=True), NOW, listing=Listing())
    assert [b["uid"] for b in cancelled] == [b.uid for b in series[1:]]
    assert store.calls.count("write") == writes + 1
    assert [store.bookings[b.uid].status for b in series] == ["accepted", "cancelled", "cancelled"]
    assert [kind for kind, _ in events(store)[-2:]] == ["bookingCancelled", "bookingCancelled"]
    assert sum(c.count for c in store.limits.values()) == sum(c.count for c in limits_before.values()) - 2


def test_the_event_type_bound_counts_every_item_the_create_transaction_writes(store, monkeypatch):
    """A collective booking writes a listing entry per co-host: the bound checked when an event type is saved
    (transaction_items_needed) counts them, so a type that passes it is always bookable in one transaction."""
    from booking_core.domain.event_types import EventTypeInput
    from booking_core.repositories.bookings import _Operations
    from booking_core.services.management import transaction_items_needed

    for host in range(2, 6):
        store.add_host(host)
    fields = {"title": "T", "slug": "t", "length_in_minutes": 60, "scheduling_type": "collective",
              "hosts": [{"user_id": h} for h in range(1, 6)]}
    store.add_event_type(8, **fields)
    plans = []
    real_write = store.write
    monkeypatch.setattr(store, "write", lambda plan: (plans.append(plan), real_write(plan)))
    book(store, event_type_id=8)
    written = _Operations.build(plans[0])
    count = len(written.ops) + len(written.outbox)
    assert sum(1 for key in written.ops if key[1].startswith("HOST#")) == 4  # the co-hosts' listing entries
    assert count <= transaction_items_needed(EventTypeInput(**fields))
