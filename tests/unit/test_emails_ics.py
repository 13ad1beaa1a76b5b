"""Email rendering (recipient's time zone, escaping, parts, MIME) and the .ics invitation."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone

from booking_core.domain.bookings import Booking
from booking_core.emails import recipients_for, render, to_mime
from booking_core.ics import build_ics, calendar_uid, fold

START = datetime(2027, 1, 13, 9, 0, tzinfo=timezone.utc)


def booking(**changes) -> Booking:
    data = {
        "id": 7, "uid": "uid-1234567890123456789012", "title": "Intro <script>alert(1)</script>",
        "description": "Bring notes; agenda, etc.\nSecond line", "status": "accepted", "start": START,
        "end": datetime(2027, 1, 13, 9, 30, tzinfo=timezone.utc), "duration": 30, "eventTypeId": 1,
        "eventType": {"id": 1, "slug": "intro"},
        "hosts": [{"id": 1, "name": "Alice Host", "email": "alice@example.com", "timeZone": "America/New_York"}],
        "attendees": [{"name": "Jane <b>Bold</b>", "email": "jane@example.com", "timeZone": "Europe/Paris"}],
        "guests": ["guest@example.com"], "location": "https://meet.jit.si/intro-x", "meetingUrl": "https://meet.jit.si/intro-x",
        "createdAt": START, "updatedAt": START, "iCalUID": "uid-1234567890123456789012@booking-service",
        "iCalSequence": 2,
    }
    data.update(changes)
    return Booking.model_validate(data)


def test_recipients_and_times_in_their_own_zones():
    b = booking()
    people = {r.email: r for r in recipients_for(b, "confirmed")}
    assert set(people) == {"jane@example.com", "guest@example.com", "alice@example.com"}
    attendee = render("confirmed", b, people["jane@example.com"])
    organizer = render("confirmed", b, people["alice@example.com"])
    assert "10:00 - 10:30 (Europe/Paris)" in attendee.text  # 09:00Z in Paris
    assert "04:00 - 04:30 (America/New_York)" in organizer.text
    assert attendee.subject.startswith("Confirmed:") and organizer.subject.startswith("New booking:")
    assert "https://meet.jit.si/intro-x" in attendee.text and 'href="https://meet.jit.si/intro-x"' in attendee.html
    assert [r.role for r in recipients_for(b, "declined")] == ["attendee", "attendee"]  # no organizer email


def test_html_escapes_user_text():
    b = booking()
    organizer = next(r for r in recipients_for(b, "confirmed") if r.role == "organizer")
    html = render("confirmed", b, organizer).html
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;Bold" in html


def test_ics_attachment_only_where_the_contract_wants_it():
    b = booking()
    jane = recipients_for(b, "confirmed")[0]
    assert [a.filename for a in render("confirmed", b, jane).attachments] == ["invite.ics"]
    assert render("requested", b, jane).attachments == []
    cancel = render("cancelled", booking(status="cancelled"), jane).attachments[0]
    assert cancel.content_type == "text/calendar; method=CANCEL" and "METHOD:CANCEL" in cancel.content


def test_mime_message_parses_back():
    b = booking()
    jane = recipients_for(b, "rescheduled")[0]
    rendered = render("rescheduled", b, jane, previous=booking(start=datetime(2027, 1, 12, 9, 0, tzinfo=timezone.utc)))
    message = email.message_from_bytes(to_mime(rendered, "Bookings <bookings@example.com>"), policy=email.policy.default)
    kinds = [part.get_content_type() for part in message.walk()]
    assert kinds == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html", "text/calendar"]
    assert message["To"] == "jane@example.com" and message["Subject"].startswith("Rescheduled:")
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    assert "Was:" in text and "Tuesday 12 January 2027" in text


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_ics_content_is_valid_rfc5545():
    b = booking()
    text = build_ics(b, method="REQUEST", sequence=b.ical_sequence, uid=calendar_uid(b))
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and "METHOD:REQUEST" in lines and lines[-2] == "END:VCALENDAR"
    assert "UID:uid-1234567890123456789012@booking-service" in lines and "SEQUENCE:2" in lines
    assert "DTSTART:20270113T090000Z" in lines and "DTEND:20270113T093000Z" in lines
    description = next(line for line in lines if line.startswith("DESCRIPTION:"))
    assert "Bring notes\\; agenda\\, etc.\\nSecond line" in description
    assert any(line.startswith("ORGANIZER;CN=\"Alice Host\":mailto:alice@example.com") for line in lines)
    assert sum(line.startswith("ATTENDEE") for line in lines) == 2 and "STATUS:CONFIRMED" in lines


def test_fold_never_splits_a_character():
    line = "SUMMARY:" + "é" * 60
    folded = fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line
