"""Booker routes (CONTRACT.md section 3): slots and bookings. Public; an Idempotency-Key makes retries safe."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from booking_core import clock
from booking_core.domain.bookings import CreateBookingInput
from booking_core.errors import DomainError
from booking_core.idempotency import run_idempotent
from booking_core.pipeline.runner import create_booking
from booking_core.repositories.bookings import DynamoBookingStore
from booking_core.services.bookings import get_booking
from booking_core.services.slots import get_slots
from routes.http import JSON, Routes, error_response, ok


def register(routes: Routes) -> None:
    app = routes.app
    store = DynamoBookingStore()

    def idempotent(produce: Callable[[], Response]) -> Response:
        """Run `produce` once per Idempotency-Key; a replay returns the stored response (4xx included)."""
        event = app.current_event
        key = (event.headers or {}).get("idempotency-key")
        if not key:
            return produce()

        def as_dict() -> dict[str, Any]:
            try:
                response = produce()
            except DomainError as error:
                if error.status >= 500:
                    raise
                response = error_response(error)
            return {"statusCode": response.status_code, "body": response.body}

        stored = run_idempotent(
            key=key,
            route=f"{event.http_method} {event.path}",
            body=event.body or "",
            produce=as_dict,
            lambda_context=app.lambda_context,
        )
        return Response(status_code=stored["statusCode"], content_type=JSON, body=stored["body"])

    @routes.public("GET", "/v2/slots", tags=["slots"], summary="Bookable slots of an event type")
    def slots(
        event_type_id: Annotated[int, Query(alias="eventTypeId")],
        start: Annotated[str, Query(description="a date (whole days in timeZone) or an ISO 8601 instant")],
        end: Annotated[str, Query(description="a date (inclusive) or an ISO 8601 instant")],
        time_zone: Annotated[str, Query(alias="timeZone")] = "UTC",
        duration: Annotated[int | None, Query(ge=1, le=1440)] = None,
    ):
        return ok(get_slots(store, clock.now(), event_type_id, start, end, time_zone, duration))

    @routes.public("POST", "/v2/bookings", tags=["bookings"], summary="Book a slot")
    def book(body: Annotated[CreateBookingInput, Body()]):
        def produce() -> Response:
            outcome = create_booking(body, store, clock.now())
            return ok(outcome.booking.public(), 201 if outcome.created else 200)

        return idempotent(produce)

    @routes.public("GET", "/v2/bookings/<uid>", tags=["bookings"], summary="Get a booking")
    def get_one(uid: Annotated[str, Path()]):
        return ok(get_booking(store, uid))

