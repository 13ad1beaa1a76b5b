"""bookingCancelled -> the calendar event is deleted (unless only a seat left a booking that goes on)."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.calendars import CalendarSync


def handle(event: BookingEvent, calendars: CalendarSync) -> None:
    calendars.removed(event.detail.booking.uid)
