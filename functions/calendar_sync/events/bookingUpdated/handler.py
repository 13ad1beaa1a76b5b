"""bookingUpdated (guests or location) -> a meeting made for a location left behind is deleted and a newly chosen
app's is made; then the same calendar event is updated (higher SEQUENCE)."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.calendars import CalendarSync
from booking_core.services.meetings import MeetingSync


def handle(event: BookingEvent, meetings: MeetingSync, calendars: CalendarSync) -> None:
    meetings.updated(event.detail.booking.uid, event)
    calendars.updated(event.detail.booking.uid)
