"""bookingRescheduled -> BOOKING_RESCHEDULED (uid = new booking, rescheduleUid = old); the meeting moments move."""

from booking_core import clock
from booking_core.events.contracts import BookingEvent
from booking_core.scheduling import MomentScheduler
from booking_core.services.webhooks import WebhookService, clear_meeting, schedule_meeting


def handle(event: BookingEvent, webhooks: WebhookService, moments: MomentScheduler) -> None:
    now = clock.now()
    webhooks.announce(event, now)
    previous = event.detail.previous_booking
    if previous is not None and previous.status != "accepted":
        clear_meeting(moments, previous.uid)
    schedule_meeting(moments, event.detail.booking, now)
