"""Booker routes (docs/api.md "Booker API"): slots, bookings, reschedule, cancel. Public; an Idempotency-Key makes
retries of mutating requests safe; a booker JWT (optional) signs the booker in."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from booking_core import clock
from booking_core.domain.common import MAX_ID, MAX_UID
from booking_core.domain.bookings import CancelInput, CreateBookingInput, RescheduleInput
from booking_core.domain.reservations import ReservationInput, ReservationPatch
from booking_core.errors import DomainError
from booking_core.idempotency import run_idempotent
from booking_core.pipeline.context import CreatedBooking
from booking_core.pipeline.runner import create_booking, reschedule_booking
from booking_core.repositories.bookings import DynamoBookingStore
from booking_core.repositories.listing import DynamoBookingListing
from booking_core.services.abuse import email_window, ip_admission
from booking_core.services.bookings import get_booking
from booking_core.services import reservations
from booking_core.services.changes import cancel
from booking_core.services.slots import get_slots
from routes.http import (
    BOOKER_SECURITY,
    JSON,
    Routes,
    admin_key_matches,
    configured_admin_key,
    error_response,
    ok,
    signed_in_booker,
)

# What creating or moving a booking can answer besides 201 (and 400/413/500 on every route): 200 with the existing
# booking for a repeat; 401 a booker token that fails verification; 403 blocklist, sign-in, private link, notice;
# 404 event type, booking or routing response; 409 availability, seats, limits; 422 no hosts, reused
# Idempotency-Key; 429 abuse limits.
BOOKING_STATUSES = (200, 401, 403, 404, 409, 422, 429)
RESCHEDULE_STATUSES = (401, 403, 404, 409, 422, 429)
# A reservation answers what a booking of its slot would (no attendee rules, no repeat: 200 is never a repeat).
RESERVATION_STATUSES = (403, 404, 409, 422, 429)


def created_body(outcome: CreatedBooking) -> Any:
    """A recurring series answers with the array of its bookings; everything else with one booking."""
    bodies = [record.public() for record in outcome.bookings]
    return bodies if len(bodies) > 1 or outcome.booking.recurring_booking_uid else bodies[0]


def register(routes: Routes) -> None:
    app = routes.app
    store = DynamoBookingStore()
    listing = DynamoBookingListing()

    def booker() -> str | None:
        return signed_in_booker(app.current_event)

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

    @routes.public("GET", "/v2/slots", errors=(403, 404), tags=["slots"], summary="Bookable slots of an event type")
    def slots(
        event_type_id: Annotated[int, Query(alias="eventTypeId", ge=1, le=MAX_ID)],
        start: Annotated[str, Query(max_length=64, description="a date (whole days in timeZone) or an ISO 8601 instant")],
        end: Annotated[str, Query(max_length=64, description="a date (inclusive) or an ISO 8601 instant")],
        time_zone: Annotated[str, Query(alias="timeZone", max_length=64)] = "UTC",
        duration: Annotated[int | None, Query(ge=1, le=1440)] = None,
        private_link: Annotated[str | None, Query(alias="privateLink", max_length=200)] = None,
    ):
        return ok(get_slots(store, clock.now(), event_type_id, start, end, time_zone, duration, private_link))

    def admission(now: datetime) -> Callable[[], None] | None:
        """The per-IP abuse check of this request (API Gateway's view of the caller's address)."""
        return ip_admission(app.current_event.request_context.http.source_ip, now)

    def book_as(body: CreateBookingInput, email: Callable[[], str | None]) -> Response:
        def produce() -> Response:
            now = clock.now()
            outcome = create_booking(body, store, now, email(), admit=admission(now),
                                     email_window=email_window(body.attendee.email, now))
            return ok(created_body(outcome), 201 if outcome.created else 200)

        return idempotent(produce)

    @routes.public("POST", "/v2/bookings", success=201, errors=BOOKING_STATUSES, tags=["bookings"], summary="Book a slot",
                   description="Returns 201 with the booking (an array for a recurring type), or 200 with the "
                               "existing booking when the same attendee already holds this type at this start. "
                               "An optional `Authorization: Bearer <booker JWT>` signs the booker in.")
    def book(body: Annotated[CreateBookingInput, Body()]):
        return book_as(body, booker)

    @routes.public("POST", "/v2/me/bookings", success=201, errors=BOOKING_STATUSES, security=BOOKER_SECURITY,
                   tags=["bookings"], summary="Book a slot as the signed-in booker",
                   description="Behind API Gateway's JWT authorizer: the verified `email` claim is the booker.")
    def book_signed_in(body: Annotated[CreateBookingInput, Body()]):
        return book_as(body, booker)  # the resolver has checked that a booker is signed in

    @routes.public("GET", "/v2/bookings/<uid>", tags=["bookings"], summary="Get a booking, or a recurring series",
                   description="A seat holder passes `seatUid` and sees their own seat's data only; the other "
                               "attendees' names and emails only with showAttendeeInfo (the admin key sees all). "
                               "A recurringBookingUid answers with the array of the series' bookings by start "
                               "(occurrences and the ones rescheduled away; at most 100).")
    def get_one(uid: Annotated[str, Path(max_length=MAX_UID)],
                seat_uid: Annotated[str | None, Query(alias="seatUid", max_length=MAX_UID)] = None):
        authorization = (app.current_event.headers or {}).get("authorization", "")
        return ok(get_booking(store, uid, seat_uid, admin=admin_key_matches(authorization), listing=listing))

    @routes.public("POST", "/v2/bookings/<uid>/reschedule", success=201, errors=RESCHEDULE_STATUSES, tags=["bookings"],
                   summary="Reschedule a booking",
                   description="201 with the new booking (rescheduledFromUid = the old uid); the old booking is "
                               "cancelled with rescheduledToUid. Seated bookings move one seat (seatUid).")
    def reschedule(uid: Annotated[str, Path(max_length=MAX_UID)], body: Annotated[RescheduleInput, Body()]):
        def produce() -> Response:
            now = clock.now()
            outcome = reschedule_booking(uid, body, store, now, booker(), admit=admission(now))
            return ok(outcome.booking.public(), 201)

        return idempotent(produce)

    @routes.public("POST", "/v2/bookings/<uid>/cancel", errors=(403, 409, 422, 429), tags=["bookings"],
                   summary="Cancel a booking (or one seat, or a series from one occurrence on)",
                   description="With `seatUid` only that seat is released. A seated booking cancelled without "
                               "`seatUid` needs the admin key (the host cancels everyone): 403 forbidden_error "
                               "otherwise. `cancelSubsequentBookings: true` on an occurrence of a recurring series "
                               "cancels it and every later accepted or pending occurrence in one transaction (one "
                               "bookingCancelled each) and answers with their array.")
    def cancel_one(uid: Annotated[str, Path(max_length=MAX_UID)], body: Annotated[CancelInput, Body()]):
        by_host = admin_key_matches((app.current_event.headers or {}).get("authorization", ""))

        def produce() -> Response:
            now = clock.now()
            return ok(cancel(store, uid, body, now, by_host=by_host, admit=admission(now), listing=listing))

        return idempotent(produce)

    @routes.public("POST", "/v2/slots/reservations", success=201, errors=RESERVATION_STATUSES, tags=["slots"],
                   summary="Hold a slot for a few minutes",
                   description="201 when a booking of the slot would succeed now, else the error that booking would "
                               "get (409 `slot_reserved` while someone else holds it). Until `reservationUntil` "
                               "(`reservationDuration` minutes, default 5, at most 15) the slot is not listed and "
                               "only a booking that passes `reservationUid` may take it; that booking consumes the "
                               "reservation. A reservation holds what that booking would: every fixed host, the "
                               "round-robin host it would get, and each occurrence of a recurring type; seated "
                               "types cannot be reserved (400). The uid is the capability for the other routes.")
    def reserve_slot(body: Annotated[ReservationInput, Body()]):
        def produce() -> Response:
            now = clock.now()
            return ok(reservations.reserve(store, body, now, admit=admission(now)), 201)

        return idempotent(produce)

    @routes.public("GET", "/v2/slots/reservations/<reservation_uid>", tags=["slots"],
                   summary="Get a slot reservation (404 once it has expired)")
    def get_reservation(reservation_uid: Annotated[str, Path(max_length=MAX_UID)]):
        return ok(reservations.get(store, reservation_uid, clock.now()))

    @routes.public("PATCH", "/v2/slots/reservations/<reservation_uid>", errors=(403, 409, 422, 429),
                   tags=["slots"], summary="Move or extend a slot reservation",
                   description="`slotStart` moves it (checked as a booking of the new slot would be, its own hold "
                               "ignored); `reservationDuration` holds it that many minutes from now (at most 15).")
    def move_reservation(reservation_uid: Annotated[str, Path(max_length=MAX_UID)],
                         body: Annotated[ReservationPatch, Body()]):
        def produce() -> Response:
            now = clock.now()
            return ok(reservations.move(store, reservation_uid, body, now, admit=admission(now)))

        return idempotent(produce)

    @routes.public("DELETE", "/v2/slots/reservations/<reservation_uid>", errors=(409, 422, 429), tags=["slots"],
                   summary="Release a slot reservation (the slot is free at once)")
    def release_reservation(reservation_uid: Annotated[str, Path(max_length=MAX_UID)]):
        def produce() -> Response:
            now = clock.now()
            reservations.cancel(store, reservation_uid, now, admit=admission(now))
            return ok(None)

        return idempotent(produce)

LIST_DESCRIPTION = (
    "Filters combine with AND. `status`: comma-separated categories, any of which a booking may be in: upcoming "
    "(accepted or pending, end >= now), unconfirmed (pending, end >= now), past (end < now, neither cancelled nor "
    "rejected), cancelled (cancelled or rejected), recurring (upcoming, part of a series). `afterStart`: start at or "
    "after; `beforeEnd`: end at or before (ISO 8601 instants). Ordered by start (`sortStart`, default asc). A page "
    "reads at most `take` index entries per index partition and never reads again to fill itself: it may hold fewer "
    "than `take` bookings, even none, while `pagination.hasNextPage` is true; pass `pagination.nextCursor` as "
    "`cursor` with the same filters for the next page (another query's cursor, or a changed one, is a 400). A "
    "seated booking shows the seat the listing matched (by attendee) and seatsRemaining, not every seat. Attendees "
    "are the bookers and seat holders (guests are not). -> {status, data: [booking], pagination: {returnedItems, "
    "hasNextPage, nextCursor}}")


# The listing's query parameters.
Email = Annotated[str | None, Query(alias="attendeeEmail", max_length=320)]
Status = Annotated[str | None, Query(max_length=100, description="comma-separated: upcoming, unconfirmed, past, "
                                                                 "cancelled, recurring")]
TypeId = Annotated[int | None, Query(alias="eventTypeId", ge=1, le=MAX_ID)]
UserId = Annotated[int | None, Query(alias="userId", ge=1, le=MAX_ID, description="bookings this user hosts")]
After = Annotated[str | None, Query(alias="afterStart", max_length=64, description="an ISO 8601 instant")]
Before = Annotated[str | None, Query(alias="beforeEnd", max_length=64, description="an ISO 8601 instant")]
Sort = Annotated[Literal["asc", "desc"], Query(alias="sortStart")]
Take = Annotated[int, Query(ge=1, le=250)]
Cursor = Annotated[str | None, Query(max_length=512, description="pagination.nextCursor of the previous page")]


def _listing() -> Any:
    from booking_core.services import listing

    return listing, DynamoBookingListing()


def register_listing(routes: Routes) -> None:
    """GET /v2/bookings (admin) and GET /v2/me/bookings (the signed-in booker's own), from the listing indexes."""
    from routes.http import Lazy

    app = routes.app
    lazy = Lazy(_listing)

    def answer(status: str | None, email: str | None, event_type_id: int | None, user_id: int | None,
               after_start: str | None, before_end: str | None, sort_start: str, take: int, cursor: str | None,
               audience: str) -> Response:
        module, listing = lazy()
        filters = module.Filters(
            statuses=module.parse_statuses(status), attendee_email=email, event_type_id=event_type_id,
            host_id=user_id, after_start=module.parse_instant(after_start, "afterStart"),
            before_end=module.parse_instant(before_end, "beforeEnd"), descending=sort_start == "desc")
        body = module.list_bookings(listing, filters, clock.now(), take, cursor, configured_admin_key() or "",
                                    audience)
        return Response(status_code=200, content_type=JSON, body=json.dumps(body))

    @routes.admin("GET", "/v2/bookings", tags=["bookings"], summary="List bookings", description=LIST_DESCRIPTION)
    def list_all(status: Status = None, attendee_email: Email = None, event_type_id: TypeId = None,
                 user_id: UserId = None, after_start: After = None, before_end: Before = None, sort_start: Sort = "asc",
                 take: Take = 100, cursor: Cursor = None):
        if attendee_email is not None:
            attendee_email = _checked_email(attendee_email)
        return answer(status, attendee_email, event_type_id, user_id, after_start, before_end, sort_start, take,
                      cursor, "admin")

    @routes.public("GET", "/v2/me/bookings", errors=(401,), security=BOOKER_SECURITY, tags=["bookings"],
                   summary="List the signed-in booker's bookings",
                   description="The same filters as GET /v2/bookings (but attendeeEmail, which is the token's "
                               "email), over the bookings whose attendee (or a seat's holder) is the signed-in "
                               "booker; a seated booking shows the booker's own seat. " + LIST_DESCRIPTION)
    def list_mine(status: Status = None, event_type_id: TypeId = None, user_id: UserId = None,
                  after_start: After = None, before_end: Before = None, sort_start: Sort = "asc", take: Take = 100,
                  cursor: Cursor = None):
        email = signed_in_booker(app.current_event)
        assert email is not None  # the resolver has checked that a booker is signed in
        return answer(status, email, event_type_id, user_id, after_start, before_end, sort_start, take, cursor,
                      f"me:{email.lower()}")


def _checked_email(value: str) -> str:
    from booking_core.domain.common import _email
    from booking_core.errors import invalid

    try:
        return _email(value)
    except ValueError as exc:
        raise invalid("attendeeEmail", str(exc)) from None
