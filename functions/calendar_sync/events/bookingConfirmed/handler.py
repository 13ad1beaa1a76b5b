"""bookingConfirmed (host confirmed or paid) -> the event in the organizer's destination calendar."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.calendars import CalendarSync


def handle(event: BookingEvent, calendars: CalendarSync) -> None:
    calendars.created(event.detail.booking.uid)
