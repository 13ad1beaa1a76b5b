"""webhooks: cal.com-compatible deliveries of every booking change, MEETING_STARTED / MEETING_ENDED by schedule,
and the delivery attempts themselves (jobs on the feature's delivery queue, as are the deliveries held for a
meeting link when their wait ends)."""

from pathlib import Path

from booking_core import clock
from booking_core.config import require
from booking_core.meeting_wait import WAIT_JOB
from booking_core.ports import BookingStore
from booking_core.repositories.bookings import DynamoBookingStore
from booking_core.scheduling import MomentScheduler
from booking_core.services.webhooks import DELIVERY_JOB, WebhookService
from booking_core.subscribers import Subscriber

require("WEBHOOK_DELIVERY_QUEUE_URL", "EVENT_BUS_ARN", "SCHEDULER_ROLE_ARN")  # at cold start, or fail there


def deliver(job: dict, webhooks: WebhookService) -> None:
    webhooks.attempt(job, clock.now())


def link_due(job: dict, webhooks: WebhookService, store: BookingStore) -> None:
    webhooks.link_due(job, store, clock.now())


subscriber = Subscriber(
    "webhooks",
    Path(__file__).parent,
    dependencies=lambda: {"webhooks": WebhookService(), "store": DynamoBookingStore(), "moments": MomentScheduler()},
    jobs={DELIVERY_JOB: deliver, WAIT_JOB: link_due},
)
lambda_handler = subscriber.lambda_handler
