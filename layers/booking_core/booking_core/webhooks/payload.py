"""cal.com-compatible webhook bodies (docs/events.md "Webhook deliveries"): `{triggerEvent, createdAt, payload}`.

The fields the contract lists are always present (optional ones only when they apply). Where the contract is silent
the shapes follow cal.com's documented 2021-10-20 payloads: `organizer.language` / `attendees[].language` are
`{"locale": ...}`; guests are listed among the attendees (empty name, the booker's time zone); `responses` holds the
booking-form answers as `{field: {label, value}}` with cal.com's system field names (name, email,
attendeePhoneNumber, location, notes, guests, rescheduleReason); custom fields are also in `userFieldsResponses`;
`metadata` is the booking's metadata plus `videoCallUrl`; a rejected booking carries `rejectionReason`; a reschedule
carries `rescheduleId` besides the contract's `rescheduleUid` / `rescheduleStartTime` / `rescheduleEndTime`.
Times are UTC with milliseconds and `Z`, and currencies upper case, as everywhere in the contract (section 1).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final

from booking_core.domain.bookings import Booking, BookingRecord, HostRef
from booking_core.events.contracts import BookingEvent, EventBooking
from booking_core.events.out_of_office import OutOfOfficeEvent, UserRef
from booking_core.ics import calendar_uid
from booking_core.timeutil import iso_z

TRIGGERS: Final[dict[str, str]] = {
    "bookingCreated": "BOOKING_CREATED",
    "bookingConfirmed": "BOOKING_CREATED",
    "bookingRequested": "BOOKING_REQUESTED",
    "bookingPaymentInitiated": "BOOKING_PAYMENT_INITIATED",
    "bookingPaid": "BOOKING_PAID",
    "bookingRejected": "BOOKING_REJECTED",
    "bookingRescheduled": "BOOKING_RESCHEDULED",
    "bookingCancelled": "BOOKING_CANCELLED",
    "bookingNoShowUpdated": "BOOKING_NO_SHOW_UPDATED",
    "bookingReassigned": "BOOKING_REASSIGNED",
    "bookingUpdated": "BOOKING_UPDATED",
}
NO_SHOW_TRIGGER: Final = "BOOKING_NO_SHOW_UPDATED"
MEETING_TRIGGERS: Final[tuple[str, ...]] = ("MEETING_STARTED", "MEETING_ENDED")
OOO_TRIGGER: Final = "OOO_CREATED"  # outOfOfficeCreated

# cal.com's system booking fields: response key -> label.
_SYSTEM_LABELS: Final[dict[str, str]] = {
    "name": "your_name",
    "email": "email_address",
    "attendeePhoneNumber": "phone_number",
    "location": "location",
    "title": "what_is_this_meeting_about",
    "notes": "additional_notes",
    "guests": "additional_guests",
    "rescheduleReason": "reason_for_reschedule",
}


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


def _person(name: str, email: str, time_zone: str, locale: str) -> dict[str, Any]:
    return {"name": name, "email": email, "timeZone": time_zone, "language": {"locale": locale or "en"}}


def _attendees(booking: Booking, organizer: HostRef) -> list[dict[str, Any]]:
    people = [_person(a.name, a.email, a.time_zone, a.language) for a in booking.attendees]
    booker_zone = booking.attendees[0].time_zone if booking.attendees else organizer.time_zone
    # As cal.com lists guests: no name, the booker's time zone, English.
    people += [_person("", guest, booker_zone, "en") for guest in booking.guests]
    return people


def _responses(booking: Booking) -> dict[str, Any]:
    """The booking-form answers, cal.com style: {field: {label, value}}."""
    booker = booking.attendees[0] if booking.attendees else None
    responses: dict[str, Any] = {}
    if booker is not None:
        responses["name"] = {"label": _SYSTEM_LABELS["name"], "value": booker.name}
        responses["email"] = {"label": _SYSTEM_LABELS["email"], "value": booker.email}
        if booker.phone_number:
            responses["attendeePhoneNumber"] = {"label": _SYSTEM_LABELS["attendeePhoneNumber"],
                                                "value": booker.phone_number}
    if booking.location:
        responses["location"] = {"label": _SYSTEM_LABELS["location"],
                                 "value": {"optionValue": "", "value": booking.location}}
    responses["guests"] = {"label": _SYSTEM_LABELS["guests"], "value": list(booking.guests)}
    if booking.rescheduling_reason:
        responses["rescheduleReason"] = {"label": _SYSTEM_LABELS["rescheduleReason"],
                                         "value": booking.rescheduling_reason}
    custom = _user_fields(booking)
    for key, value in booking.booking_fields_responses.items():
        if key not in responses:
            responses[key] = custom.get(key) or {"label": _SYSTEM_LABELS.get(key, key), "value": value}
    return responses


def _user_fields(booking: Booking) -> dict[str, Any]:
    """The answers to the type's own questions, {slug: {label, value}} with the labels the booking was made with
    (the slug where the type declared none); hidden fields say so (`isHidden`), as cal.com marks them."""
    labels = {field.slug: field for field in getattr(booking, "booking_fields", None) or []}
    out: dict[str, Any] = {}
    for key, value in booking.booking_fields_responses.items():
        if key in _SYSTEM_LABELS and key not in labels:
            continue
        field = labels.get(key)
        out[key] = {"label": field.label if field else key, "value": value}
        if field is not None and field.hidden:
            out[key]["isHidden"] = True
    return out


def _default_price(booking: EventBooking | BookingRecord) -> tuple[int | None, str | None]:
    if isinstance(booking, BookingRecord):
        return booking.price_amount, booking.price_currency
    return booking.price, booking.currency


def booking_payload(booking: EventBooking | BookingRecord, price: int | None | _Unset = UNSET,
                    currency: str | None | _Unset = UNSET) -> dict[str, Any]:
    """The `payload` object for one booking (an EventBooking from the bus or a stored BookingRecord).

    `price` in minor units and `currency` default to what the booking carries; pass them to override.
    """
    default_price, default_currency = _default_price(booking)
    amount = default_price if isinstance(price, _Unset) else price
    code = default_currency if isinstance(currency, _Unset) else currency
    organizer = booking.organizer  # EventBooking carries it; BookingRecord derives it from its hosts
    metadata: dict[str, Any] = dict(booking.metadata)
    if booking.meeting_url:
        metadata["videoCallUrl"] = booking.meeting_url
    notes = booking.booking_fields_responses.get("notes")
    payload: dict[str, Any] = {
        "type": booking.event_type.slug,
        "title": booking.title,
        "description": booking.description or "",
        "additionalNotes": notes if isinstance(notes, str) else "",
        "startTime": iso_z(booking.start),
        "endTime": iso_z(booking.end),
        "organizer": {"id": organizer.id, **_person(organizer.name, organizer.email, organizer.time_zone,
                                                    organizer.locale)},
        "attendees": _attendees(booking, organizer),
        "location": booking.location,
        "uid": booking.uid,
        "bookingId": booking.id,
        "eventTypeId": booking.event_type_id,
        "status": booking.status.upper(),
        "length": booking.duration,
        "price": amount or 0,
        "currency": code.upper() if code and amount else None,
        "metadata": metadata,
        "responses": _responses(booking),
        "userFieldsResponses": _user_fields(booking),
        "customInputs": {},
        "iCalUID": calendar_uid(booking),
        "iCalSequence": booking.ical_sequence,
    }
    if booking.status == "cancelled" and booking.cancellation_reason:
        payload["cancellationReason"] = booking.cancellation_reason
    if booking.status == "rejected" and booking.cancellation_reason:
        payload["rejectionReason"] = booking.cancellation_reason  # the host's decline reason (cal.com's name)
    if booking.seat_uid:
        payload["seatUid"] = booking.seat_uid
    if booking.reschedule_requested:
        payload["rescheduleRequested"] = True
    return payload


def no_show_payload(event: BookingEvent) -> dict[str, Any]:
    """BOOKING_NO_SHOW_UPDATED as cal.com sends it: the booking, the attendees the request named with their new
    flag, the host when it named the host, and a sentence saying what changed."""
    booking = event.detail.booking
    change = event.detail.context.no_show
    attendees = [{"email": a.email, "noShow": a.no_show} for a in (change.attendees if change else [])]
    payload: dict[str, Any] = {"bookingUid": booking.uid, "bookingId": booking.id, "attendees": attendees}
    parts = [f"{a['email']} marked as {'no-show' if a['noShow'] else 'present'}" for a in attendees]
    if change is not None and change.host is not None:
        payload["host"] = {"email": booking.organizer.email, "noShow": change.host}
        parts.insert(0, f"host marked as {'no-show' if change.host else 'present'}")
    payload["message"] = "; ".join(parts) or "no-show updated"
    return payload


def build_payload(trigger: str, event: BookingEvent, *, price: int | None | _Unset = UNSET,
                  currency: str | None | _Unset = UNSET, created_at: datetime) -> dict[str, Any]:
    """The body for a booking change. In BOOKING_RESCHEDULED `uid` is the new booking and `rescheduleUid` the old one
    (`event.detail.previous_booking`)."""
    if trigger not in TRIGGERS.values():
        raise ValueError(f"{trigger!r} is not a booking-change trigger")
    if trigger == NO_SHOW_TRIGGER:
        return {"triggerEvent": trigger, "createdAt": iso_z(created_at), "payload": no_show_payload(event)}
    booking = event.detail.booking
    payload = booking_payload(booking, price, currency)
    if trigger == "BOOKING_REASSIGNED" and event.detail.context.reassign_reason:
        payload["reassignReason"] = event.detail.context.reassign_reason
    previous = event.detail.previous_booking
    if trigger == "BOOKING_RESCHEDULED" and previous is not None:
        payload.update(
            rescheduleId=previous.id,
            rescheduleUid=previous.uid,
            rescheduleStartTime=iso_z(previous.start),
            rescheduleEndTime=iso_z(previous.end),
        )
    elif trigger == "BOOKING_RESCHEDULED" and booking.rescheduled_from_uid:
        payload["rescheduleUid"] = booking.rescheduled_from_uid  # the old booking's details were not in the event
    if trigger == "BOOKING_RESCHEDULED" and booking.rescheduled_by:
        payload["rescheduledBy"] = booking.rescheduled_by
    return {"triggerEvent": trigger, "createdAt": iso_z(created_at), "payload": payload}


def build_meeting_payload(trigger: str, booking: BookingRecord, *, created_at: datetime,
                          price: int | None | _Unset = UNSET,
                          currency: str | None | _Unset = UNSET) -> dict[str, Any]:
    """MEETING_STARTED / MEETING_ENDED, from the booking as stored when the moment comes.

    The same envelope and payload as the booking triggers (the contract has one body shape); cal.com itself sends
    these two flat, without the `payload` wrapper.
    """
    if trigger not in MEETING_TRIGGERS:
        raise ValueError(f"{trigger!r} is not a meeting trigger")
    return {"triggerEvent": trigger, "createdAt": iso_z(created_at),
            "payload": booking_payload(booking, price, currency)}



def _ooo_user(user: UserRef | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.id, "name": user.name, "username": None, "email": user.email, "timeZone": user.time_zone}


def build_ooo_payload(event: OutOfOfficeEvent, *, created_at: datetime) -> dict[str, Any]:
    """OOO_CREATED, shaped as cal.com sends it: `payload.oooEntry` with the user and the user bookings go to
    (`toUser`); the entry's reason is both `notes` and `reason.reason` (cal.com keeps a reason list and free notes)."""
    entry = event.detail.out_of_office
    return {"triggerEvent": OOO_TRIGGER, "createdAt": iso_z(created_at), "payload": {"oooEntry": {
        "id": entry.id,
        "start": iso_z(entry.start),
        "end": iso_z(entry.end),
        "createdAt": iso_z(entry.created_at),
        "updatedAt": iso_z(entry.created_at),
        "notes": entry.reason,
        "reason": {"emoji": None, "reason": entry.reason},
        "reasonId": None,
        "user": _ooo_user(event.detail.user),
        "toUser": _ooo_user(event.detail.redirect_to_user),
    }}}


def to_json(body: dict[str, Any]) -> str:
    """The body as sent: compact JSON; its UTF-8 bytes are what gets signed and posted."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


__all__ = ["MEETING_TRIGGERS", "OOO_TRIGGER", "TRIGGERS", "UNSET", "booking_payload", "build_meeting_payload",
           "build_ooo_payload", "build_payload", "to_json"]
