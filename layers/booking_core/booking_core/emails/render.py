"""Rendering one booking email for one recipient (docs/events.md "Emails"), and the MIME message SES sends.

| kind        | attendees and guests    | organizer (and co-hosts)        | .ics            |
|-------------|-------------------------|---------------------------------|-----------------|
| confirmed   | "Confirmed: ..."        | "New booking: ..."              | METHOD:REQUEST  |
| requested   | "Request received: ..." | "Please confirm or decline: ..."| -               |
| rescheduled | "Rescheduled: ..."      | "Rescheduled: ..."              | METHOD:REQUEST  |
| cancelled   | "Cancelled: ..."        | "Cancelled: ..."                | METHOD:CANCEL   |
| declined    | "Declined: ..."         | -                               | -               |
| reminder    | "Reminder: ..."         | -                               | -               |
| updated     | "Updated: ..."          | "Updated: ..."                  | METHOD:REQUEST  |
| invited     | "Invitation: ..." (a guest added later)  | -              | METHOD:REQUEST  |
| reassigned  | -                       | "Reassigned: ..." (the host who left it) | METHOD:CANCEL |
| reschedule_requested | "Please pick a new time: ..." | "Reschedule requested: ..." | METHOD:CANCEL |

Every email has a plain-text and an HTML part (every user-provided string HTML-escaped), shows the times in the
recipient's own time zone with the zone's name, the location or meeting link, and the answers to the type's booking
fields that are not hidden (`label: value`). Text is English.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr
from typing import Literal

from booking_core.conferencing import describe_location
from booking_core.domain.bookings import Booking
from booking_core.events.contracts import BookingEvent
from booking_core.ics import Method, build_ics, calendar_uid
from booking_core.timeutil import UTC, zone

Kind = Literal["confirmed", "requested", "rescheduled", "cancelled", "declined", "reminder", "updated", "invited",
               "reassigned", "reschedule_requested"]
Role = Literal["attendee", "organizer"]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]

@dataclass(frozen=True, slots=True)
class _Template:
    subject: str
    lead: str
    method: Method | None  # the .ics attached, if any


_TEMPLATES: dict[tuple[str, str], _Template] = {
    ("confirmed", "attendee"): _Template("Confirmed", "Your booking is confirmed.", "REQUEST"),
    ("confirmed", "organizer"): _Template("New booking", "You have a new booking.", "REQUEST"),
    ("requested", "attendee"): _Template(
        "Request received", "Your booking request was sent. The host will confirm or decline it; until then the "
        "time is held for you.", None),
    ("requested", "organizer"): _Template(
        "Please confirm or decline", "A new booking is waiting for your confirmation. Please confirm or decline it.",
        None),
    ("rescheduled", "attendee"): _Template("Rescheduled", "Your booking has moved to a new time.", "REQUEST"),
    ("rescheduled", "organizer"): _Template("Rescheduled", "A booking has moved to a new time.", "REQUEST"),
    ("cancelled", "attendee"): _Template("Cancelled", "Your booking has been cancelled.", "CANCEL"),
    ("cancelled", "organizer"): _Template("Cancelled", "A booking has been cancelled.", "CANCEL"),
    ("declined", "attendee"): _Template("Declined", "The host declined your booking request.", None),
    ("reminder", "attendee"): _Template("Reminder", "This is a reminder of your upcoming booking.", None),
    ("updated", "attendee"): _Template("Updated", "Your booking has been updated.", "REQUEST"),
    ("updated", "organizer"): _Template("Updated", "A booking has been updated.", "REQUEST"),
    ("invited", "attendee"): _Template("Invitation", "You have been invited to this booking.", "REQUEST"),
    ("reassigned", "organizer"): _Template(
        "Reassigned", "This booking has been reassigned to another host; it is no longer in your calendar.", "CANCEL"),
    ("reschedule_requested", "attendee"): _Template(
        "Please pick a new time", "The host asked you to pick a new time for this booking. It is cancelled until "
        "you book the new time: reschedule it with its booking reference.", "CANCEL"),
    ("reschedule_requested", "organizer"): _Template(
        "Reschedule requested", "You asked the attendee to pick a new time. The booking is cancelled and its time "
        "is free again until they do.", "CANCEL"),
}
_REASON_LABEL = {"cancelled": "Reason for cancellation", "declined": "Reason",
                 "rescheduled": "Reason for rescheduling", "reschedule_requested": "Reason",
                 "reassigned": "Reason"}


@dataclass(frozen=True, slots=True)
class Recipient:
    email: str
    name: str
    time_zone: str
    role: Role


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST"
    content: str | bytes


INVITE_FILENAME = "invite.ics"


def invite(booking: Booking, method: Method) -> Attachment:
    """The .ics for the booking's current state: METHOD:REQUEST or CANCEL, the booking's calendar UID (shared with
    every booking it is rescheduled into) and its SEQUENCE, which rises with each change."""
    content = build_ics(booking, method=method, sequence=booking.ical_sequence, uid=calendar_uid(booking))
    return Attachment(INVITE_FILENAME, f"text/calendar; method={method}", content)


@dataclass(frozen=True)
class Email:
    to: list[str]
    subject: str
    text: str
    html: str
    attachments: list[Attachment] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)


def _unpack(source: BookingEvent | Booking, previous: Booking | None) -> tuple[Booking, Booking | None]:
    if isinstance(source, BookingEvent):
        return source.detail.booking, previous if previous is not None else source.detail.previous_booking
    return source, previous


def has_email(kind: str, role: str) -> bool:
    return (kind, role) in _TEMPLATES


def recipients_for(source: BookingEvent | Booking, kind: Kind) -> list[Recipient]:
    """Attendees and guests get the attendee email; the organizer and co-hosts get theirs (none for declined or
    reminders). Guests are in the booker's time zone (as cal.com has it). Each address once."""
    booking, _ = _unpack(source, None)
    organizer = booking.hosts[0]
    booker_zone = booking.attendees[0].time_zone if booking.attendees else organizer.time_zone
    people = [Recipient(a.email, a.name, a.time_zone, "attendee") for a in booking.attendees]
    people += [Recipient(g, "", booker_zone, "attendee") for g in booking.guests]
    if has_email(kind, "organizer"):
        people += [Recipient(h.email, h.name, h.time_zone, "organizer") for h in booking.hosts]
    seen: set[str] = set()
    unique = []
    for person in people:
        if person.email.lower() not in seen:
            seen.add(person.email.lower())
            unique.append(person)
    return unique


