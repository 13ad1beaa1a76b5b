"""Booker routes (CONTRACT.md section 3): slots, bookings, reschedule, cancel. Public; an Idempotency-Key makes
retries of mutating requests safe; a booker JWT (optional) signs the booker in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from booking_core import clock
from booking_core.auth import signed_in_email
from booking_core.domain.bookings import CancelInput, CreateBookingInput, RescheduleInput
from booking_core.errors import DomainError
from booking_core.idempotency import run_idempotent
from booking_core.pipeline.context import CreatedBooking
from booking_core.pipeline.runner import create_booking, reschedule_booking
from booking_core.repositories.bookings import DynamoBookingStore
from booking_core.services.bookings import get_booking
from booking_core.services.changes import cancel
from booking_core.services.slots import get_slots
from routes.http import JSON, Routes, admin_key_matches, configured_admin_key, error_response, ok


def created_body(outcome: CreatedBooking) -> Any:
    """A recurring series answers with the array of its bookings; everything else with one booking."""
    bodies = [record.public() for record in outcome.bookings]
    return bodies if len(bodies) > 1 or outcome.booking.recurring_booking_uid else bodies[0]


def register(routes: Routes) -> None:
    app = routes.app
    store = DynamoBookingStore()

    def booker() -> str | None:
        event = app.current_event
        return signed_in_email(event.raw_event, event.headers, configured_admin_key())

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
        private_link: Annotated[str | None, Query(alias="privateLink", max_length=200)] = None,
    ):
        return ok(get_slots(store, clock.now(), event_type_id, start, end, time_zone, duration, private_link))

    def book_as(body: CreateBookingInput, email: Callable[[], str | None]) -> Response:
        def produce() -> Response:
            outcome = create_booking(body, store, clock.now(), email())
            return ok(created_body(outcome), 201 if outcome.created else 200)

        return idempotent(produce)

    @routes.public("POST", "/v2/bookings", tags=["bookings"], summary="Book a slot",
                   description="Returns 201 with the booking (an array for a recurring type), or 200 with the "
                               "existing booking when the same attendee already holds this type at this start. "
                               "An optional `Authorization: Bearer <booker JWT>` signs the booker in.")
    def book(body: Annotated[CreateBookingInput, Body()]):
        return book_as(body, booker)

    @routes.public("POST", "/v2/me/bookings", tags=["bookings"], summary="Book a slot as the signed-in booker",
                   description="Behind API Gateway's JWT authorizer: the verified `email` claim is the booker.")
    def book_signed_in(body: Annotated[CreateBookingInput, Body()]):
        return book_as(body, booker)

    @routes.public("GET", "/v2/bookings/<uid>", tags=["bookings"], summary="Get a booking")
    def get_one(uid: Annotated[str, Path()], seat_uid: Annotated[str | None, Query(alias="seatUid")] = None):
        authorization = (app.current_event.headers or {}).get("authorization", "")
        return ok(get_booking(store, uid, seat_uid, admin=admin_key_matches(authorization)))

    @routes.public("POST", "/v2/bookings/<uid>/reschedule", tags=["bookings"], summary="Reschedule a booking",
                   description="201 with the new booking (rescheduledFromUid = the old uid); the old booking is "
                               "cancelled with rescheduledToUid. Seated bookings move one seat (seatUid).")
    def reschedule(uid: Annotated[str, Path()], body: Annotated[RescheduleInput, Body()]):
        def produce() -> Response:
            outcome = reschedule_booking(uid, body, store, clock.now(), booker())
            return ok(outcome.booking.public(), 201)

        return idempotent(produce)

    @routes.public("POST", "/v2/bookings/<uid>/cancel", tags=["bookings"], summary="Cancel a booking (or one seat)")
    def cancel_one(uid: Annotated[str, Path()], body: Annotated[CancelInput, Body()]):
        return idempotent(lambda: ok(cancel(store, uid, body, clock.now())))
