"""bookingConfirmed (host confirmed, or payment completed) -> BOOKING_CREATED; the meeting moments are scheduled."""

from booking_core import clock
from booking_core.events.contracts import BookingEvent
from booking_core.scheduling import MomentScheduler
from booking_core.services.webhooks import WebhookService, schedule_meeting


def handle(event: BookingEvent, webhooks: WebhookService, moments: MomentScheduler) -> None:
    now = clock.now()
    webhooks.announce(event, now)
    schedule_meeting(moments, event.detail.booking, now)
