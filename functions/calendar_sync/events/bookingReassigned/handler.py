"""bookingReassigned -> when the organizer changed, their meeting and calendar event leave the previous organizer's
accounts and are made in the new organizer's; otherwise the organizer's event is updated."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.calendars import CalendarSync
from booking_core.services.meetings import MeetingSync


def handle(event: BookingEvent, meetings: MeetingSync, calendars: CalendarSync) -> None:
    booking, previous = event.detail.booking, event.detail.previous_booking
    organizer = previous.organizer if previous is not None and previous.organizer else booking.organizer
    meetings.reassigned(booking.uid, organizer.id, event)
    calendars.reassigned(booking.uid, organizer.id)
