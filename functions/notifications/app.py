"""notifications: booking emails (SES) and reminders (EventBridge Scheduler one-time schedules)."""

from pathlib import Path

from booking_core.repositories.bookings import DynamoBookingStore
from booking_core.services.notifications import NotificationService
from booking_core.subscribers import Subscriber

subscriber = Subscriber(
    "notifications",
    Path(__file__).parent,
    dependencies=lambda: {"notifications": NotificationService(DynamoBookingStore())},
)
lambda_handler = subscriber.lambda_handler
