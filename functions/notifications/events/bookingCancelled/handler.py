"""bookingCancelled -> 'cancelled' (METHOD:CANCEL) to everyone concerned, or, when the host asked the booker to pick
another time (rescheduleRequested), 'please pick a new time' with the reason; reminders deleted once the booking is
gone (a seat leaving a seated booking keeps them for the others)."""

from booking_core.domain.bookings import is_active
from booking_core.events.contracts import BookingEvent
from booking_core.services.notifications import NotificationService


def handle(event: BookingEvent, notifications: NotificationService) -> None:
    booking = event.detail.booking
    kind = "reschedule_requested" if booking.reschedule_requested else "cancelled"
    notifications.email(kind, booking, reason=booking.cancellation_reason)
    record = notifications.record_of(event)
    if record is not None and not is_active(record.status):
        notifications.delete_reminders(record)
