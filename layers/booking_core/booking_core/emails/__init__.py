"""Booking emails (docs/events.md "Emails"): plain text and HTML parts, times in the recipient's own time zone,
the location or meeting link, and an .ics invitation for confirmed, rescheduled and cancelled bookings."""

from booking_core.emails.render import (
    KINDS,
    Attachment,
    Email,
    Kind,
    Recipient,
    has_email,
    invite,
    recipients_for,
    render,
    to_mime,
)

__all__ = ["KINDS", "Attachment", "Email", "Kind", "Recipient", "has_email", "invite",
           "recipients_for", "render", "to_mime"]
