"""webhooks: cal.com-compatible deliveries of every booking change, MEETING_STARTED / MEETING_ENDED by schedule,
and the delivery attempts themselves (jobs on the feature's delivery queue)."""

from pathlib import Path

from booking_core import clock
from booking_core.repositories.bookings import DynamoBookingStore
from booking_core.scheduling import MomentScheduler
from booking_core.services.webhooks import DELIVERY_JOB, WebhookService
from booking_core.subscribers import Subscriber


def deliver(job: dict, webhooks: WebhookService) -> None:
    webhooks.attempt(job, clock.now())


subscriber = Subscriber(
    "webhooks",
    Path(__file__).parent,
    dependencies=lambda: {"webhooks": WebhookService(), "store": DynamoBookingStore(), "moments": MomentScheduler()},
    jobs={DELIVERY_JOB: deliver},
)
lambda_handler = subscriber.lambda_handler
