"""bookingCreated -> confirmation to the attendee(s) and guests, new-booking email to the organizer (with .ics),
held while the meeting link is being made (booking_core.meeting_wait); reminders scheduled."""

from booking_core import clock
from booking_core.events.contracts import BookingEvent
from booking_core.services.notifications import NotificationService


def handle(event: BookingEvent, notifications: NotificationService) -> None:
    notifications.announce(event)
    record = notifications.record_of(event)
    if record is not None and record.status == "accepted":
        notifications.schedule_reminders(record, clock.now())
