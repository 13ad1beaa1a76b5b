"""bookingRescheduled -> the same calendar event (same UID, higher SEQUENCE) moves to the new time."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.calendars import CalendarSync


def handle(event: BookingEvent, calendars: CalendarSync) -> None:
    previous = event.detail.previous_booking
    calendars.rescheduled(event.detail.booking.uid, previous.uid if previous else None)
