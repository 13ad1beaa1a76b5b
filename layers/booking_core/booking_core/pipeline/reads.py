"""The availability phase's reads, and reading them ahead, in the enrichment round.

What the availability phase reads (every host's window, the round-robin counts, the limit counters, the booker's
bookings) follows from the event type and the request alone (`plan_reads`). The event type comes from the
enrichment round, so on its own the availability phase is a round trip of its own. A container remembers the event
types it has recently booked or listed slots of (`remember`); when it knows the requested one, enrichment sends the
reads that one calls for beside its own (`ReadAhead`), and the availability phase uses their answers if the event
type it has just read calls for exactly the same reads, and reads again otherwise. So a booking of an event type
this container has seen costs one sequential round trip less, and a changed event type costs nothing but the
discarded reads.
GET /v2/slots does the same with its own reads (`plan_slot_reads`), after the event type's own read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from booking_core.domain.event_types import EventType
from booking_core.domain.recurrence import occurrences
from booking_core.domain.round_robin import period_key
from booking_core.pipeline.context import BookingRequest
from booking_core.ports import BookerBooking, BookingStore, HostWindow, LimitCount, SeatSlot
from booking_core.repositories import keys
from booking_core.timeutil import from_minutes, to_minutes

# Availability around a requested start: a day each way covers every window and buffer that can touch it.
AROUND = 24 * 60
# Event types a container remembers (the most recently booked or listed): a few KB each.
REMEMBERED_TYPES = 256


def booking_length(event_type: EventType, request: BookingRequest) -> int:
    return request.input.length_in_minutes or event_type.length_in_minutes


def is_recurring(event_type: EventType, request: BookingRequest) -> bool:
    return event_type.recurrence is not None and request.rescheduling is None


def occurrence_count(event_type: EventType, request: BookingRequest) -> int:
    if not is_recurring(event_type, request) or event_type.recurrence is None:
        return 1
    return request.input.recurrence_count or event_type.recurrence.occurrences


def approximate_starts(event_type: EventType, request: BookingRequest) -> list[int]:
    """Occurrence starts computed in UTC: within an hour of the real ones, enough to size the reads."""
    recurrence = event_type.recurrence
    if not is_recurring(event_type, request) or recurrence is None:
        return [request.start_min]
    return [to_minutes(moment) for moment in occurrences(from_minutes(request.start_min), recurrence.frequency,
                                                         recurrence.interval, occurrence_count(event_type, request),
                                                         ZoneInfo("UTC"))]


@dataclass(frozen=True, slots=True)
class AvailabilityReads:
    """Every read of the availability phase, in the order `calls` makes them (hosts first, then the extras)."""

    host_ids: tuple[int, ...]
    from_min: int
    to_min: int
    round_robin: tuple[int, str, tuple[int, ...]] | None  # (event type, period, pool hosts)
    limit_keys: tuple[str, ...]
    booker: tuple[str, int] | None  # (booker key, from minute)
    seat_slots: tuple[int, int, int] | None = None  # (event type, from, to minute): slots of a seated type

    def calls(self, store: BookingStore) -> list[Callable[[], Any]]:
        calls: list[Callable[[], Any]] = [
            lambda host_id=host_id: store.host_window(host_id, self.from_min, self.to_min)
            for host_id in self.host_ids]
        if self.round_robin is not None:
            event_type_id, period, pool = self.round_robin
            calls.append(lambda: store.round_robin_counts(event_type_id, period, list(pool)))
        if self.limit_keys:
            calls.append(lambda: store.limit_counts(list(self.limit_keys)))
        if self.booker is not None:
            booker_key, from_min = self.booker
            calls.append(lambda: store.booker_bookings(booker_key, from_min))
        if self.seat_slots is not None:
            event_type_id, seats_from, seats_to = self.seat_slots
            calls.append(lambda: store.seat_slots(event_type_id, seats_from, seats_to))
        return calls

    def answers(self, results: list[Any]) -> ReadAnswers:
        """`results` (in the order `calls` makes them) by what they answer."""
        hosts = len(self.host_ids)
        extras = iter(results[hosts:])
        return ReadAnswers(
            hosts=results[:hosts],
            round_robin_counts=next(extras) if self.round_robin is not None else {},
            limit_counts=next(extras) if self.limit_keys else {},
            booker_bookings=next(extras) if self.booker is not None else [],
            seat_slots=next(extras) if self.seat_slots is not None else [],
        )


@dataclass(frozen=True, slots=True)
class ReadAnswers:
    hosts: list[HostWindow]  # in the order of AvailabilityReads.host_ids
    round_robin_counts: dict[int, int]
    limit_counts: dict[str, LimitCount]
    booker_bookings: list[BookerBooking]
    seat_slots: list[SeatSlot]


def plan_reads(event_type: EventType, request: BookingRequest) -> AvailabilityReads:
    starts = approximate_starts(event_type, request)
    pool = tuple(host_id for host_id in event_type.host_ids if not event_type.is_fixed(host_id))
    round_robin = None
    if event_type.scheduling_type == "roundRobin" and pool:
        round_robin = (event_type.id, period_key(request.input.start), pool)
    booker = None
    if event_type.booker_active_bookings_limit and request.rescheduling is None and not request.holding:
        booker = (keys.booker_key(event_type.id, request.input.attendee.email), request.now_min)
    return AvailabilityReads(
        host_ids=tuple(event_type.host_ids),
        from_min=starts[0] - AROUND,
        to_min=starts[-1] + booking_length(event_type, request) + AROUND,
        round_robin=round_robin,
        limit_keys=tuple(keys.limit_keys_between(event_type, starts[0], starts[-1] + 1)),
        booker=booker,
    )


def plan_slot_reads(event_type: EventType, from_min: int, to_min: int) -> AvailabilityReads:
    """What GET /v2/slots reads over [from_min, to_min): every host's window around it, the limit counters, and
    a seated type's open seats."""
    return AvailabilityReads(
        host_ids=tuple(event_type.host_ids),
        from_min=from_min - AROUND,
        to_min=to_min + AROUND,
        round_robin=None,
        limit_keys=tuple(keys.limit_keys_between(event_type, from_min, to_min)),
        booker=None,
        seat_slots=(event_type.id, from_min, to_min) if event_type.seats is not None else None,
    )


