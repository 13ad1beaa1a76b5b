"""iCalendar (RFC 5545) for a booking: invitations in emails and events written to calendars.

One UID for a booking and every booking it is rescheduled into (iCalUID), and a SEQUENCE that rises with each
change, so calendar apps update or cancel the same event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from booking_core.conferencing import describe_location
from booking_core.domain.bookings import Booking
from booking_core.timeutil import UTC

Method = Literal["REQUEST", "CANCEL"]
PRODID = "-//booking-service//bookings//EN"


def escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after CRLF and a space (never inside a character)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, current, size, limit = [], "", 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, 74  # continuation lines start with a space
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _cal_address(prop: str, name: str, email: str, extra: str = "") -> str:
    name = name.replace('"', "'")
    return f'{prop};CN="{name}"{extra}:mailto:{email}'


def build_ics(booking: Booking, *, method: Method | None, sequence: int, uid: str, stamp: datetime | None = None) -> str:
    cancelled = method == "CANCEL" or booking.status in {"cancelled", "rejected"}
    organizer = booking.hosts[0]
    description = booking.description or ""
    if booking.meeting_url:
        description = (description + "\n\n" if description else "") + f"Join: {booking.meeting_url}"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    if method:
        lines.append(f"METHOD:{method}")
    lines += [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"SEQUENCE:{sequence}",
        f"DTSTAMP:{_stamp(stamp or booking.updated_at)}",
        f"DTSTART:{_stamp(booking.start)}",
        f"DTEND:{_stamp(booking.end)}",
        f"SUMMARY:{escape(booking.title)}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{escape(description)}")
    if booking.location:
        lines.append(f"LOCATION:{escape(describe_location(booking.location) or '')}")
    if booking.meeting_url:
        lines.append(f"URL:{booking.meeting_url}")
    lines.append(_cal_address("ORGANIZER", organizer.name, organizer.email))
    for host in booking.hosts[1:]:
        lines.append(_cal_address("ATTENDEE", host.name, host.email, ";ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED"))
    for attendee in booking.attendees:
        lines.append(_cal_address("ATTENDEE", attendee.name, attendee.email,
                                  ";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE"))
    for guest in booking.guests:
        lines.append(_cal_address("ATTENDEE", guest, guest, ";ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE"))
    lines += [f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}", "TRANSP:OPAQUE", "END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(fold(line) for line in lines) + "\r\n"


def calendar_uid(booking: Booking) -> str:
    return booking.ical_uid or f"{booking.uid}@booking-service"
