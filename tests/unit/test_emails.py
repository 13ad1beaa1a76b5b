"""Booking emails: every kind for attendees and organizers, times in the recipient's own zone, escaping of what users
typed, the location or meeting link, the .ics invitation where the contract wants it, and a MIME message that parses
back with the standard email package."""

from __future__ import annotations

import email
import email.policy
import pytest

from booking_core.domain.bookings import Booking
from booking_core.emails import (
    Attachment,
    Email,
    Recipient,
    invite,
    recipients_for,
    render,
    to_mime,
)
from booking_core.events.contracts import BookingEvent
from booking_core.ics import calendar_uid

WINTER = "2027-01-13T09:00:00.000Z"  # Paris UTC+1, New York UTC-5
SUMMER = "2027-07-13T09:00:00.000Z"  # Paris UTC+2, New York UTC-4
ALICE = {"id": 1, "name": "Alice Host", "email": "alice@example.com", "timeZone": "America/New_York"}
EVIL = '<img src=x onerror="alert(1)">'

EXPECTED = {  # (kind, role) -> subject prefix and whether an .ics goes with it
    ("confirmed", "attendee"): ("Confirmed: ", "REQUEST"),
    ("confirmed", "organizer"): ("New booking: ", "REQUEST"),
    ("requested", "attendee"): ("Request received: ", None),
    ("requested", "organizer"): ("Please confirm or decline: ", None),
    ("rescheduled", "attendee"): ("Rescheduled: ", "REQUEST"),
    ("rescheduled", "organizer"): ("Rescheduled: ", "REQUEST"),
    ("cancelled", "attendee"): ("Cancelled: ", "CANCEL"),
    ("cancelled", "organizer"): ("Cancelled: ", "CANCEL"),
    ("declined", "attendee"): ("Declined: ", None),
    ("reminder", "attendee"): ("Reminder: ", None),
}
STATUS = {"confirmed": "accepted", "requested": "pending", "rescheduled": "accepted", "cancelled": "cancelled",
          "declined": "rejected", "reminder": "accepted"}


def booking_doc(start: str = WINTER, end: str | None = None, **changes) -> dict:
    doc = {
        "id": 9, "uid": "uid-0000000000000000000009", "title": "Intro call", "description": "Agenda:\n1. hello",
        "status": "accepted", "start": start, "end": end or start.replace("09:00", "09:30"), "duration": 30,
        "eventTypeId": 3, "eventType": {"id": 3, "slug": "intro"}, "hosts": [ALICE],
        "attendees": [{"name": "Jane Booker", "email": "jane@example.com", "timeZone": "Europe/Paris"}],
        "guests": ["guest@example.com"], "location": "https://meet.jit.si/intro-9",
        "meetingUrl": "https://meet.jit.si/intro-9", "createdAt": WINTER, "updatedAt": WINTER,
        "iCalUID": "uid-first-booking@booking-service", "iCalSequence": 0,
    }
    doc.update(changes)
    return doc


def booking(**changes) -> Booking:
    return Booking.model_validate(booking_doc(**changes))


def bus_event(detail_type: str, doc: dict, previous: dict | None = None) -> BookingEvent:
    return BookingEvent.model_validate({
        "detail-type": detail_type,
        "detail": {"eventId": "e-1", "occurredAt": WINTER, "booking": {**doc, "organizer": doc["hosts"][0]},
                   "previousBooking": {**previous, "organizer": previous["hosts"][0]} if previous else None},
    })


def who(b: Booking, kind: str, role: str, index: int = 0) -> Recipient:
    return [r for r in recipients_for(b, kind) if r.role == role][index]


# -- every kind ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, role", list(EXPECTED))
def test_every_email_has_its_subject_both_parts_time_place_and_invitation(kind, role):
    b = booking(status=STATUS[kind])
    recipient = who(b, kind, role)
    mail = render(kind, b, recipient)
    prefix, method = EXPECTED[(kind, role)]
    assert mail.to == [recipient.email]
    assert mail.subject.startswith(prefix + "Intro call")
    assert mail.text.strip() and mail.html.lstrip().lower().startswith("<!doctype html>")
    local = "10:00 - 10:30 (Europe/Paris)" if role == "attendee" else "04:00 - 04:30 (America/New_York)"
    assert local in mail.text and local in mail.html
    assert "https://meet.jit.si/intro-9" in mail.text and 'href="https://meet.jit.si/intro-9"' in mail.html
    if method is None:
        assert mail.attachments == []
    else:
        [invite] = mail.attachments
        assert (invite.filename, invite.content_type) == ("invite.ics", f"text/calendar; method={method}")
        assert f"METHOD:{method}" in invite.content and "UID:uid-first-booking@booking-service" in invite.content


