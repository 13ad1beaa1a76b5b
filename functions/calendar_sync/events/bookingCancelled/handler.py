"""bookingCancelled -> the meeting and the calendar event are deleted (unless only a seat left a booking that goes
on)."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.calendars import CalendarSync
from booking_core.services.meetings import MeetingSync


def handle(event: BookingEvent, meetings: MeetingSync, calendars: CalendarSync) -> None:
    meetings.removed(event.detail.booking.uid)
    calendars.removed(event.detail.booking.uid)
