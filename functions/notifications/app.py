"""notifications: booking emails (SES) and reminders (EventBridge Scheduler one-time schedules); emails waiting for
a meeting link come back as `meetingLinkDue` jobs on the feature's own queue."""

from pathlib import Path

from booking_core.config import require
from booking_core.meeting_wait import WAIT_JOB
from booking_core.repositories.bookings import DynamoBookingStore
from booking_core.services.notifications import NotificationService
from booking_core.subscribers import Subscriber

require("NOTIFICATIONS_QUEUE_URL", "EVENT_BUS_ARN", "SCHEDULER_ROLE_ARN")  # at cold start, or fail there


def link_due(job: dict, notifications: NotificationService) -> None:
    notifications.link_due(job)


subscriber = Subscriber(
    "notifications",
    Path(__file__).parent,
    dependencies=lambda: {"notifications": NotificationService(DynamoBookingStore())},
    jobs={WAIT_JOB: link_due},
)
lambda_handler = subscriber.lambda_handler