def test_the_organizer_gets_no_declined_or_reminder_email():
    b = booking()
    for kind in ("declined", "reminder"):
        assert {r.role for r in recipients_for(b, kind)} == {"attendee"}
        with pytest.raises(ValueError):
            render(kind, b, Recipient("alice@example.com", "Alice Host", "America/New_York", "organizer"))


def test_recipients_are_attendees_guests_and_hosts_once_each():
    b = booking(hosts=[ALICE, {"id": 2, "name": "Bob", "email": "bob@example.com", "timeZone": "Asia/Tokyo"}],
                guests=["guest@example.com", "JANE@example.com"])
    people = recipients_for(b, "confirmed")
    assert [(r.email, r.role, r.time_zone) for r in people] == [
        ("jane@example.com", "attendee", "Europe/Paris"),
        ("guest@example.com", "attendee", "Europe/Paris"),  # guests: the booker's zone
        ("alice@example.com", "organizer", "America/New_York"),
        ("bob@example.com", "organizer", "Asia/Tokyo"),
    ]
    assert {render("confirmed", b, person).to[0] for person in people} == {r.email for r in people}


# -- times in the recipient's own zone ----------------------------------------------------------------------------
@pytest.mark.parametrize("start, zone, shown", [
    (WINTER, "Europe/Paris", "Wednesday 13 January 2027, 10:00 - 10:30 (Europe/Paris)"),
    (WINTER, "America/New_York", "Wednesday 13 January 2027, 04:00 - 04:30 (America/New_York)"),
    (SUMMER, "Europe/Paris", "Tuesday 13 July 2027, 11:00 - 11:30 (Europe/Paris)"),
    (SUMMER, "America/New_York", "Tuesday 13 July 2027, 05:00 - 05:30 (America/New_York)"),
    (WINTER, "Asia/Kolkata", "Wednesday 13 January 2027, 14:30 - 15:00 (Asia/Kolkata)"),
    (WINTER, "Pacific/Kiritimati", "Wednesday 13 January 2027, 23:00 - 23:30 (Pacific/Kiritimati)"),
    (WINTER, "America/Los_Angeles", "Wednesday 13 January 2027, 01:00 - 01:30 (America/Los_Angeles)"),
    (WINTER, "Not/AZone", "Wednesday 13 January 2027, 09:00 - 09:30 (UTC)"),
])
def test_the_start_is_shown_in_the_recipients_zone(start, zone, shown):
    doc = booking_doc(start=start)
    doc["attendees"][0]["timeZone"] = zone
    b = Booking.model_validate(doc)
    mail = render("confirmed", b, who(b, "confirmed", "attendee"))
    assert shown in mail.text and shown in mail.html
    assert f"({zone if zone != 'Not/AZone' else 'UTC'})" in mail.subject


def test_a_booking_across_midnight_shows_both_dates():
    b = booking(start="2027-01-13T22:30:00.000Z", end="2027-01-13T23:30:00.000Z", duration=60)
    mail = render("confirmed", b, who(b, "confirmed", "attendee"))  # Paris: 23:30 -> 00:30 next day
    assert "Wednesday 13 January 2027, 23:30 - Thursday 14 January 2027, 00:30 (Europe/Paris)" in mail.text


