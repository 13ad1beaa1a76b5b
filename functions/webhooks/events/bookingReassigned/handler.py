"""bookingReassigned -> BOOKING_REASSIGNED (held while the new organizer's meeting link is being made); the meeting
moments stay (same time)."""

from booking_core import clock
from booking_core.events.contracts import BookingEvent
from booking_core.services.webhooks import WebhookService


def handle(event: BookingEvent, webhooks: WebhookService) -> None:
    webhooks.announce(event, clock.now())
