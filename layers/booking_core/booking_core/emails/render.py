"""Rendering one email for one recipient, and the MIME message SES sends."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Literal

from booking_core.domain.bookings import Booking
from booking_core.ics import Method, build_ics, calendar_uid
from booking_core.timeutil import zone

Kind = Literal["confirmed", "requested", "rescheduled", "cancelled", "declined", "reminder"]
Role = Literal["attendee", "organizer"]

# (subject, lead sentence, ics method) per kind and role.
_TEXT: dict[tuple[str, str], tuple[str, str, Method | None]] = {
    ("confirmed", "attendee"): ("Confirmed: {title}", "Your booking is confirmed.", "REQUEST"),
    ("confirmed", "organizer"): ("New booking: {title}", "You have a new booking.", "REQUEST"),
    ("requested", "attendee"): ("Request received: {title}",
                                "Your request was sent. The host will confirm or decline it.", None),
    ("requested", "organizer"): ("Please confirm or decline: {title}",
                                 "A new booking is waiting for your confirmation.", None),
    ("rescheduled", "attendee"): ("Rescheduled: {title}", "Your booking has moved to a new time.", "REQUEST"),
    ("rescheduled", "organizer"): ("Rescheduled: {title}", "A booking has moved to a new time.", "REQUEST"),
    ("cancelled", "attendee"): ("Cancelled: {title}", "This booking has been cancelled.", "CANCEL"),
    ("cancelled", "organizer"): ("Cancelled: {title}", "This booking has been cancelled.", "CANCEL"),
    ("declined", "attendee"): ("Declined: {title}", "The host declined your booking request.", None),
    ("reminder", "attendee"): ("Reminder: {title}", "This is a reminder of your upcoming booking.", None),
}


@dataclass(frozen=True, slots=True)
class Recipient:
    email: str
    name: str
    time_zone: str
    role: Role


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    content: str


@dataclass(frozen=True)
class Email:
    to: list[str]
    subject: str
    text: str
    html: str
    attachments: list[Attachment] = field(default_factory=list)


def recipients_for(booking: Booking, kind: Kind) -> list[Recipient]:
    """Attendees and guests get the attendee email; the organizer gets theirs (none for declined or reminders)."""
    people = [Recipient(a.email, a.name, a.time_zone, "attendee") for a in booking.attendees]
    organizer = booking.hosts[0]
    people += [Recipient(g, g, organizer.time_zone, "attendee") for g in booking.guests]
    if (kind, "organizer") in _TEXT:
        people.append(Recipient(organizer.email, organizer.name, organizer.time_zone, "organizer"))
        people += [Recipient(h.email, h.name, h.time_zone, "organizer") for h in booking.hosts[1:]]
    return people


def _when(booking: Booking, time_zone: str) -> str:
    tz = zone(time_zone)
    start, end = booking.start.astimezone(tz), booking.end.astimezone(tz)
    return f"{start:%A %d %B %Y}, {start:%H:%M} - {end:%H:%M} ({time_zone})"


def render(kind: Kind, booking: Booking, recipient: Recipient, previous: Booking | None = None,
           reason: str | None = None) -> Email:
    subject_template, lead, method = _TEXT[(kind, recipient.role)]
    subject = subject_template.format(title=booking.title)
    when = _when(booking, recipient.time_zone)
    rows: list[tuple[str, str]] = [("What", booking.title), ("When", when)]
    if previous is not None and kind == "rescheduled":
        rows.append(("Was", _when(previous, recipient.time_zone)))
    organizer = booking.hosts[0]
    rows.append(("Host", f"{organizer.name} <{organizer.email}>"))
    if recipient.role == "organizer":
        rows += [("Attendee", f"{a.name} <{a.email}>") for a in booking.attendees]
    where = booking.meeting_url or booking.location
    if where:
        rows.append(("Where", where))
    if reason:
        rows.append(("Reason", reason))
    text = "\n".join([f"Hi {recipient.name},", "", lead, "", *(f"{label}: {value}" for label, value in rows),
                      "", f"Booking reference: {booking.uid}", ""])
    cells = "".join(
        f"<tr><th align=\"left\" style=\"padding:4px 12px 4px 0\">{html.escape(label)}</th>"
        f"<td style=\"padding:4px 0\">{_link(value) if label == 'Where' else html.escape(value)}</td></tr>"
        for label, value in rows
    )
    body_html = (f"<!doctype html><html><body style=\"font-family:sans-serif\"><p>Hi {html.escape(recipient.name)},</p>"
                 f"<p>{html.escape(lead)}</p><table>{cells}</table>"
                 f"<p style=\"color:#666\">Booking reference: {html.escape(booking.uid)}</p></body></html>")
    attachments = []
    if method is not None:
        ics = build_ics(booking, method=method, sequence=booking.ical_sequence, uid=calendar_uid(booking))
        attachments.append(Attachment("invite.ics", f"text/calendar; method={method}", ics))
    return Email(to=[recipient.email], subject=subject, text=text, html=body_html, attachments=attachments)


def _link(value: str) -> str:
    escaped = html.escape(value)
    if value.startswith(("https://", "http://")):
        return f'<a href="{escaped}">{escaped}</a>'
    return escaped


def to_mime(email: Email, sender: str) -> bytes:
    """multipart/mixed: multipart/alternative (text, html), then the attachments; for SES Content.Raw."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(email.to)
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].rstrip(">") or "booking-service")
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    for attachment in email.attachments:
        maintype, _, rest = attachment.content_type.partition("/")
        subtype, _, params = rest.partition(";")
        message.add_attachment(attachment.content.encode(), maintype=maintype, subtype=subtype.strip(),
                               filename=attachment.filename,
                               params=dict([p.strip().split("=", 1)]) if (p := params.strip()) else {})
    return message.as_bytes()

