"""Creation: build the booking record and write it, with its locks and its event, in one transaction."""

from __future__ import annotations

import secrets
from datetime import datetime

from booking_core.conferencing import PROVIDERS
from booking_core.domain.bookings import BookingRecord, EventTypeRef
from booking_core.domain.event_types import EventType
from booking_core.errors import DomainError
from booking_core.events.contracts import EventContext, new_event
from booking_core.pipeline.context import CreatedBooking, ValidatedBooking
from booking_core.ports import (
    BookingStore,
    CreationPlan,
    HostBooking,
    RoundRobinIncrement,
    SlotTaken,
)
from booking_core.timeutil import from_minutes


def new_uid() -> str:
    """22 URL-safe characters, 128 random bits."""
    return secrets.token_urlsafe(16)


def resolve_location(event_type: EventType, requested: str | None) -> tuple[str | None, str | None]:
    """(location, meetingUrl): the booker's choice, else the type's first location; integrations get a meeting."""
    if requested:
        return requested, None
    if not event_type.locations:
        return None, None
    location = event_type.locations[0]
    if location.type == "link":
        return location.link, location.link
    if location.type == "address":
        return location.address, None
    if location.type == "phone":
        return location.phone, None
    meeting_url = PROVIDERS[location.integration].create_meeting(event_type.slug)
    return meeting_url, meeting_url


def lock_keys(host_ids: list[int], held: tuple[int, int], bucket: int) -> list[tuple[int, int]]:
    """One lock per host and per lock-grid bucket the booking (with its buffers) covers."""
    return [(host_id, minute) for host_id in host_ids for minute in range(held[0], held[1], bucket)]


def build_record(validated: ValidatedBooking, host_ids: list[int], now: datetime, status: str) -> BookingRecord:
    enriched = validated.loaded.enriched
    request = enriched.request
    data = request.input
    event_type = enriched.event_type
    held = validated.rules.held(request.start_min)
    location, meeting_url = resolve_location(event_type, validated.location)
    return BookingRecord(
        id=enriched.booking_id or 0,
        uid=new_uid(),
        title=validated.title,
        description=event_type.description,
        status=status,
        start=from_minutes(request.start_min),
        end=from_minutes(enriched.end_min),
        duration=enriched.length,
        event_type_id=event_type.id,
        event_type=EventTypeRef(id=event_type.id, slug=event_type.slug),
        hosts=[validated.host_ref(host_id) for host_id in host_ids],
        attendees=[
            {
                "name": data.attendee.name,
                "email": data.attendee.email,
                "timeZone": data.attendee.time_zone,
                "language": data.attendee.language,
                "phoneNumber": data.attendee.phone_number,
            }
        ],
        guests=validated.guests,
        location=location,
        meeting_url=meeting_url,
        metadata=data.metadata,
        booking_fields_responses=data.booking_fields_responses,
        created_at=now,
        updated_at=now,
        is_dry_run=True if enriched.is_dry_run else None,
        busy_start_min=held[0],
        busy_end_min=held[1],
        lock_keys=lock_keys(host_ids, held, validated.rules.bucket),
        duplicate_key=enriched.duplicate_key,
        routing_form_response_id=data.routing.response_id if data.routing else None,
        private_link=data.private_link,
    )


def plan_for(validated: ValidatedBooking, record: BookingRecord, round_robin_host: int | None) -> CreationPlan:
    enriched = validated.loaded.enriched
    host_ids = [host.id for host in record.hosts]
    host_booking = HostBooking(
        uid=record.uid,
        event_type_id=record.event_type_id,
        start_min=enriched.request.start_min,
        end_min=enriched.end_min,
        busy_start_min=record.busy_start_min,
        busy_end_min=record.busy_end_min,
        status=record.status,
    )
    detail_type = "bookingCreated" if record.status == "accepted" else "bookingRequested"
    context = EventContext(
        private_link=record.private_link,
        routing_form_response_id=record.routing_form_response_id,
        triggered_by="booker",
    )
    period = validated.loaded.round_robin_period
    return CreationPlan(
        record=record,
        lock_keys=record.lock_keys,
        host_bookings=[(host_id, host_booking) for host_id in host_ids],
        duplicate_key=enriched.duplicate_key,
        stale_duplicate_uid=enriched.duplicate_uid,
        round_robin=(
            RoundRobinIncrement(enriched.event_type.id, period, round_robin_host)
            if round_robin_host is not None and period
            else None
        ),
        events=[new_event(detail_type, record, occurred_at=record.created_at, context=context)],
    )


def create_single_seat(validated: ValidatedBooking, store: BookingStore, now: datetime) -> CreatedBooking:
    """SingleSeatBookingHandler: one booking for the fixed hosts and the best free round-robin host.

    When a round-robin host was booked by someone else in the meantime (their lock is held), the next host in the
    ranking is tried; a held lock of a fixed host fails the booking.
    """
    enriched = validated.loaded.enriched
    candidates: list[int | None] = list(validated.round_robin_ranking) or [None]
    for round_robin_host in candidates:
        record = build_record(validated, validated.hosts_for(round_robin_host), now, status="accepted")
        if enriched.is_dry_run:
            return CreatedBooking(booking=record, created=True)
        try:
            store.create_booking(plan_for(validated, record, round_robin_host))
        except SlotTaken as taken:
            if round_robin_host is not None and not (taken.host_ids & set(validated.fixed_host_ids)):
                continue
            raise _taken_error(validated) from taken
        return CreatedBooking(booking=record, created=True)
    raise DomainError("round_robin_host_unavailable_for_booking", "every available host was booked meanwhile")


def _taken_error(validated: ValidatedBooking) -> DomainError:
    enriched = validated.loaded.enriched
    if not enriched.is_team_event:
        return DomainError("no_available_users_found_error", "the slot was booked meanwhile")
    return DomainError("fixed_hosts_unavailable_for_booking", "a fixed host was booked meanwhile")
