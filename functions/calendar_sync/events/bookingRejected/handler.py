"""bookingRejected -> no calendar event remains (a pending booking is only written once accepted)."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.calendars import CalendarSync


def handle(event: BookingEvent, calendars: CalendarSync) -> None:
    calendars.removed(event.detail.booking.uid)
