"""bookingCreated of a routed round-robin booking -> its assignmentReason (which response, which member list or
rule chose the host)."""

from booking_core.events.contracts import BookingEvent
from booking_core.ports import BookingStore
from booking_core.repositories.access import RoutingResponseRepository
from booking_core.services.routing import record_assignment


def handle(event: BookingEvent, store: BookingStore, responses: RoutingResponseRepository) -> None:
    response_id = event.detail.context.routing_form_response_id
    if response_id is not None:
        record_assignment(store, responses, event.detail.booking.uid, response_id)
