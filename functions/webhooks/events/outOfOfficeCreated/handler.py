"""outOfOfficeCreated -> OOO_CREATED to the subscriptions of every booking and of that user."""

from booking_core import clock
from booking_core.events.out_of_office import OutOfOfficeEvent
from booking_core.services.webhooks import WebhookService


def handle(event: OutOfOfficeEvent, webhooks: WebhookService) -> None:
    webhooks.fan_out_ooo(event, clock.now())
