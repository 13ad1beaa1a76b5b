"""routing_forms: records why a routed round-robin booking went to its host (the booking's assignmentReason)."""

from pathlib import Path

from booking_core.repositories.access import RoutingResponseRepository
from booking_core.repositories.bookings import DynamoBookingStore
from booking_core.subscribers import Subscriber

subscriber = Subscriber(
    "routing_forms",
    Path(__file__).parent,
    dependencies=lambda: {"store": DynamoBookingStore(), "responses": RoutingResponseRepository()},
)
lambda_handler = subscriber.lambda_handler
