"""Availability loading and the availability checks shared by the booking pipeline and the slots endpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from booking_core.concurrency import gather
from booking_core.config import LOCK_BUCKET_MINUTES
from booking_core.domain.availability import (
    HostAvailability,
    SlotRules,
    WorkingHours,
    compute_slots,
    window_bounds,
)
from booking_core.domain.event_types import EventType
from booking_core.domain.round_robin import period_key
from booking_core.errors import DomainError
from booking_core.pipeline.context import AvailabilityLoaded, EnrichedBooking, LoadedHost
from booking_core.domain.users import Schedule
from booking_core.ports import BookingStore, HostConfig
from booking_core.timeutil import zone

# Availability around one requested start: a day each way covers every window and buffer that can touch it.
_AROUND_START = 24 * 60


def _host_calls(store: BookingStore, host_ids: list[int], from_min: int, to_min: int) -> list[Callable[[], Any]]:
    calls: list[Callable[[], Any]] = []
    for host_id in host_ids:
        calls.append(lambda host_id=host_id: store.load_host(host_id))
        calls.append(lambda host_id=host_id: store.host_bookings(host_id, from_min, to_min))
    return calls


def load_hosts(store: BookingStore, host_ids: list[int], from_min: int, to_min: int) -> dict[int, LoadedHost]:
    """Every host's configuration and busy time over the range, all fetched concurrently (one round trip)."""
    return _assemble(host_ids, gather(_host_calls(store, host_ids, from_min, to_min)))


def _assemble(host_ids: list[int], results: list[Any]) -> dict[int, LoadedHost]:
    hosts: dict[int, LoadedHost] = {}
    for index, host_id in enumerate(host_ids):
        config, bookings = results[2 * index], results[2 * index + 1]
        if config is not None:
            hosts[host_id] = LoadedHost(config=config, bookings=bookings)
    return hosts


def load_availability(enriched: EnrichedBooking, store: BookingStore) -> AvailabilityLoaded:
    """Hosts, their busy time around the start, and round-robin counts: one concurrent round of reads."""
    event_type = enriched.event_type
    host_ids = event_type.host_ids
    start = enriched.request.start_min
    from_min, to_min = start - _AROUND_START, enriched.end_min + _AROUND_START
    calls = _host_calls(store, host_ids, from_min, to_min)
    period = None
    pool_ids = [host_id for host_id in host_ids if not event_type.is_fixed(host_id)]
    if enriched.is_round_robin and pool_ids:
        period = period_key(enriched.request.input.start)
        calls.append(lambda: store.round_robin_counts(event_type.id, period, pool_ids))
    results = gather(calls)
    counts = results[2 * len(host_ids)] if period else {}
    return AvailabilityLoaded(
        enriched=enriched,
        hosts=_assemble(host_ids, results),
        round_robin_counts=counts,
        round_robin_period=period,
    )


@dataclass(frozen=True, slots=True)
class BookableHosts:
    fixed: list[int]
    pool: list[int]
    tz_name: str


def bookable_hosts(event_type: EventType, hosts: dict[int, LoadedHost]) -> BookableHosts:
    """Hosts that can be booked: configured, existing and not locked. None left -> 422 event_type_no_hosts."""
    fixed: list[int] = []
    pool: list[int] = []
    for host_id in event_type.host_ids:
        host = hosts.get(host_id)
        if host is None or host.config.user.locked:
            continue
        (fixed if event_type.is_fixed(host_id) else pool).append(host_id)
    if not fixed and not pool:
        raise DomainError("event_type_no_hosts", "this event type has no bookable host")
    first = hosts[(fixed or pool)[0]].config
    schedule = _schedule_for(first, event_type)
    return BookableHosts(fixed=fixed, pool=pool, tz_name=schedule.time_zone if schedule else first.user.time_zone)


def _schedule_for(config: HostConfig, event_type: EventType) -> Schedule | None:
    """The type's scheduleId when it is this host's schedule, else the host's default schedule."""
    return config.schedule(event_type.schedule_id) or config.schedule(None)


def host_availability(
    host: LoadedHost, event_type: EventType, from_min: int, to_min: int, ignore_uids: Iterable[str] = ()
) -> HostAvailability:
    """Working windows from the host's schedule for this type (the type's scheduleId if it is the host's, else the
    host's default) and busy time from their active bookings."""
    schedule = _schedule_for(host.config, event_type)
    windows = WorkingHours.from_schedule(schedule).windows(from_min, to_min) if schedule else []
    ignored = set(ignore_uids)
    busy = [(b.busy_start_min, b.busy_end_min) for b in host.bookings if b.uid not in ignored]
    return HostAvailability(host_id=host.config.user.id, windows=windows, busy=busy)


def slot_rules(
    event_type: EventType,
    length: int,
    now_min: int,
    tz_name: str,
    working_hours: WorkingHours | None,
) -> SlotRules:
    window_start = window_end = None
    if event_type.booking_window is not None:
        window = event_type.booking_window

        def has_availability(day: Any) -> bool:
            return bool(working_hours and working_hours.day_ranges(day))

        window_start, window_end = window_bounds(
            window.type, window.value, window.rolling, zone(tz_name), now_min, has_availability
        )
    return SlotRules(
        length=length,
        interval=event_type.slot_interval or length,
        before=event_type.before_event_buffer,
        after=event_type.after_event_buffer,
        earliest=now_min + event_type.minimum_booking_notice,
        window_start=window_start,
        window_end=window_end,
        bucket=LOCK_BUCKET_MINUTES,
    )


def first_working_hours(event_type: EventType, hosts: dict[int, LoadedHost], bookable: BookableHosts) -> WorkingHours | None:
    schedule = _schedule_for(hosts[(bookable.fixed or bookable.pool)[0]].config, event_type)
    return WorkingHours.from_schedule(schedule) if schedule else None


def available_slots(
    event_type: EventType,
    hosts: dict[int, LoadedHost],
    bookable: BookableHosts,
    rules: SlotRules,
    from_min: int,
    to_min: int,
    ignore_uids: Iterable[str] = (),
) -> dict[int, tuple[int, ...]]:
    fixed = [host_availability(hosts[h], event_type, from_min, to_min, ignore_uids) for h in bookable.fixed]
    pool = [host_availability(hosts[h], event_type, from_min, to_min, ignore_uids) for h in bookable.pool]
    return compute_slots(fixed, pool, rules, from_min, to_min)
