"""bookingCreated -> the organizer's meeting (when the type names a meeting app), then the event in their
destination calendar, carrying its link (accepted bookings; once, even if the event is delivered again: the
meeting and the calendar write are remembered on the booking, and the calendar write is keyed by its UID)."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.calendars import CalendarSync
from booking_core.services.meetings import MeetingSync


def handle(event: BookingEvent, meetings: MeetingSync, calendars: CalendarSync) -> None:
    meetings.created(event.detail.booking.uid, event)
    calendars.created(event.detail.booking.uid)
