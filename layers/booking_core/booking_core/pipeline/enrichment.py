"""Enrichment: the event type and everything keyed by the request, in one round of reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from booking_core.concurrency import gather
from booking_core.domain.access import lookup_keys
from booking_core.domain.event_types import EventType
from booking_core.errors import DomainError
from booking_core.pipeline.context import BookingRequest, EnrichedBooking
from booking_core.pipeline.reads import ReadAhead, booking_length, is_recurring, occurrence_count, reads_ahead
from booking_core.ports import BookingStore, RequestKeys
from booking_core.repositories.keys import booker_key, duplicate_key


def needs_confirmation(event_type: EventType, start_min: int, now_min: int) -> bool:
    policy = event_type.confirmation_policy
    if policy is None:
        return False
    if policy.type == "always":
        return True
    assert policy.notice_threshold is not None
    return start_min - now_min < policy.notice_threshold.minutes()


def enrich(request: BookingRequest, store: BookingStore, event_type_id: int,
           admit: Callable[[], None] | None = None) -> EnrichedBooking:
    """One round of reads keyed by the request (and `admit`, the request's abuse-limit check, beside them)."""
    data = request.input
    rescheduling = request.rescheduling
    dup_key = duplicate_key(event_type_id, request.start_min, data.attendee.email)
    blocklist_keys = [] if request.holding else list(lookup_keys(data.attendee.email))
    for guest in data.guests:
        blocklist_keys.extend(lookup_keys(guest))
    keys = RequestKeys(
        event_type_id=event_type_id,
        duplicate_key=None if request.holding else dup_key,
        blocklist=tuple(dict.fromkeys(blocklist_keys)),
        private_link=data.private_link,
        routing_response_id=data.routing.response_id if data.routing else None,
        seat_start_min=request.start_min,
        reservation_uid=data.reservation_uid,
    )
    calls: list[Callable[[], Any]] = [lambda: store.fetch_request_data(keys)]
    if admit is not None:
        calls.append(admit)  # the abuse-limit counter, in the same round as the reads: no extra round trip
    ahead = reads_ahead(event_type_id, request)  # the availability phase's reads, if this container knows the type
    first_ahead = len(calls)
    if ahead is not None:
        calls.extend(ahead.calls(store))
    results = gather(calls)
    found = results[0]
    event_type = found.event_type
    if event_type is None:
        raise DomainError("event_type_not_found", f"event type {event_type_id} not found")

    length = booking_length(event_type, request)
    is_seated = event_type.seats is not None
    blocked_guests = {
        (entry.type, entry.value) for entry in found.blocklist if entry.action == "block"
    }
    guests = [g for g in data.guests if not any(key in blocked_guests for key in lookup_keys(g))]
    payment_required = bool(event_type.price and event_type.price.amount > 0)
    if rescheduling is not None:
        payment_required = bool(rescheduling.original.payment_required)
    reservation = found.reservation
    if reservation is not None and (reservation.event_type_id != event_type.id or not reservation.is_live(request.now)):
        reservation = None
    return EnrichedBooking(
        request=request,
        event_type=event_type,
        length=length,
        end_min=request.start_min + length,
        occurrence_count=occurrence_count(event_type, request),
        duplicate_key=None if is_seated or request.holding else dup_key,
        duplicate_uid=None if is_seated or request.holding else found.duplicate_uid,
        guests=guests,
        blocklist=found.blocklist,
        private_link=found.private_link,
        routing_response=found.routing_response,
        seat_slot=found.seat_slot if is_seated else None,
        booker_key=booker_key(event_type.id, data.attendee.email),
        needs_confirmation=needs_confirmation(event_type, request.start_min, request.now_min),
        payment_required=payment_required,
        is_dry_run=data.is_dry_run,
        is_team_event=event_type.scheduling_type is not None,
        is_round_robin=event_type.scheduling_type == "roundRobin",
        is_seated=is_seated,
        is_recurring=is_recurring(event_type, request),
        is_rescheduling=rescheduling is not None,
        responses=dict(data.booking_fields_responses),
        reservation=reservation,
        read_ahead=ReadAhead(ahead, results[first_ahead:]) if ahead is not None else None,
    )

