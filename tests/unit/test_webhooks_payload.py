"""cal.com-compatible webhook bodies: the trigger per bus event, the payload shape for every trigger, reschedule and
cancellation fields, MEETING_STARTED / MEETING_ENDED from a stored booking, and the exact bytes that get signed."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import get_args

import pytest

from booking_core.domain.bookings import BookingRecord
from booking_core.domain.webhooks import Trigger
from booking_core.events.contracts import DETAIL_TYPES, MEETING_CREATED, BookingEvent
from booking_core.webhooks.payload import (
    MEETING_TRIGGERS,
    OOO_TRIGGER,
    TRIGGERS,
    booking_payload,
    build_meeting_payload,
    build_payload,
    to_json,
)

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2027, 1, 10, 8, 0, 0, 123000, tzinfo=timezone.utc)
ALICE = {"id": 11, "name": "Alice Host", "email": "alice@example.com", "timeZone": "America/New_York", "locale": "fr"}
BOB = {"id": 12, "name": "Bob Cohost", "email": "bob@example.com", "timeZone": "Asia/Tokyo", "locale": "ja"}


def booking_doc(**changes) -> dict:
    doc = {
        "id": 501, "uid": "uid-new-000000000000000001", "title": "Intro between Alice and Jane",
        "description": "Bring notes", "status": "accepted",
        "start": "2027-01-13T09:00:00.000Z", "end": "2027-01-13T09:30:00.000Z", "duration": 30,
        "eventTypeId": 7, "eventType": {"id": 7, "slug": "intro"},
        "hosts": [ALICE], "organizer": ALICE,
        "attendees": [{"name": "Jane Booker", "email": "jane@example.com", "timeZone": "Europe/Paris",
                       "language": "de", "phoneNumber": "+442071838750"}],
        "guests": ["friend@example.com"], "location": "https://meet.jit.si/intro-1",
        "meetingUrl": "https://meet.jit.si/intro-1", "metadata": {"crm": "lead-42"},
        "bookingFieldsResponses": {"notes": "Agenda inside", "company": "Acme"},
        "createdAt": "2027-01-10T08:00:00.000Z", "updatedAt": "2027-01-10T08:00:00.000Z",
        "cancellationReason": None, "reschedulingReason": None, "rescheduledFromUid": None,
        "rescheduledToUid": None, "iCalUID": "uid-old-000000000000000001@booking-service", "iCalSequence": 0,
        "price": None, "currency": None,
    }
    doc.update(changes)
    return doc


def event(detail_type: str, booking: dict | None = None, previous: dict | None = None) -> BookingEvent:
    return BookingEvent.model_validate({
        "id": "eb-1", "detail-type": detail_type, "source": "booking-service", "time": "2027-01-10T08:00:00Z",
        "detail": {"eventId": "evt-1", "version": 1, "occurredAt": "2027-01-10T08:00:00.000Z",
                   "booking": booking or booking_doc(), "previousBooking": previous,
                   "context": {"triggeredBy": "booker"}},
    })


def test_triggers_follow_the_contract_table():
    assert TRIGGERS == {
        "bookingCreated": "BOOKING_CREATED", "bookingConfirmed": "BOOKING_CREATED",
        "bookingRequested": "BOOKING_REQUESTED", "bookingPaymentInitiated": "BOOKING_PAYMENT_INITIATED",
        "bookingPaid": "BOOKING_PAID", "bookingRejected": "BOOKING_REJECTED",
        "bookingRescheduled": "BOOKING_RESCHEDULED", "bookingCancelled": "BOOKING_CANCELLED",
        "bookingNoShowUpdated": "BOOKING_NO_SHOW_UPDATED", "bookingReassigned": "BOOKING_REASSIGNED",
        "bookingUpdated": "BOOKING_UPDATED",
    }
    # every booking change has its trigger; the app-sync step's follow-up releases held ones and has none of its own
    assert set(TRIGGERS) == set(DETAIL_TYPES) - {MEETING_CREATED}
    assert MEETING_TRIGGERS == ("MEETING_STARTED", "MEETING_ENDED")
    # every trigger a subscription may ask for has a payload, and nothing else does
    assert set(TRIGGERS.values()) | set(MEETING_TRIGGERS) | {OOO_TRIGGER} == set(get_args(Trigger))


def test_booking_created_has_the_contract_shape():
    body = build_payload("BOOKING_CREATED", event("bookingCreated"), created_at=NOW)
    assert set(body) == {"triggerEvent", "createdAt", "payload"}
    assert body["triggerEvent"] == "BOOKING_CREATED" and body["createdAt"] == "2027-01-10T08:00:00.123Z"
    p = body["payload"]
    contract_fields = {"type", "title", "description", "startTime", "endTime", "organizer", "attendees", "location",
                       "uid", "bookingId", "eventTypeId", "status", "length", "price", "currency", "metadata",
                       "responses"}
    assert contract_fields <= set(p)
    assert (p["type"], p["title"], p["description"]) == ("intro", "Intro between Alice and Jane", "Bring notes")
    assert (p["startTime"], p["endTime"]) == ("2027-01-13T09:00:00.000Z", "2027-01-13T09:30:00.000Z")
    assert p["organizer"] == {"id": 11, "name": "Alice Host", "email": "alice@example.com",
                              "timeZone": "America/New_York", "language": {"locale": "fr"}}
    assert p["attendees"] == [
        {"name": "Jane Booker", "email": "jane@example.com", "timeZone": "Europe/Paris", "language": {"locale": "de"}},
        # a guest, as cal.com lists them: no name, the booker's time zone
        {"name": "", "email": "friend@example.com", "timeZone": "Europe/Paris", "language": {"locale": "en"}},
    ]
    assert (p["location"], p["uid"], p["bookingId"], p["eventTypeId"]) == (
        "https://meet.jit.si/intro-1", "uid-new-000000000000000001", 501, 7)
    assert (p["status"], p["length"], p["price"], p["currency"]) == ("ACCEPTED", 30, 0, None)
    assert p["metadata"] == {"crm": "lead-42", "videoCallUrl": "https://meet.jit.si/intro-1"}
    assert p["responses"]["name"] == {"label": "your_name", "value": "Jane Booker"}
    assert p["responses"]["email"] == {"label": "email_address", "value": "jane@example.com"}
    assert p["responses"]["attendeePhoneNumber"] == {"label": "phone_number", "value": "+442071838750"}
    assert p["responses"]["location"] == {"label": "location",
                                          "value": {"optionValue": "", "value": "https://meet.jit.si/intro-1"}}
    assert p["responses"]["guests"] == {"label": "additional_guests", "value": ["friend@example.com"]}
    assert p["responses"]["notes"] == {"label": "additional_notes", "value": "Agenda inside"}
    assert p["responses"]["company"] == {"label": "company", "value": "Acme"}
    assert p["userFieldsResponses"] == {"company": {"label": "company", "value": "Acme"}}
    assert p["additionalNotes"] == "Agenda inside"
    assert (p["iCalUID"], p["iCalSequence"]) == ("uid-old-000000000000000001@booking-service", 0)
    for absent in ("rescheduleUid", "rescheduleStartTime", "rescheduleEndTime", "rescheduledBy",
                   "cancellationReason", "rejectionReason", "seatUid"):
        assert absent not in p


def test_no_meeting_link_means_no_video_call_url():
    p = build_payload("BOOKING_CREATED", event("bookingCreated", booking_doc(meetingUrl=None, metadata={})),
                      created_at=NOW)["payload"]
    assert p["metadata"] == {}


@pytest.mark.parametrize("detail_type, status, expected", [
    ("bookingCreated", "accepted", "ACCEPTED"), ("bookingConfirmed", "accepted", "ACCEPTED"),
    ("bookingRequested", "pending", "PENDING"), ("bookingPaymentInitiated", "pending", "PENDING"),
    ("bookingPaid", "accepted", "ACCEPTED"), ("bookingRejected", "rejected", "REJECTED"),
    ("bookingCancelled", "cancelled", "CANCELLED"),
])
def test_each_trigger_carries_its_status(detail_type, status, expected):
    trigger = TRIGGERS[detail_type]
    body = build_payload(trigger, event(detail_type, booking_doc(status=status)), created_at=NOW)
    assert body["triggerEvent"] == trigger and body["payload"]["status"] == expected
    json.loads(to_json(body))  # serialisable


def test_price_and_currency_come_from_the_event_or_the_caller():
    paid = event("bookingPaymentInitiated", booking_doc(status="pending", price=2500, currency="eur"))
    p = build_payload("BOOKING_PAYMENT_INITIATED", paid, created_at=NOW)["payload"]
    assert (p["price"], p["currency"]) == (2500, "EUR")  # minor units; currency upper case (contract section 1)
    p = build_payload("BOOKING_PAID", paid, price=4900, currency="gbp", created_at=NOW)["payload"]
    assert (p["price"], p["currency"]) == (4900, "GBP")
    p = build_payload("BOOKING_PAID", paid, price=None, currency=None, created_at=NOW)["payload"]
    assert (p["price"], p["currency"]) == (0, None)


def test_rescheduled_names_the_new_booking_and_the_old_one():
    old = booking_doc(id=400, uid="uid-old-000000000000000001", status="cancelled",
                      start="2027-01-12T15:00:00.000Z", end="2027-01-12T15:30:00.000Z",
                      rescheduledToUid="uid-new-000000000000000001")
    new = booking_doc(rescheduledFromUid="uid-old-000000000000000001", rescheduledBy="jane@example.com",
                      reschedulingReason="Clash", iCalSequence=1)
    p = build_payload("BOOKING_RESCHEDULED", event("bookingRescheduled", new, old), created_at=NOW)["payload"]
    assert p["uid"] == "uid-new-000000000000000001" and p["bookingId"] == 501 and p["status"] == "ACCEPTED"
    assert p["rescheduleUid"] == "uid-old-000000000000000001" and p["rescheduleId"] == 400
    assert (p["startTime"], p["rescheduleStartTime"], p["rescheduleEndTime"]) == (
        "2027-01-13T09:00:00.000Z", "2027-01-12T15:00:00.000Z", "2027-01-12T15:30:00.000Z")
    assert p["rescheduledBy"] == "jane@example.com"
    assert p["responses"]["rescheduleReason"] == {"label": "reason_for_reschedule", "value": "Clash"}
    assert p["iCalSequence"] == 1 and "cancellationReason" not in p


def test_rescheduled_by_is_left_out_when_nobody_said():
    old = booking_doc(id=400, uid="uid-old-000000000000000001", status="cancelled")
    p = build_payload("BOOKING_RESCHEDULED", event("bookingRescheduled", booking_doc(), old),
                      created_at=NOW)["payload"]
    assert "rescheduledBy" not in p and p["rescheduleUid"] == "uid-old-000000000000000001"


def test_cancelled_carries_the_reason():
    cancelled = booking_doc(status="cancelled", cancellationReason="Ill, sorry")
    p = build_payload("BOOKING_CANCELLED", event("bookingCancelled", cancelled), created_at=NOW)["payload"]
    assert p["status"] == "CANCELLED" and p["cancellationReason"] == "Ill, sorry"
    plain = build_payload("BOOKING_CANCELLED", event("bookingCancelled", booking_doc(status="cancelled")),
                          created_at=NOW)["payload"]
    assert "cancellationReason" not in plain


def test_rejected_carries_the_hosts_reason_as_cal_com_does():
    rejected = booking_doc(status="rejected", cancellationReason="Fully booked that week")
    p = build_payload("BOOKING_REJECTED", event("bookingRejected", rejected), created_at=NOW)["payload"]
    assert p["status"] == "REJECTED" and p["rejectionReason"] == "Fully booked that week"
    assert "cancellationReason" not in p


def test_a_seat_is_named():
    p = build_payload("BOOKING_CREATED", event("bookingCreated", booking_doc(seatUid="seat-9")),
                      created_at=NOW)["payload"]
    assert p["seatUid"] == "seat-9"


def test_team_bookings_name_the_organizer_the_event_carries():
    doc = booking_doc(hosts=[BOB, ALICE], organizer=BOB)
    p = build_payload("BOOKING_CREATED", event("bookingCreated", doc), created_at=NOW)["payload"]
    assert p["organizer"]["id"] == 12 and p["organizer"]["language"] == {"locale": "ja"}


def test_builders_refuse_the_wrong_kind_of_trigger():
    with pytest.raises(ValueError):
        build_payload("MEETING_STARTED", event("bookingCreated"), created_at=NOW)
    with pytest.raises(ValueError):
        build_payload("BOOKING_CONFIRMED", event("bookingConfirmed"), created_at=NOW)  # not a cal.com trigger
    with pytest.raises(ValueError):
        build_meeting_payload("BOOKING_CREATED", stored_booking(), created_at=NOW)


def stored_booking(**changes) -> BookingRecord:
    doc = booking_doc(**changes)
    for key in ("organizer", "price", "currency"):
        doc.pop(key)
    doc.update(busyStartMin=0, busyEndMin=30, priceAmount=1500, priceCurrency="usd")
    return BookingRecord.model_validate(doc)


@pytest.mark.parametrize("trigger", ["MEETING_STARTED", "MEETING_ENDED"])
def test_meeting_moments_are_built_from_the_stored_booking(trigger):
    record = stored_booking()
    body = build_meeting_payload(trigger, record, created_at=NOW)
    assert body["triggerEvent"] == trigger and body["createdAt"] == "2027-01-10T08:00:00.123Z"
    p = body["payload"]
    assert (p["uid"], p["status"], p["startTime"], p["endTime"]) == (
        record.uid, "ACCEPTED", "2027-01-13T09:00:00.000Z", "2027-01-13T09:30:00.000Z")
    assert p["organizer"]["email"] == "alice@example.com" and p["attendees"][0]["email"] == "jane@example.com"
    assert (p["price"], p["currency"]) == (1500, "USD")
    assert build_meeting_payload(trigger, record, created_at=NOW, price=None)["payload"]["price"] == 0


def test_booking_payload_is_the_same_for_the_event_and_the_stored_booking():
    from_event = booking_payload(event("bookingCreated").detail.booking, 1500, "usd")
    from_record = booking_payload(stored_booking())
    assert from_event == from_record


def test_the_sample_event_from_the_repository_builds():
    record = json.loads((ROOT / "events/webhooks/bookingRescheduled.json").read_text())["Records"][0]
    bus_event = BookingEvent.model_validate(json.loads(record["body"]))
    body = build_payload(TRIGGERS[bus_event.detail_type], bus_event, created_at=NOW)
    assert body["triggerEvent"] == "BOOKING_RESCHEDULED"
    assert body["payload"]["uid"] == bus_event.detail.booking.uid
    # (the sample carries no previousBooking; the contract's events do, and then rescheduleUid names it)
    assert body["payload"].get("rescheduleUid") == bus_event.detail.booking.rescheduled_from_uid


def test_rescheduled_without_the_previous_booking_falls_back_to_rescheduled_from_uid():
    doc = booking_doc(rescheduledFromUid="uid-old-000000000000000001")
    p = build_payload("BOOKING_RESCHEDULED", event("bookingRescheduled", doc), created_at=NOW)["payload"]
    assert p["rescheduleUid"] == "uid-old-000000000000000001" and "rescheduleStartTime" not in p


def test_the_sent_body_is_compact_utf8_and_round_trips():
    doc = booking_doc(title="Café ☕ \"quoted\"")
    body = build_payload("BOOKING_CREATED", event("bookingCreated", doc), created_at=NOW)
    raw = to_json(body).encode()
    assert b", " not in raw and b'": ' not in raw
    assert "Café ☕".encode() in raw
    assert json.loads(raw) == body


def test_building_does_not_change_the_event():
    bus_event = event("bookingRescheduled", booking_doc(), booking_doc(id=1, uid="old"))
    before = copy.deepcopy(bus_event.model_dump())
    build_payload("BOOKING_RESCHEDULED", bus_event, created_at=NOW)["payload"]["metadata"]["x"] = "y"
    assert bus_event.model_dump() == before
