"""bookingCreated -> every booked host was active now: move their lastActiveAt forward (never back)."""

from booking_core.events.contracts import BookingEvent
from booking_core.repositories.entities import UserRepository


def handle(event: BookingEvent, users: UserRepository) -> None:
    for host in event.detail.booking.hosts:
        users.touch_last_active(host.id, event.detail.occurred_at)
