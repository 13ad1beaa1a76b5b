"""Availability loading and the availability checks shared by the booking pipeline and the slots endpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from booking_core.concurrency import gather
from booking_core.config import LOCK_BUCKET_MINUTES
from booking_core.domain import limits
from booking_core.domain.availability import (
    HostAvailability,
    held_interval,
    SlotRules,
    WorkingHours,
    compute_slots,
    window_bounds,
)
from booking_core.domain.event_types import EventType
from booking_core.domain.users import Schedule
from booking_core.errors import DomainError
from booking_core.pipeline.context import AvailabilityLoaded, EnrichedBooking, LoadedHost
from booking_core.pipeline.reads import AROUND, plan_reads, remember, results_for
from booking_core.ports import BookingStore, HostConfig, LimitCount
from booking_core.repositories import keys
from booking_core.timeutil import zone


def host_calls(store: BookingStore, host_ids: list[int], from_min: int, to_min: int) -> list[Callable[[], Any]]:
    """One read per host (its configuration and busy time over the window); gather them with any other reads, then
    pass the first len(host_ids) results to assemble_hosts."""
    return [lambda host_id=host_id: store.host_window(host_id, from_min, to_min) for host_id in host_ids]


def assemble_hosts(host_ids: list[int], results: list[Any], now_s: int) -> dict[int, LoadedHost]:
    """Each host with what occupies them at `now_s` (epoch seconds): bookings, and reservation holds that have not
    expired by then (the lock conditions of the write compare the same clock)."""
    hosts: dict[int, LoadedHost] = {}
    for host_id, window in zip(host_ids, results):
        if window.config is not None:
            hosts[host_id] = LoadedHost(config=window.config, bookings=[b for b in window.bookings
                                                                        if b.counts_at(now_s)])
    return hosts


def with_calendar_busy(hosts: dict[int, LoadedHost], from_min: int, to_min: int) -> dict[int, LoadedHost]:
    """Add busy time from the hosts' connected calendars (one concurrent round; failing providers are skipped)."""
    connections = {host_id: host.config.calendars for host_id, host in hosts.items() if host.config.calendars}
    if not connections:
        return hosts
    from booking_core.calendars.busy import external_busy
    from booking_core.repositories.entities import CalendarConnectionRepository

    repository = CalendarConnectionRepository()
    busy = external_busy(connections, from_min, to_min,
                         lambda stored, sealed: repository.save_credentials(stored.connection, sealed))
    return {host_id: LoadedHost(host.config, host.bookings, busy.get(host_id, [])) for host_id, host in hosts.items()}


def load_availability(enriched: EnrichedBooking, store: BookingStore) -> AvailabilityLoaded:
    """Hosts, their busy time over the booking's span, round-robin counts, limit counters and the booker's
    bookings: one concurrent round of reads, or none when enrichment read exactly these ahead (pipeline/reads.py)."""
    event_type = enriched.event_type
    remember(event_type)
    reads = plan_reads(event_type, enriched.request)
    answers = reads.answers(results_for(reads, enriched.read_ahead, store, gather))
    return AvailabilityLoaded(
        enriched=enriched,
        hosts=with_calendar_busy(assemble_hosts(list(reads.host_ids), answers.hosts, enriched.request.now_s),
                                 reads.from_min, reads.to_min),
        round_robin_counts=answers.round_robin_counts,
        round_robin_period=reads.round_robin[1] if reads.round_robin is not None else None,
        limit_counts=answers.limit_counts,
        booker_bookings=answers.booker_bookings,
    )


@dataclass(frozen=True, slots=True)
class BookableHosts:
    fixed: list[int]
    pool: list[int]
    tz_name: str


def bookable_hosts(event_type: EventType, hosts: dict[int, LoadedHost]) -> BookableHosts:
    """Hosts that can be booked: configured, existing, not locked, not blocked. None left -> event_type_no_hosts."""
    fixed: list[int] = []
    pool: list[int] = []
    for host_id in event_type.host_ids:
        host = hosts.get(host_id)
        if host is None or host.config.user.locked or host.config.blocked:
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
    """Working windows from the host's schedule for this type; busy time from their active bookings and live slot
    reservations, their connected calendars and their out-of-office entries (the last two rounded outward to the lock
    grid, as bookings are)."""
    schedule = _schedule_for(host.config, event_type)
    windows = WorkingHours.from_schedule(schedule).windows(from_min, to_min) if schedule else []
    ignored = set(ignore_uids)
    busy = [(b.busy_start_min, b.busy_end_min) for b in host.bookings if b.uid not in ignored]
    # the moved booking's own event in the host's calendar does not block its new time
    own_events = {(b.start_min, b.end_min) for b in host.bookings if b.uid in ignored}
    busy += [held_interval(start, end, 0, 0) for start, end in host.calendar_busy if (start, end) not in own_events]
    busy += [held_interval(entry.start_min, entry.end_min, 0, 0) for entry in host.config.out_of_office
             if entry.overlaps(from_min - AROUND, to_min + AROUND)]
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

        def has_availability(day: date) -> bool:
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


def first_working_hours(
    event_type: EventType, hosts: dict[int, LoadedHost], bookable: BookableHosts
) -> WorkingHours | None:
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
    pool: list[int] | None = None,
) -> dict[int, tuple[int, ...]]:
    pool_ids = bookable.pool if pool is None else pool
    fixed_hosts = [host_availability(hosts[h], event_type, from_min, to_min, ignore_uids) for h in bookable.fixed]
    pool_hosts = [host_availability(hosts[h], event_type, from_min, to_min, ignore_uids) for h in pool_ids]
    return compute_slots(fixed_hosts, pool_hosts, rules, from_min, to_min)


def limit_usage(counts: dict[str, LimitCount], key: str) -> limits.Usage:
    found = counts.get(key)
    return limits.Usage(found.count, found.minutes) if found else limits.Usage(0, 0)


def within_limits(
    event_type: EventType, counts: dict[str, LimitCount], start_min: int, length: int, tz_name: str
) -> str | None:
    """The limit error one more booking at `start_min` would hit, if any."""
    for key in keys.limit_keys_at(event_type, start_min, zone(tz_name)):
        error = limits.exceeded(event_type, keys.limit_period(key), limit_usage(counts, key), limits.Usage(1, length))
        if error:
            return error
    return None

