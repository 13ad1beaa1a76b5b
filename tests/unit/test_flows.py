"""Issue 3 flows at the unit level: seats, reschedule (single and seat), cancel, recurring series."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from booking_core.domain.bookings import CancelInput, CreateBookingInput, RescheduleInput
from booking_core.errors import DomainError
from booking_core.pipeline.runner import create_booking, reschedule_booking
from booking_core.services.bookings import get_booking
from booking_core.services.changes import cancel, confirm
from booking_core.services.retry import ATTEMPTS
from booking_core.timeutil import to_minutes
from tests.unit.fakes import CALENDAR_EVENT, InMemoryStore, written_meanwhile

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)  # Tuesday
WED = "2026-12-02"


def body(event_type_id: int = 1, start: str = f"{WED}T10:00:00Z", email: str = "jane@example.org", **extra):
    return CreateBookingInput.model_validate({
        "start": start, "eventTypeId": event_type_id,
        "attendee": {"name": email.split("@")[0], "email": email, "timeZone": "Europe/Paris"}, **extra})


def book(store, **kwargs):
    return create_booking(body(**kwargs), store, NOW)


def refused(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def reschedule(store, uid, start, now=NOW, **extra):
    return reschedule_booking(uid, RescheduleInput.model_validate({"start": start, **extra}), store, now)


# -- seats ----------------------------------------------------------------------------------------------------------
@pytest.fixture
def seated(store) -> InMemoryStore:
    store.add_event_type(2, owner_id=1, seats={"seats_per_time_slot": 3})
    return store


def test_first_attendee_opens_later_ones_join(seated):
    first = book(seated, event_type_id=2, email="a@x.org")
    second = book(seated, event_type_id=2, email="b@x.org")
    assert first.booking.uid == second.booking.uid
    assert first.seat_uid and second.seat_uid and first.seat_uid != second.seat_uid
    assert first.booking.seats_remaining == 2 and second.booking.seats_remaining == 1
    assert [a.email for a in second.booking.attendees] == ["b@x.org"]  # showAttendeeInfo is off
    events = [json.loads(e.detail_json) for e in seated.outbox]
    assert [e["context"]["seatUid"] for e in events] == [first.seat_uid, second.seat_uid]
    assert len(seated.bookings) == 1


def test_full_and_repeated_seats_are_refused(seated):
    for email in ("a@x.org", "b@x.org", "c@x.org"):
        book(seated, event_type_id=2, email=email)
    assert refused(lambda: book(seated, event_type_id=2, email="d@x.org")) == "booking_seats_full_error"
    assert refused(lambda: book(seated, event_type_id=2, email="A@x.org")) == "already_signed_up_for_this_booking_error"


def test_seated_booking_blocks_other_times_of_its_host(seated):
    book(seated, event_type_id=2, email="a@x.org")
    assert refused(lambda: book(seated, event_type_id=1, email="b@x.org")) == "no_available_users_found_error"


def test_show_attendee_info_lists_everyone(seated):
    seated.add_event_type(2, owner_id=1, seats={"seats_per_time_slot": 3, "show_attendee_info": True})
    book(seated, event_type_id=2, email="a@x.org")
    second = book(seated, event_type_id=2, email="b@x.org")
    assert {a.email for a in second.booking.attendees} == {"a@x.org", "b@x.org"}


def test_cancelling_a_seat_releases_only_that_seat(seated):
    first = book(seated, event_type_id=2, email="a@x.org")
    second = book(seated, event_type_id=2, email="b@x.org")
    uid = first.booking.uid
    cancelled = cancel(seated, uid, CancelInput(seat_uid=first.seat_uid), NOW)
    assert cancelled["status"] == "cancelled" and cancelled["seatUid"] == first.seat_uid
    assert seated.bookings[uid].status == "accepted"
    assert get_booking(seated, uid, second.seat_uid)["seatsRemaining"] == 2
    cancel(seated, uid, CancelInput(seat_uid=second.seat_uid), NOW)  # the last seat: the booking goes
    assert seated.bookings[uid].status == "cancelled"
    assert book(seated, event_type_id=1, email="c@x.org").created  # the host is free again


# -- reschedule -----------------------------------------------------------------------------------------------------
def test_reschedule_moves_the_booking_in_one_write(store):
    original = book(store).booking
    writes = store.calls.count("write")
    assert refused(lambda: reschedule(store, original.uid, f"{WED}T10:15:00Z")) == "no_available_users_found_error"
    new = reschedule(store, original.uid, f"{WED}T10:30:00Z", reschedulingReason="clash").booking
    assert store.calls.count("write") == writes + 1
    old = store.bookings[original.uid]
    assert old.status == "cancelled" and old.rescheduled_to_uid == new.uid
    assert new.rescheduled_from_uid == original.uid and new.status == "accepted"
    assert new.rescheduling_reason == "clash"
    # the 10:30 lock passed from the old booking to the new one; 10:00-10:30 is free again
    start = to_minutes(new.start)
    assert store.locks[(1, start)] == new.uid
    assert (1, to_minutes(original.start)) not in store.locks
    event = json.loads(store.outbox[-1].detail_json)
    assert store.outbox[-1].detail_type == "bookingRescheduled"
    assert event["previousBooking"]["uid"] == original.uid and event["booking"]["uid"] == new.uid
    assert book(store, email="other@example.org").created  # the old slot


def test_reschedule_ignores_the_booking_being_moved(store):
    store.add_event_type(1, owner_id=1, length_in_minutes=60, slot_interval=30)
    original = book(store).booking  # 10:00-11:00
    assert reschedule(store, original.uid, f"{WED}T10:30:00Z").booking.start.minute == 30


def test_cancelled_booking_cannot_be_rescheduled(store):
    original = book(store).booking
    cancel(store, original.uid, CancelInput(cancellation_reason="no"), NOW)
    assert refused(lambda: reschedule(store, original.uid, f"{WED}T11:00:00Z")) == \
        "cancelled_bookings_cannot_be_rescheduled"


def test_minimum_reschedule_notice(store):
    store.add_event_type(1, owner_id=1, minimum_reschedule_notice=24 * 60)
    original = book(store).booking  # starts in 26 hours
    late = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)  # 22 hours before
    assert refused(lambda: reschedule(store, original.uid, f"{WED}T11:00:00Z", now=late)) == \
        "reschedule_notice_too_short"
    assert reschedule(store, original.uid, f"{WED}T11:00:00Z").created


def test_confirmation_rules_apply_to_the_new_time(store):
    store.add_event_type(1, owner_id=1, confirmation_policy={"type": "time",
                                                             "notice_threshold": {"unit": "hours", "count": 48}})
    original = book(store, start="2026-12-04T10:00:00Z").booking
    assert original.status == "accepted"
    moved = reschedule(store, original.uid, f"{WED}T10:00:00Z").booking
    assert moved.status == "pending"


def test_booker_limit_is_not_applied_to_reschedules(store):
    store.add_event_type(1, owner_id=1, booker_active_bookings_limit={"maximum_active_bookings": 1})
    original = book(store).booking
    assert reschedule(store, original.uid, f"{WED}T14:00:00Z").created


def test_reschedule_a_seat_joins_or_opens_and_closes_the_old_booking(store):
    store.add_event_type(2, owner_id=1, seats={"seats_per_time_slot": 3})
    a = book(store, event_type_id=2, email="a@x.org")
    b = book(store, event_type_id=2, email="b@x.org")
    c = book(store, event_type_id=2, start=f"{WED}T14:00:00Z", email="c@x.org")
    moved_a = reschedule(store, a.booking.uid, f"{WED}T14:00:00Z", seatUid=a.seat_uid)
    assert moved_a.booking.uid == c.booking.uid  # joined the 14:00 booking
    assert store.bookings[a.booking.uid].status == "accepted"  # b still sits there
    moved_b = reschedule(store, b.booking.uid, f"{WED}T15:00:00Z", seatUid=b.seat_uid)
    assert moved_b.booking.uid not in (a.booking.uid, c.booking.uid)  # opened a new booking
    assert store.bookings[a.booking.uid].status == "cancelled"  # its last seat left
    assert store.bookings[a.booking.uid].rescheduled_to_uid == moved_b.booking.uid
    assert refused(lambda: reschedule(store, c.booking.uid, f"{WED}T16:00:00Z")) == "request_body_invalid_error"


# -- cancel ---------------------------------------------------------------------------------------------------------
def test_cancel_frees_the_slot_at_once_and_is_idempotent(store):
    original = book(store).booking
    result = cancel(store, original.uid, CancelInput(cancellation_reason="sick"), NOW)
    assert result["status"] == "cancelled" and result["cancellationReason"] == "sick"
    assert store.outbox[-1].detail_type == "bookingCancelled"
    again = cancel(store, original.uid, CancelInput(), NOW)
    assert again["status"] == "cancelled" and len(store.outbox) == 2
    again_booked = book(store)  # the slot is free at once, and the same attendee may take it again
    assert again_booked.created and again_booked.booking.uid != original.uid


# -- a booking written by a subscriber between a change's read and its write ---------------------------------------
def test_a_cancel_is_decided_again_when_a_subscriber_wrote_the_booking_meanwhile(store):
    original = book(store).booking
    meanwhile = written_meanwhile(store, original.uid)
    result = cancel(store, original.uid, CancelInput(cancellation_reason="sick"), NOW)
    assert meanwhile == [1] and result["status"] == "cancelled"
    stored = store.bookings[original.uid]
    assert stored.status == "cancelled" and stored.references == [CALENDAR_EVENT]  # neither write lost
    assert [e.detail_type for e in store.outbox].count("bookingCancelled") == 1


def test_a_reschedule_is_decided_again_when_a_subscriber_wrote_the_original_meanwhile(store):
    original = book(store).booking
    meanwhile = written_meanwhile(store, original.uid)
    moved = reschedule(store, original.uid, f"{WED}T14:00:00Z").booking
    assert meanwhile == [1] and moved.uid != original.uid
    left = store.bookings[original.uid]
    assert left.status == "cancelled" and left.rescheduled_to_uid == moved.uid
    assert left.references == [CALENDAR_EVENT]
    assert [e.detail_type for e in store.outbox].count("bookingRescheduled") == 1


def test_a_change_whose_booking_keeps_changing_is_refused_with_409_and_writes_nothing(store):
    store.add_event_type(4, owner_id=1, confirmation_policy={"type": "always"})
    pending = book(store, event_type_id=4).booking
    events = len(store.outbox)
    meanwhile = written_meanwhile(store, pending.uid, times=ATTEMPTS)
    assert refused(lambda: confirm(store, pending.uid, NOW)) == "conflict_error"
    assert meanwhile == [1] * ATTEMPTS
    assert store.bookings[pending.uid].status == "pending" and len(store.outbox) == events


# -- recurring ------------------------------------------------------------------------------------------------------
@pytest.fixture
def weekly(store) -> InMemoryStore:
    store.add_event_type(3, owner_id=1, recurrence={"frequency": "weekly", "interval": 1, "occurrences": 6})
    return store


def test_recurring_series_is_created_together(weekly):
    outcome = book(weekly, event_type_id=3, recurrenceCount=4)
    starts = [b.start.isoformat() for b in outcome.bookings]
    assert starts == ["2026-12-02T10:00:00+00:00", "2026-12-09T10:00:00+00:00", "2026-12-16T10:00:00+00:00",
                      "2026-12-23T10:00:00+00:00"]
    assert len({b.recurring_booking_uid for b in outcome.bookings}) == 1 and outcome.booking.recurring_booking_uid
    assert len({b.id for b in outcome.bookings}) == 4
    assert weekly.calls.count("write") == 1


def test_recurring_series_is_all_or_nothing(weekly):
    book(weekly, event_type_id=1, start="2026-12-16T10:00:00Z", email="other@x.org")  # the third week is taken
    assert refused(lambda: book(weekly, event_type_id=3, recurrenceCount=4)) == "no_available_users_found_error"
    assert len(weekly.bookings) == 1


def test_recurrence_count_bounds(weekly):
    assert refused(lambda: book(weekly, event_type_id=3, recurrenceCount=7)) == "request_body_invalid_error"
    assert refused(lambda: book(weekly, event_type_id=1, recurrenceCount=2)) == "request_body_invalid_error"
    assert len(book(weekly, event_type_id=3).bookings) == 6  # default: every occurrence


def test_recurring_keeps_the_local_time_across_dst():
    store = InMemoryStore()
    store.add_host(1, time_zone="Europe/Berlin", days=["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"])
    store.add_event_type(3, owner_id=1, recurrence={"frequency": "weekly", "interval": 1, "occurrences": 3})
    now = datetime(2027, 3, 15, 8, 0, tzinfo=timezone.utc)
    outcome = create_booking(body(event_type_id=3, start="2027-03-22T09:00:00+01:00"), store, now)
    assert [b.start.hour for b in outcome.bookings] == [8, 7, 7]  # 09:00 Berlin before and after 28 March


def test_dry_run_of_a_series_writes_nothing(weekly):
    outcome = book(weekly, event_type_id=3, recurrenceCount=2, isDryRun=True)
    assert len(outcome.bookings) == 2 and all(b.is_dry_run for b in outcome.bookings)
    assert weekly.bookings == {} and "write" not in weekly.calls
