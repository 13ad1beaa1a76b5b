"""bookingRescheduled -> the meeting moves (same link; a new organizer gets their own), then the same calendar
event (same UID, higher SEQUENCE) moves to the new time."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.calendars import CalendarSync
from booking_core.services.meetings import MeetingSync


def handle(event: BookingEvent, meetings: MeetingSync, calendars: CalendarSync) -> None:
    previous = event.detail.previous_booking
    meetings.rescheduled(event.detail.booking.uid, previous.uid if previous else None, event)
    calendars.rescheduled(event.detail.booking.uid, previous.uid if previous else None)
