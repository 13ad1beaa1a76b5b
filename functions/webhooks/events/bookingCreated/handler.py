"""bookingCreated -> BOOKING_CREATED to every matching subscription (held while the meeting link is being made:
booking_core.meeting_wait); an accepted booking gets its meeting moments."""

from booking_core import clock
from booking_core.events.contracts import BookingEvent
from booking_core.scheduling import MomentScheduler
from booking_core.services.webhooks import WebhookService, schedule_meeting


def handle(event: BookingEvent, webhooks: WebhookService, moments: MomentScheduler) -> None:
    now = clock.now()
    webhooks.announce(event, now)
    schedule_meeting(moments, event.detail.booking, now)
