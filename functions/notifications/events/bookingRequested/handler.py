"""bookingRequested -> 'request received' to the attendee, 'please confirm or decline' to the organizer."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.notifications import NotificationService


def handle(event: BookingEvent, notifications: NotificationService) -> None:
    notifications.email("requested", event.detail.booking)
