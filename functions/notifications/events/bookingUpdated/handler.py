"""bookingUpdated (guests or location changed by the host) -> guests new on the booking get the invitation, everyone
else the update, each with the .ics at its higher SEQUENCE (held while a newly chosen meeting app's link is being
made: booking_core.meeting_wait)."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.notifications import NotificationService


def handle(event: BookingEvent, notifications: NotificationService) -> None:
    notifications.announce(event)
