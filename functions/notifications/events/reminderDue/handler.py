"""reminderDue (EventBridge Scheduler) -> a reminder to the attendees, only if the booking is still accepted."""

from booking_core.events.contracts import ScheduledEvent
from booking_core.services.notifications import NotificationService


def handle(event: ScheduledEvent, notifications: NotificationService) -> None:
    notifications.reminder_due(event)
