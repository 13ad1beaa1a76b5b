"""Enrichment: the event type and everything keyed by the request, in one round of reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from booking_core.concurrency import gather
from booking_core.errors import DomainError
from booking_core.pipeline.context import BookingRequest, EnrichedBooking
from booking_core.ports import BookingStore


def duplicate_key(event_type_id: int, start_min: int, email: str) -> str:
    """The guard that makes 'same attendee, type and start' a single booking."""
    return f"DUP#{event_type_id}#{start_min}#{email.lower()}"


def enrich(request: BookingRequest, store: BookingStore) -> EnrichedBooking:
    data = request.input
    dup_key = duplicate_key(data.event_type_id, request.start_min, data.attendee.email)
    calls: list[Callable[[], Any]] = [lambda: store.fetch_request_data(data.event_type_id, dup_key)]
    if not data.is_dry_run:
        calls.append(store.next_booking_id)  # allocated alongside the reads: no extra round trip
    results = gather(calls)
    request_data = results[0]
    event_type = request_data.event_type
    if event_type is None:
        raise DomainError("event_type_not_found", f"event type {data.event_type_id} not found")
    length = data.length_in_minutes or event_type.length_in_minutes
    is_seated = event_type.seats is not None
    return EnrichedBooking(
        request=request,
        event_type=event_type,
        length=length,
        end_min=request.start_min + length,
        booking_id=None if data.is_dry_run else results[1],
        duplicate_key=None if is_seated else dup_key,
        duplicate_uid=None if is_seated else request_data.duplicate_uid,
        is_dry_run=data.is_dry_run,
        is_team_event=event_type.scheduling_type is not None,
        is_round_robin=event_type.scheduling_type == "roundRobin",
        is_seated=is_seated,
    )
