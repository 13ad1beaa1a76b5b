"""cal.com-compatible webhook bodies (CONTRACT.md section 5): {triggerEvent, createdAt, payload}."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from booking_core.domain.bookings import Booking
from booking_core.events.contracts import BookingEvent
from booking_core.timeutil import iso_z

TRIGGERS: dict[str, str] = {
    "bookingCreated": "BOOKING_CREATED",
    "bookingConfirmed": "BOOKING_CREATED",
    "bookingRequested": "BOOKING_REQUESTED",
    "bookingPaymentInitiated": "BOOKING_PAYMENT_INITIATED",
    "bookingPaid": "BOOKING_PAID",
    "bookingRejected": "BOOKING_REJECTED",
    "bookingRescheduled": "BOOKING_RESCHEDULED",
    "bookingCancelled": "BOOKING_CANCELLED",
}


def _person(name: str, email: str, time_zone: str, locale: str) -> dict[str, Any]:
    return {"name": name, "email": email, "timeZone": time_zone, "language": {"locale": locale}}


def _responses(booking: Booking) -> dict[str, Any]:
    """cal.com's booking-question answers: {field: {label, value}}."""
    attendee = booking.attendees[0] if booking.attendees else None
    responses: dict[str, Any] = {}
    if attendee:
        responses["name"] = {"label": "your_name", "value": attendee.name}
        responses["email"] = {"label": "email_address", "value": attendee.email}
        if attendee.phone_number:
            responses["attendeePhoneNumber"] = {"label": "phone_number", "value": attendee.phone_number}
    if booking.location:
        responses["location"] = {"label": "location", "value": {"optionValue": "", "value": booking.location}}
    if booking.guests:
        responses["guests"] = {"label": "additional_guests", "value": list(booking.guests)}
    for key, value in booking.booking_fields_responses.items():
        responses.setdefault(key, {"label": key, "value": value})
    return responses


def booking_payload(booking: Booking, price: int | None = None, currency: str | None = None) -> dict[str, Any]:
    organizer = booking.hosts[0]
    attendees = [_person(a.name, a.email, a.time_zone, a.language) for a in booking.attendees]
    attendees += [_person(guest, guest, organizer.time_zone, organizer.locale) for guest in booking.guests]
    payload: dict[str, Any] = {
        "type": booking.event_type.slug,
        "title": booking.title,
        "description": booking.description,
        "startTime": iso_z(booking.start),
        "endTime": iso_z(booking.end),
        "organizer": {"id": organizer.id, **_person(organizer.name, organizer.email, organizer.time_zone,
                                                    organizer.locale)},
        "attendees": attendees,
        "location": booking.location,
        "uid": booking.uid,
        "bookingId": booking.id,
        "eventTypeId": booking.event_type_id,
        "status": booking.status.upper(),
        "length": booking.duration,
        "price": price or 0,
        "currency": (currency or "usd").lower() if price else None,
        "metadata": {"videoCallUrl": booking.meeting_url} if booking.meeting_url else {},
        "responses": _responses(booking),
    }
    if booking.cancellation_reason:
        payload["cancellationReason"] = booking.cancellation_reason
    if booking.seat_uid:
        payload["seatUid"] = booking.seat_uid
    return payload


def build_payload(trigger: str, event: BookingEvent, *, created_at: datetime) -> dict[str, Any]:
    booking = event.detail.booking
    payload = booking_payload(booking, booking.price, booking.currency)
    previous = event.detail.previous_booking
    if trigger == "BOOKING_RESCHEDULED" and previous is not None:
        payload.update(
            rescheduleUid=previous.uid,
            rescheduleStartTime=iso_z(previous.start),
            rescheduleEndTime=iso_z(previous.end),
            rescheduledBy=getattr(booking, "rescheduled_by", None) or booking.attendees[0].email,
        )
    return {"triggerEvent": trigger, "createdAt": iso_z(created_at), "payload": payload}


def build_meeting_payload(trigger: str, booking: Any, *, created_at: datetime) -> dict[str, Any]:
    """MEETING_STARTED / MEETING_ENDED, from the booking as stored when the moment comes."""
    return {"triggerEvent": trigger, "createdAt": iso_z(created_at),
            "payload": booking_payload(booking, booking.price_amount, booking.price_currency)}
