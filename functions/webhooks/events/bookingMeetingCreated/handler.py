"""bookingMeetingCreated (the app-sync step made the booking's meeting) -> the deliveries held for its link
(BOOKING_CREATED, BOOKING_RESCHEDULED) are recorded now, with it; a subscription the end of the wait already served
is not served twice (the delivery ids are the held change's)."""

from booking_core import clock, meeting_wait
from booking_core.events.contracts import BookingEvent
from booking_core.services.webhooks import WebhookService


def handle(event: BookingEvent, webhooks: WebhookService) -> None:
    held = meeting_wait.cause_of(event)
    if held is not None:
        webhooks.fan_out(held, clock.now())
