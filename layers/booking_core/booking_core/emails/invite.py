"""The `.ics` invitation attached to confirmed, rescheduled and cancelled emails (CONTRACT.md section 6).

The only place emails touch iCalendar: one function of (booking, method, sequence, uid), built on
`booking_core.ics.build_ics`. METHOD:REQUEST for confirmed and rescheduled bookings, METHOD:CANCEL for cancelled
ones; the UID is the booking's calendar UID (shared with every booking it is rescheduled into) and the SEQUENCE is
the booking's, which rises with each change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from booking_core.ics import Method, build_ics, calendar_uid

if TYPE_CHECKING:
    from booking_core.domain.bookings import Booking
    from booking_core.emails.render import Attachment

FILENAME = "invite.ics"


def invite_attachment(booking: Booking, method: Method, sequence: int, uid: str) -> Attachment:
    from booking_core.emails.render import Attachment

    content = build_ics(booking, method=method, sequence=sequence, uid=uid)
    return Attachment(FILENAME, f"text/calendar; method={method}", content)


def invite_for(booking: Booking, method: Method) -> Attachment:
    """The invitation for the booking's current state: its calendar UID and SEQUENCE."""
    return invite_attachment(booking, method, booking.ical_sequence, calendar_uid(booking))


__all__ = ["FILENAME", "invite_attachment", "invite_for"]
