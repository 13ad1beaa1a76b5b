"""bookingPaid -> BOOKING_PAID to every matching subscription."""

from booking_core import clock
from booking_core.events.contracts import BookingEvent
from booking_core.services.webhooks import WebhookService


def handle(event: BookingEvent, webhooks: WebhookService) -> None:
    webhooks.fan_out(event, clock.now())
