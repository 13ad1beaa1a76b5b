"""Outbox stream records -> EventBridge PutEvents, resending only the entries that failed."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from booking_core.config import EVENT_SOURCE
from booking_core.observability import logger

PUT_EVENTS_BATCH = 10  # EventBridge accepts at most 10 entries per PutEvents call
PUT_EVENTS_MAX_BYTES = 256 * 1024  # ... and at most 256 KB of entries in one call
ATTEMPTS = 4
BACKOFF_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class PendingEvent:
    sequence_number: str
    event_id: str
    detail_type: str
    detail: str
    created_at: str


def from_stream_records(records: Sequence[Any]) -> list[PendingEvent]:
    """Powertools DynamoDB stream records (INSERTs of outbox items) -> events to publish, in stream order."""
    pending: list[PendingEvent] = []
    for record in records:
        if record.event_name is None or record.event_name.name != "INSERT":
            continue
        image = record.dynamodb.new_image
        pending.append(
            PendingEvent(
                sequence_number=record.dynamodb.sequence_number,
                event_id=str(image["eventId"]),
                detail_type=str(image["detailType"]),
                detail=str(image["detail"]),
                created_at=str(image["createdAt"]),
            )
        )
    return pending


def entry_size(event: PendingEvent, bus_name: str) -> int:
    """An entry's size as EventBridge counts it (Source, DetailType, Detail; the bus name counted too, to be safe)."""
    return sum(len(part.encode()) for part in (EVENT_SOURCE, event.detail_type, event.detail, bus_name))


def batches(events: Sequence[PendingEvent], bus_name: str) -> list[list[PendingEvent]]:
    """Consecutive events grouped into PutEvents calls: at most 10 entries and 256 KB each. An event too large
    for a call of its own is a batch of one (PutEvents refuses it; the caller parks it)."""
    out: list[list[PendingEvent]] = []
    size = 0
    for event in events:
        entry = entry_size(event, bus_name)
        if not out or len(out[-1]) >= PUT_EVENTS_BATCH or size + entry > PUT_EVENTS_MAX_BYTES:
            out.append([])
            size = 0
        out[-1].append(event)
        size += entry
    return out


def publishable(event: PendingEvent, bus_name: str) -> bool:
    return entry_size(event, bus_name) <= PUT_EVENTS_MAX_BYTES


def publish(
    events: Sequence[PendingEvent],
    put_events: Callable[..., dict[str, Any]],
    bus_name: str,
    sleep: Callable[[float], None] = time.sleep,
) -> list[PendingEvent]:
    """Publish every event; return the ones still failing after ATTEMPTS (in input order).

    Only failed entries are resent: PutEvents reports per entry, and a whole-call failure counts for each entry.
    Callers take events that can never be published (`publishable` is False) out first.
    """
    failed: list[PendingEvent] = []
    for batch in batches(events, bus_name):
        for attempt in range(ATTEMPTS):
            batch = _put_once(batch, put_events, bus_name)
            if not batch:
                break
            if attempt + 1 < ATTEMPTS:
                sleep(BACKOFF_SECONDS * 2**attempt)
        failed.extend(batch)
    return failed


def _put_once(
    batch: list[PendingEvent], put_events: Callable[..., dict[str, Any]], bus_name: str
) -> list[PendingEvent]:
    entries = [
        {
            "Source": EVENT_SOURCE,
            "DetailType": event.detail_type,
            "Detail": event.detail,
            "EventBusName": bus_name,
        }
        for event in batch
    ]
    try:
        response = put_events(Entries=entries)
    except Exception as exc:  # noqa: BLE001 - any transport or service error: the whole batch is retried
        logger.warning("PutEvents failed", extra={"error": type(exc).__name__, "entries": len(batch)})
        return batch
    results = response.get("Entries", [])
    still_failing = [event for event, result in zip(batch, results) if result.get("ErrorCode")]
    if still_failing:
        logger.warning(
            "PutEvents entries failed",
            extra={"failed": len(still_failing), "codes": sorted({r.get("ErrorCode") for r in results if r.get("ErrorCode")})},
        )
    return still_failing