@dataclass(frozen=True, slots=True)
class ReadAhead:
    """Reads sent in the enrichment round for the event type as this container last saw it, and their answers."""

    reads: AvailabilityReads
    results: list[Any]


_remembered: OrderedDict[int, EventType] = OrderedDict()
_lock = threading.Lock()


def remember(event_type: EventType) -> None:
    with _lock:
        _remembered[event_type.id] = event_type
        _remembered.move_to_end(event_type.id)
        while len(_remembered) > REMEMBERED_TYPES:
            _remembered.popitem(last=False)


def remembered(event_type_id: int) -> EventType | None:
    """The event type as this container last saw it, if it has."""
    with _lock:
        return _remembered.get(event_type_id)


def reads_ahead(event_type_id: int, request: BookingRequest) -> AvailabilityReads | None:
    """The reads to send ahead for this booking: those of the event type as last seen; None for a type this
    container has not seen, and for seated types (their bookings mostly join an existing seat, which reads none)."""
    known = remembered(event_type_id)
    if known is None or known.seats is not None:
        return None
    return plan_reads(known, request)


def results_for(reads: AvailabilityReads, ahead: ReadAhead | None, store: BookingStore,
                gather: Callable[[list[Callable[[], Any]]], list[Any]]) -> list[Any]:
    """The answers to `reads`: those read ahead when they were exactly these reads, else read now."""
    if ahead is not None and ahead.reads == reads:
        return ahead.results
    return gather(reads.calls(store))