def test_rescheduled_shows_the_old_time_too_and_the_reason():
    old = booking_doc(uid="uid-old", start="2027-01-12T09:00:00.000Z")
    new = booking_doc(reschedulingReason="Clash with a flight", iCalSequence=1, rescheduledFromUid="uid-old")
    event = bus_event("bookingRescheduled", new, old)
    b = event.detail.booking
    attendee = render("rescheduled", event, who(b, "rescheduled", "attendee"))
    organizer = render("rescheduled", event, who(b, "rescheduled", "organizer"))
    assert "When: Wednesday 13 January 2027, 10:00 - 10:30 (Europe/Paris)" in attendee.text
    assert "Was: Tuesday 12 January 2027, 10:00 - 10:30 (Europe/Paris)" in attendee.text
    assert "Was: Tuesday 12 January 2027, 04:00 - 04:30 (America/New_York)" in organizer.text
    assert "Clash with a flight" in attendee.text and "Clash with a flight" in attendee.html
    [invite] = attendee.attachments
    assert "UID:uid-first-booking@booking-service" in invite.content and "SEQUENCE:1" in invite.content


def test_cancelled_and_declined_show_the_reason_from_the_event():
    cancelled = bus_event("bookingCancelled", booking_doc(status="cancelled", cancellationReason="Ill"))
    mail = render("cancelled", cancelled, who(cancelled.detail.booking, "cancelled", "attendee"))
    assert "Reason for cancellation: Ill" in mail.text and "STATUS:CANCELLED" in mail.attachments[0].content
    declined = booking(status="rejected", cancellationReason="Fully booked")
    assert "Reason: Fully booked" in render("declined", declined, who(declined, "declined", "attendee")).text
    assert "Reason: Given here" in render("declined", declined, who(declined, "declined", "attendee"),
                                          reason="Given here").text


def test_an_address_location_and_a_separate_meeting_link_are_both_shown():
    b = booking(location="10 Downing St, London", meetingUrl="https://meet.example/abc")
    mail = render("confirmed", b, who(b, "confirmed", "attendee"))
    assert "Where: 10 Downing St, London" in mail.text and "Meeting link: https://meet.example/abc" in mail.text
    assert '<a href="https://meet.example/abc">' in mail.html
    assert '<a href="10 Downing' not in mail.html


def test_the_organizer_sees_who_booked():
    b = booking()
    mail = render("confirmed", b, who(b, "confirmed", "organizer"))
    assert "Attendee: Jane Booker <jane@example.com>" in mail.text and "Guest: guest@example.com" in mail.text
    assert mail.reply_to == ["jane@example.com"]
    assert render("confirmed", b, who(b, "confirmed", "attendee")).reply_to == ["alice@example.com"]


# -- escaping -----------------------------------------------------------------------------------------------------
def test_html_escapes_every_user_provided_string():
    doc = booking_doc(title=f"Intro {EVIL}", description=f"<script>steal()</script>\n{EVIL}",
                      location='javascript:alert("x")', meetingUrl='https://meet.example/a"onmouseover="alert(1)',
                      cancellationReason="<b>bye</b>", status="cancelled", guests=['"><svg onload=alert(1)>@x.io'])
    doc["attendees"][0]["name"] = EVIL
    doc["hosts"] = [{**ALICE, "name": "Alice <i>Host</i> & Co"}]
    b = Booking.model_validate(doc)
    for recipient in recipients_for(b, "cancelled"):
        mail = render("cancelled", b, recipient)
        lowered = mail.html.lower()
        for raw in ("<img", "<script", "<svg", "<b>", "<i>", 'href="javascript:', '"onmouseover="'):
            assert raw not in lowered, (raw, recipient.role)
        if recipient.email == "jane@example.com" or recipient.role == "organizer":  # greeted / listed by name
            assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in mail.html
        if recipient.role == "organizer":
            assert "&quot;&gt;&lt;svg onload=alert(1)&gt;@x.io" in mail.html  # the guest's "address"
        assert "Alice &lt;i&gt;Host&lt;/i&gt; &amp; Co" in mail.html
        assert "&lt;script&gt;steal()&lt;/script&gt;" in mail.html
        assert "&lt;b&gt;bye&lt;/b&gt;" in mail.html
        assert 'href="https://meet.example/a&quot;onmouseover=&quot;alert(1)"' in mail.html
    attendee = render("cancelled", b, who(b, "cancelled", "attendee"))
    assert f"Hi {EVIL}," in attendee.text  # plain text keeps what was typed
    assert "Hi &lt;img src=x onerror=&quot;alert(1)&quot;&gt;," in attendee.html