# -- formatting ---------------------------------------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _line(value: str | None) -> str:
    """A single-line value: control characters and line breaks become spaces (no header or layout injection)."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def _tz(name: str) -> tuple[tzinfo, str]:
    try:
        return zone(name), name
    except ValueError:
        return UTC, "UTC"


def when(start: datetime, end: datetime, time_zone: str) -> str:
    """'Wednesday 13 January 2027, 10:00 - 10:30 (Europe/Paris)' in the given zone (UTC if it is unknown)."""
    tz, name = _tz(time_zone)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    if local_start.date() == local_end.date():
        return f"{local_start:%A %d %B %Y}, {local_start:%H:%M} - {local_end:%H:%M} ({name})"
    return f"{local_start:%A %d %B %Y}, {local_start:%H:%M} - {local_end:%A %d %B %Y}, {local_end:%H:%M} ({name})"


def _short_when(start: datetime, time_zone: str) -> str:
    tz, name = _tz(time_zone)
    local = start.astimezone(tz)
    return f"{local:%a %d %b %Y}, {local:%H:%M} ({name})"


def _person(name: str, email: str) -> str:
    name = _line(name)
    return f"{name} <{email}>" if name else email


def _link_html(value: str) -> str:
    escaped = html.escape(value)
    if re.match(r"https?://", value, re.IGNORECASE):
        return f'<a href="{escaped}">{escaped}</a>'
    return escaped


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    return str(value)


def _answers(booking: Booking) -> list[tuple[str, str, bool]]:
    """`label: value` for the answers to the type's booking fields that are not hidden, in the type's order."""
    answers = booking.booking_fields_responses
    return [(_line(field.label), _line(_value(answers[field.slug])), False)
            for field in getattr(booking, "booking_fields", None) or []
            if not field.hidden and field.slug in answers and _line(_value(answers[field.slug]))]


# -- rendering ----------------------------------------------------------------------------------------------------
def render(kind: Kind, source: BookingEvent | Booking, recipient: Recipient, previous: Booking | None = None,
           reason: str | None = None) -> Email:
    """One email of `kind` for `recipient`, from a bus event (its booking and previous booking) or a booking.

    `reason` defaults to the booking's cancellation reason (cancelled, declined) or rescheduling reason.
    """
    template = _TEMPLATES.get((kind, recipient.role))
    if template is None:
        raise ValueError(f"there is no {kind!r} email for the {recipient.role}")
    booking, previous = _unpack(source, previous)
    if reason is None:
        reason = booking.rescheduling_reason if kind == "rescheduled" else (
            booking.cancellation_reason if kind in {"cancelled", "declined", "reschedule_requested"} else None)
    title = _line(booking.title)
    organizer = booking.hosts[0]
    subject = f"{template.subject}: {title} on {_short_when(booking.start, recipient.time_zone)}"

    rows: list[tuple[str, str, bool]] = [("What", title, False),
                                         ("When", when(booking.start, booking.end, recipient.time_zone), False)]
    if kind == "rescheduled" and previous is not None:
        rows.append(("Was", when(previous.start, previous.end, recipient.time_zone), False))
    rows.append(("Host", _person(organizer.name, organizer.email), False))
    rows += [("Host", _person(h.name, h.email), False) for h in booking.hosts[1:]]
    if recipient.role == "organizer":
        rows += [("Attendee", _person(a.name, a.email), False) for a in booking.attendees]
        rows += [("Guest", g, False) for g in booking.guests]
    location, link = _line(describe_location(booking.location)), _line(booking.meeting_url)
    if location:
        rows.append(("Where", location, True))
    if link and link != location:
        rows.append(("Meeting link", link, True))
    rows += _answers(booking)
    if reason and _line(reason):
        rows.append((_REASON_LABEL.get(kind, "Reason"), _line(reason), False))
    description = (booking.description or "").strip()

    name = _line(recipient.name)
    greeting = f"Hi {name}," if name else "Hello,"
    text_lines = [greeting, "", template.lead, "", *(f"{label}: {value}" for label, value, _ in rows)]
    if description:
        text_lines += ["", "Details:", description]
    text_lines += ["", f"Booking reference: {booking.uid}", ""]
    text = "\n".join(text_lines)

    cells = "".join(
        f'<tr><th align="left" valign="top" style="padding:4px 16px 4px 0">{html.escape(label)}</th>'
        f'<td style="padding:4px 0">{_link_html(value) if is_link else html.escape(value)}</td></tr>'
        for label, value, is_link in rows
    )
    details = (f'<p><strong>Details</strong><br>{html.escape(description).replace(chr(10), "<br>")}</p>'
               if description else "")
    body_html = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;color:#111">'
        f"<p>{html.escape(greeting)}</p><p>{html.escape(template.lead)}</p>"
        f"<table role=\"presentation\">{cells}</table>{details}"
        f'<p style="color:#666">Booking reference: {html.escape(booking.uid)}</p></body></html>\n'
    )

    attachments = [invite(booking, template.method)] if template.method is not None else []
    reply_to = ([organizer.email] if recipient.role == "attendee"
                else [a.email for a in booking.attendees[:1]])
    return Email(to=[recipient.email], subject=subject, text=text, html=body_html, attachments=attachments,
                 reply_to=[address for address in reply_to if address.lower() != recipient.email.lower()])


_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


def free_form(to: str, subject: str, text: str) -> Email:
    """An email written by someone else (a workflow step): the text as written, and the same text as HTML with every
    character escaped, links clickable and line breaks kept."""
    escaped = html.escape(text)
    linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
    paragraphs = "".join(f"<p>{part.replace(chr(10), '<br>')}</p>" for part in linked.split("\n\n") if part.strip())
    subject_line = _line(subject) or "(no subject)"
    body_html = ('<!doctype html><html><head><meta charset="utf-8">'
                 f"<title>{html.escape(subject_line)}</title></head>"
                 f'<body style="font-family:Arial,Helvetica,sans-serif;color:#111">{paragraphs}</body></html>\n')
    return Email(to=[to], subject=subject_line, text=text if text.endswith("\n") else text + "\n", html=body_html)


# -- MIME ---------------------------------------------------------------------------------------------------------
# CRLF line ends and 7-bit transfer encodings only (quoted-printable or base64 for anything else), so the message
# passes unchanged through any SMTP hop.
_MIME_POLICY = SMTP.clone(cte_type="7bit")


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    kind, *params = [piece.strip() for piece in value.split(";")]
    maintype, _, subtype = kind.partition("/")
    pairs = dict(p.split("=", 1) for p in params if "=" in p)
    pairs.pop("charset", None)  # set by the email package for text
    return maintype.lower(), subtype.lower(), {k.strip(): v.strip().strip('"') for k, v in pairs.items()}


def to_mime(email: Email, sender: str) -> bytes:
    """multipart/mixed: multipart/alternative (text, then HTML), then the attachments; CRLF line ends and 7-bit
    transfer encodings, ready for SES v2 SendEmail `Content.Raw.Data`."""
    message = EmailMessage(policy=_MIME_POLICY)
    message["From"] = sender
    message["To"] = ", ".join(email.to)
    if email.reply_to:
        message["Reply-To"] = ", ".join(email.reply_to)
    message["Subject"] = _line(email.subject)
    message["Date"] = formatdate(usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "booking-service"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    message.make_mixed()  # always multipart/mixed, with or without attachments
    for attachment in email.attachments:
        maintype, subtype, params = _content_type(attachment.content_type)
        if isinstance(attachment.content, str) and maintype == "text":
            message.add_attachment(attachment.content, subtype=subtype, filename=attachment.filename,
                                   params=params)
        else:
            content = attachment.content.encode() if isinstance(attachment.content, str) else attachment.content
            message.add_attachment(content, maintype=maintype, subtype=subtype, filename=attachment.filename,
                                   params=params)
    return message.as_bytes()


__all__ = ["INVITE_FILENAME", "KINDS", "Attachment", "Email", "Kind", "Recipient", "Role", "free_form", "has_email",
           "invite", "recipients_for", "render", "to_mime", "when"]
