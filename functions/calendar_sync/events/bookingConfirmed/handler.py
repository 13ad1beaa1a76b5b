"""bookingConfirmed (host confirmed or paid) -> the organizer's meeting, then the event in their destination
calendar."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.calendars import CalendarSync
from booking_core.services.meetings import MeetingSync


def handle(event: BookingEvent, meetings: MeetingSync, calendars: CalendarSync) -> None:
    meetings.created(event.detail.booking.uid, event)
    calendars.created(event.detail.booking.uid)
