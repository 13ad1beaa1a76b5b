"""bookingUpdated (guests or location) -> BOOKING_UPDATED (held while a newly chosen meeting app's link is being
made)."""

from booking_core import clock
from booking_core.events.contracts import BookingEvent
from booking_core.services.webhooks import WebhookService


def handle(event: BookingEvent, webhooks: WebhookService) -> None:
    webhooks.announce(event, clock.now())
