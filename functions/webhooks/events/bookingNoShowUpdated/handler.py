"""bookingNoShowUpdated -> BOOKING_NO_SHOW_UPDATED ({bookingUid, bookingId, attendees: [{email, noShow}], host?,
message}, as cal.com sends it)."""

from booking_core import clock
from booking_core.events.contracts import BookingEvent
from booking_core.services.webhooks import WebhookService


def handle(event: BookingEvent, webhooks: WebhookService) -> None:
    webhooks.fan_out(event, clock.now())
