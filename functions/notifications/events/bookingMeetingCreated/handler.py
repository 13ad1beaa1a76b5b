"""bookingMeetingCreated (the app-sync step made the booking's meeting) -> the emails held for its link go out now,
with it (once, whichever of this and the end of the wait comes first)."""

from booking_core import meeting_wait
from booking_core.events.contracts import BookingEvent
from booking_core.services.notifications import NotificationService


def handle(event: BookingEvent, notifications: NotificationService) -> None:
    held = meeting_wait.cause_of(event)
    if held is not None:
        notifications.release(held)