def test_line_breaks_in_names_and_titles_cannot_inject_headers_or_lines():
    doc = booking_doc(title="Intro\r\nBcc: victim@example.com")
    doc["attendees"][0]["name"] = "Jane\nWhen: never"
    b = Booking.model_validate(doc)
    mail = render("confirmed", b, who(b, "confirmed", "attendee"))
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert "\nWhen: never" not in mail.text and mail.text.count("\nWhen: ") == 1
    message = email.message_from_bytes(to_mime(mail, "bookings@example.com"), policy=email.policy.default)
    assert message["Bcc"] is None and "Bcc: victim@example.com" in message["Subject"]


# -- .ics hook ----------------------------------------------------------------------------------------------------
def test_the_invite_carries_the_method_and_the_bookings_sequence_and_calendar_uid():
    b = booking(iCalSequence=7)
    attachment = invite(b, "CANCEL")
    assert isinstance(attachment, Attachment) and attachment.filename == "invite.ics"
    assert attachment.content_type == "text/calendar; method=CANCEL"
    lines = attachment.content.replace("\r\n ", "").split("\r\n")
    assert "METHOD:CANCEL" in lines and "SEQUENCE:7" in lines and f"UID:{calendar_uid(b)}" in lines


# -- MIME ---------------------------------------------------------------------------------------------------------
def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def test_mime_is_mixed_with_alternative_text_html_then_the_invitation():
    doc = booking_doc(title="Café ☕ with Zoë")
    doc["attendees"][0]["name"] = "Zoë Ünicode"
    b = Booking.model_validate(doc)
    mail = render("confirmed", b, who(b, "confirmed", "attendee"))
    raw = to_mime(mail, "Bookings <bookings@example.com>")
    message = parse(raw)
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/calendar"]
    assert message["From"] == "Bookings <bookings@example.com>" and message["To"] == "jane@example.com"
    assert message["Subject"] == mail.subject and "Café ☕ with Zoë" in message["Subject"]
    assert message["Reply-To"] == "alice@example.com"
    assert message["Message-ID"].endswith("@example.com>") and message["Date"]
    parts = {p.get_content_type(): p for p in message.walk()}
    assert parts["text/plain"].get_content().replace("\r\n", "\n") == mail.text
    assert parts["text/html"].get_content().replace("\r\n", "\n") == mail.html
    calendar = parts["text/calendar"]
    assert calendar.get_filename() == "invite.ics" and calendar.get_content_disposition() == "attachment"
    assert calendar.get_param("method") == "REQUEST"
    assert calendar.get_content() == mail.attachments[0].content  # CRLF line ends of the .ics survive
    # SES-friendly: 7-bit, CRLF line ends, no line over 998 octets
    assert raw.isascii() and b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_mime_without_attachments_and_with_binary_ones():
    b = booking(status="pending")
    plain = parse(to_mime(render("requested", b, who(b, "requested", "organizer")), "bookings@example.com"))
    assert [p.get_content_type() for p in plain.walk()] == [
        "multipart/mixed", "multipart/alternative", "text/plain", "text/html"]
    blob = bytes(range(256))
    custom = Email(to=["a@example.com", "b@example.com"], subject="s", text="t", html="<p>h</p>",
                   attachments=[Attachment("data.bin", "application/octet-stream", blob)])
    message = parse(to_mime(custom, "bookings@example.com"))
    assert message["To"] == "a@example.com, b@example.com"
    [binary] = [p for p in message.walk() if p.get_filename() == "data.bin"]
    assert binary.get_content() == blob


def test_rendering_from_a_bus_event_equals_rendering_from_its_booking():
    doc = booking_doc()
    event = bus_event("bookingCreated", doc)
    recipient = who(event.detail.booking, "confirmed", "attendee")
    assert render("confirmed", event, recipient) == render("confirmed", event.detail.booking, recipient)
    assert [r.email for r in recipients_for(event, "confirmed")] == ["jane@example.com", "guest@example.com",
                                                                     "alice@example.com"]


def test_rendering_is_deterministic_for_a_given_booking():
    b = booking()
    recipient = who(b, "confirmed", "attendee")
    assert render("confirmed", b, recipient) == render("confirmed", b, recipient)
