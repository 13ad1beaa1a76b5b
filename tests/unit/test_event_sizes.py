"""Events always fit PutEvents: the detail is cut to a budget, calls are batched by bytes, and an event that still
could not be published is recognised (the publisher parks it in its DLQ; tests/integration/test_outbox_publishing)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from booking_core.domain.bookings import Attendee, BookingRecord, EventTypeRef, HostRef
from booking_core.events.contracts import MAX_DETAIL_BYTES, BookingEventDetail, new_event
from booking_core.events.publisher import PUT_EVENTS_MAX_BYTES, PendingEvent, batches, entry_size, publishable

NOW = datetime(2030, 1, 2, 9, 0, tzinfo=timezone.utc)


def record(attendees: int = 1, metadata_bytes: int = 0) -> BookingRecord:
    people = [Attendee(name=f"Attendee {i:04d} " + "x" * 150, email=f"attendee{i:04d}@" + "d" * 60 + ".example",
                       time_zone="Europe/London") for i in range(attendees)]
    host = HostRef(id=1, name="Host", email="host@example.com", time_zone="UTC")
    return BookingRecord(
        id=1, uid="u" * 22, title="Webinar", status="accepted", start=NOW, end=NOW, duration=60, event_type_id=1,
        event_type=EventTypeRef(id=1, slug="webinar"), hosts=[host], attendees=people,
        metadata={f"k{i}": "v" * 500 for i in range(metadata_bytes // 500)}, created_at=NOW, updated_at=NOW,
        busy_start_min=0, busy_end_min=60,
    )


def test_an_ordinary_event_is_untouched():
    event = new_event("bookingCreated", record(attendees=3), occurred_at=NOW)
    detail = json.loads(event.detail_json)
    assert "truncated" not in detail and len(detail["booking"]["attendees"]) == 3


def test_a_large_previous_booking_shrinks_to_its_summary_first():
    big = record(attendees=1, metadata_bytes=25_000)  # every field at its schema bound
    moved = record(attendees=1, metadata_bytes=25_000)
    hosts = [HostRef(id=i, name="H" * 200, email=f"host{i:03d}@" + "h" * 200 + ".example", time_zone="UTC")
             for i in range(100)]  # a collective type at the 100-host bound, long names: both sides of a reschedule
    for booking in (big, moved):
        booking.hosts = hosts
        booking.booking_fields_responses = {f"q{i}": "a" * 300 for i in range(50)}
        booking.guests = [f"guest{i:02d}@" + "g" * 240 + ".example" for i in range(30)]
        booking.description, booking.location = "d" * 5000, "l" * 1000
        booking.cancellation_reason = booking.rescheduling_reason = "r" * 2000
    event = new_event("bookingRescheduled", moved, occurred_at=NOW, previous=big)
    detail = json.loads(event.detail_json)
    assert len(event.detail_json) <= MAX_DETAIL_BYTES
    assert detail["truncated"] == ["previousBooking"]
    assert set(detail["previousBooking"]) <= {"id", "uid", "status", "start", "end", "duration", "eventTypeId",
                                             "location", "meetingUrl", "rescheduledToUid", "rescheduledFromUid",
                                             "iCalUID", "iCalSequence", "seatUid", "organizer"}
    parsed = BookingEventDetail.model_validate(detail)  # subscribers still parse it
    assert parsed.previous_booking is not None and parsed.previous_booking.uid == big.uid
    assert parsed.previous_booking.organizer.id == 0  # whose calendar a reassigned booking leaves


def test_a_host_cancelling_a_thousand_seats_publishes_a_cut_attendee_list_and_says_so():
    event = new_event("bookingCancelled", record(attendees=1000), occurred_at=NOW)
    detail = json.loads(event.detail_json)
    assert len(event.detail_json) <= MAX_DETAIL_BYTES
    assert detail["truncated"] == ["booking.attendees"] and detail["booking"]["attendeesTotal"] == 1000
    assert 0 < len(detail["booking"]["attendees"]) < 1000
    assert BookingEventDetail.model_validate(detail).booking.attendees_total == 1000


def pending(index: int, detail_bytes: int) -> PendingEvent:
    return PendingEvent(sequence_number=str(index), event_id=f"e{index}", detail_type="bookingCreated",
                        detail=json.dumps({"pad": "x" * detail_bytes}), created_at="2030-01-02T09:00:00.000Z")


def test_put_events_calls_are_batched_by_bytes_as_well_as_by_count():
    events = [pending(i, 60_000) for i in range(9)]  # nine entries of ~60 KB: four fit one 256 KB call
    groups = batches(events, "bus")
    assert [len(group) for group in groups] == [4, 4, 1]
    for group in groups:
        assert sum(entry_size(e, "bus") for e in group) <= PUT_EVENTS_MAX_BYTES
    small = [pending(i, 10) for i in range(25)]
    assert [len(group) for group in batches(small, "bus")] == [10, 10, 5]


def test_an_event_over_the_limit_is_not_publishable_and_gets_a_call_of_its_own():
    huge = pending(1, 301 * 1024)
    assert not publishable(huge, "bus") and publishable(pending(2, 200_000), "bus")
    assert [len(group) for group in batches([pending(0, 10), huge, pending(2, 10)], "bus")] == [1, 1, 1]
