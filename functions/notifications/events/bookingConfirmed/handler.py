"""bookingConfirmed (host confirmed or payment completed) -> the same emails as an accepted booking; reminders."""

from booking_core import clock
from booking_core.events.contracts import BookingEvent
from booking_core.services.notifications import NotificationService


def handle(event: BookingEvent, notifications: NotificationService) -> None:
    notifications.announce(event)
    record = notifications.record_of(event)
    if record is not None and record.status == "accepted":
        notifications.schedule_reminders(record, clock.now())
