"""bookingCreated -> the event in the organizer's destination calendar (accepted bookings; once, even if the event
is delivered again: the calendar write is keyed by the booking's calendar UID)."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.calendars import CalendarSync


def handle(event: BookingEvent, calendars: CalendarSync) -> None:
    calendars.created(event.detail.booking.uid)
