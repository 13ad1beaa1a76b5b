"""bookingRescheduled -> 'rescheduled' to everyone (same calendar UID, higher SEQUENCE); reminders move."""

from booking_core import clock
from booking_core.events.contracts import BookingEvent
from booking_core.services.notifications import NotificationService


def handle(event: BookingEvent, notifications: NotificationService) -> None:
    detail = event.detail
    notifications.announce(event)
    if detail.previous_booking is not None:
        previous = notifications.store.get_booking(detail.previous_booking.uid)
        if previous is not None and previous.status != "accepted":
            notifications.delete_reminders(previous)
    record = notifications.record_of(event)
    if record is not None and record.status == "accepted":
        notifications.schedule_reminders(record, clock.now())
