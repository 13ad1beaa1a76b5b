"""meetingStarted (EventBridge Scheduler, at the booking's start) -> MEETING_STARTED, if the booking is still accepted."""

from booking_core import clock
from booking_core.events.contracts import ScheduledEvent
from booking_core.ports import BookingStore
from booking_core.services.webhooks import WebhookService


def handle(event: ScheduledEvent, webhooks: WebhookService, store: BookingStore) -> None:
    booking = store.get_booking(event.detail.booking_uid)
    if booking is not None and booking.status == "accepted":
        webhooks.fan_out_moment("MEETING_STARTED", event.event_id, booking, clock.now())
