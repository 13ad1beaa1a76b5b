"""What the app-sync step needs from a meeting app whose meetings are made through an API (Meet, Teams, Zoom)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from booking_core.calendars.base import Credentials
from booking_core.domain.bookings import Booking


@dataclass(frozen=True, slots=True)
class Meeting:
    external_id: str  # Zoom: the meeting id; Meet and Teams: the calendar event that holds the meeting
    join_url: str
    conference_id: str | None = None  # what the booking's reference shows as uid (Meet: the conference id)


class MeetingApp(Protocol):
    """`calendar_id` is the calendar a calendar-hosted meeting (Meet, Teams) lives in; None for Zoom. Errors are the
    calendar errors (`calendars.base`): CalendarAuthError, CalendarUnavailable (retry later), CalendarError."""

    def verify(self, creds: Credentials) -> None:
        """Connect-time check of a conferencing connection's credentials (raises CalendarAuthError)."""
        ...

    def create_meeting(self, creds: Credentials, booking: Booking, uid: str, sequence: int,
                       calendar_id: str | None) -> Meeting:
        """A meeting for the booking; `uid` (the booking's calendar UID) makes a repeated call find the first one
        where the provider allows it."""
        ...

    def update_meeting(self, creds: Credentials, meeting: Meeting, booking: Booking, uid: str, sequence: int,
                       calendar_id: str | None) -> Meeting:
        """Move it to the booking's new time (the join URL stays where the provider keeps it)."""
        ...

    def delete_meeting(self, creds: Credentials, meeting: Meeting, calendar_id: str | None) -> None:
        """Remove it; a meeting that is already gone is fine."""
        ...
