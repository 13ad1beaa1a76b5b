"""bookingCancelled -> BOOKING_CANCELLED; the meeting moments go once the booking itself is gone (a seat leaving
a seated booking leaves them in place)."""

from booking_core import clock
from booking_core.domain.bookings import is_active
from booking_core.events.contracts import BookingEvent
from booking_core.ports import BookingStore
from booking_core.scheduling import MomentScheduler
from booking_core.services.webhooks import WebhookService, clear_meeting


def handle(event: BookingEvent, webhooks: WebhookService, moments: MomentScheduler, store: BookingStore) -> None:
    webhooks.fan_out(event, clock.now())
    stored = store.get_booking(event.detail.booking.uid)
    if stored is None or not is_active(stored.status):
        clear_meeting(moments, event.detail.booking.uid)
