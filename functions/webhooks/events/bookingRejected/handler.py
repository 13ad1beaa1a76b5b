"""bookingRejected -> BOOKING_REJECTED; no meeting will happen."""

from booking_core import clock
from booking_core.events.contracts import BookingEvent
from booking_core.scheduling import MomentScheduler
from booking_core.services.webhooks import WebhookService, clear_meeting


def handle(event: BookingEvent, webhooks: WebhookService, moments: MomentScheduler) -> None:
    webhooks.fan_out(event, clock.now())
    clear_meeting(moments, event.detail.booking.uid)
