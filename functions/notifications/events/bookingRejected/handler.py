"""bookingRejected -> 'declined' to the attendee(s); nothing to remind."""

from booking_core.events.contracts import BookingEvent
from booking_core.services.notifications import NotificationService


def handle(event: BookingEvent, notifications: NotificationService) -> None:
    booking = event.detail.booking
    notifications.email("declined", booking, reason=booking.cancellation_reason)
    record = notifications.record_of(event)
    if record is not None:
        notifications.delete_reminders(record)
