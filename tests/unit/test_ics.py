"""The .ics invitation text (RFC 5545): structure, escaping, line folding. The emails that carry it: test_emails.py."""

from __future__ import annotations

from datetime import datetime, timezone

from booking_core.domain.bookings import Booking
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
