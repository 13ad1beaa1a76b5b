"""bookingReassigned -> the new host gets "new booking", the host who left "reassigned" (METHOD:CANCEL), attendees and
staying hosts the update (held while the new organizer's meeting is being made). Reminders stay: same time, same
attendees."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.notifications import NotificationService


def handle(event: BookingEvent, notifications: NotificationService) -> None:
    notifications.announce(event)
