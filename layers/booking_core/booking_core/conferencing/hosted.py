"""Meetings that live in a calendar event of the organizer's calendar connection: Google Meet (the event's
conferenceData) and Microsoft Teams (the event's online meeting). The calendar provider does the work
(`create_event(..., online_meeting=True)`); this adapter gives it the meeting-app shape."""

from __future__ import annotations

from booking_core.calendars.base import CalendarError, Credentials, EventRef
from booking_core.calendars.providers import provider_for
from booking_core.conferencing.base import Meeting
from booking_core.domain.bookings import Booking


class CalendarHostedMeetings:
    def __init__(self, calendar_type: str, label: str) -> None:
        self.calendar_type = calendar_type
        self.label = label

    def verify(self, creds: Credentials) -> None:
        provider_for(self.calendar_type).list_calendars(creds)

    def _meeting(self, ref: EventRef, previous: Meeting | None = None) -> Meeting:
        join_url = ref.meeting_url or (previous.join_url if previous else None)
        if not join_url:
            raise CalendarError(f"{self.label}: the event came back without a meeting")
        return Meeting(external_id=ref.external_id, join_url=join_url,
                       conference_id=ref.meeting_id or (previous.conference_id if previous else None))

    def create_meeting(self, creds: Credentials, booking: Booking, uid: str, sequence: int,
                       calendar_id: str | None) -> Meeting:
        ref = provider_for(self.calendar_type).create_event(creds, calendar_id or "", booking, uid, sequence,
                                                            online_meeting=True)
        return self._meeting(ref)

    def update_meeting(self, creds: Credentials, meeting: Meeting, booking: Booking, uid: str, sequence: int,
                       calendar_id: str | None) -> Meeting:
        ref = provider_for(self.calendar_type).update_event(
            creds, calendar_id or "", EventRef(meeting.external_id, uid, meeting.join_url), booking, uid, sequence)
        return self._meeting(ref, meeting)

    def delete_meeting(self, creds: Credentials, meeting: Meeting, calendar_id: str | None) -> None:
        provider_for(self.calendar_type).delete_event(creds, calendar_id or "", EventRef(meeting.external_id, ""))


google_meet = CalendarHostedMeetings("google", "Google Meet")
teams = CalendarHostedMeetings("office365", "Microsoft Teams")
