"""Slot computation CPU: GET /v2/slots for 30 days, 3 hosts, 300 existing bookings, on already-loaded data.

The hosts (booking_core.ports.HostConfig with their schedules), their bookings (HostBooking, placed in working hours
with the type's buffers, as creation stores them) and the event type are built directly; no AWS. Two figures:
- engine: booking_core.pipeline.availability.available_slots on LoadedHost objects (working windows, busy time,
  the slot grid and the round-robin / collective host check);
- slots: booking_core.services.slots.get_slots over a store that hands back those same objects, i.e. everything
  the endpoint computes after its reads: bookable hosts, slot rules, the engine, limits, and formatting every slot
  in the booker's time zone. This is `slots_cpu_ms`.
CPU is process CPU (get_slots hands its reads to the gather pool), median of RUNS after one untimed run.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from booking_core.domain.availability import WorkingHours, held_interval
from booking_core.domain.event_types import EventType, EventTypeHost
from booking_core.domain.users import AvailabilityRule, Schedule, User
from booking_core.pipeline.availability import AROUND, available_slots, bookable_hosts, first_working_hours, slot_rules
from booking_core.pipeline.context import LoadedHost
from booking_core.ports import HostBooking, HostConfig, HostWindow, LimitCount, RequestData, RequestKeys, SeatSlot
from booking_core.services.slots import get_slots
from booking_core.timeutil import local_midnight_minutes, to_minutes, zone

RUNS = 15
DAYS = 30
BOOKINGS = 300
FIRST_DAY = date(2027, 3, 1)  # the range crosses both the US (14 March) and the EU (28 March) clock change
NOW = datetime(2027, 2, 26, 12, 0, tzinfo=timezone.utc)
BOOKER_ZONE = "America/New_York"
HOST_ZONES = ("Europe/London", "Europe/Berlin", "America/New_York")
WORKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


@dataclass(frozen=True, slots=True)
class SlotsFigures:
    scheduling: str
    engine_ms: float
    slots_ms: float
    slots_listed: int


class PreloadedStore:
    """The BookingStore reads get_slots makes, answered from objects already in memory."""

    def __init__(self, event_type: EventType, hosts: dict[int, LoadedHost]) -> None:
        self.event_type, self.hosts = event_type, hosts

    def fetch_request_data(self, keys: RequestKeys) -> RequestData:
        return RequestData(event_type=self.event_type, duplicate_uid=None)

    def host_window(self, host_id: int, from_min: int, to_min: int) -> HostWindow:
        return HostWindow(self.hosts[host_id].config, self.hosts[host_id].bookings)  # all inside the queried span

    def limit_counts(self, keys: list[str]) -> dict[str, LimitCount]:
        return {}

    def seat_slots(self, event_type_id: int, from_min: int, to_min: int) -> list[SeatSlot]:
        return []


def event_type(scheduling: str) -> EventType:
    return EventType(id=1, title="Bench", slug="bench", length_in_minutes=30, scheduling_type=scheduling,
                     hosts=[EventTypeHost(user_id=host) for host in range(1, len(HOST_ZONES) + 1)],
                     before_event_buffer=5, after_event_buffer=10)


def loaded_hosts(kind: EventType, from_min: int, to_min: int) -> dict[int, LoadedHost]:
    """Three hosts, 09:00-17:00 on weekdays in their own zones, with BOOKINGS bookings spread over them."""
    rng = random.Random(20270301)
    hosts: dict[int, LoadedHost] = {}
    per_host = BOOKINGS // len(HOST_ZONES)
    for host_id, zone_name in enumerate(HOST_ZONES, start=1):
        schedule = Schedule(id=host_id * 10, user_id=host_id, name="Work", time_zone=zone_name, is_default=True,
                            availability=[AvailabilityRule(days=WORKDAYS, start_time="09:00", end_time="17:00")])
        user = User(id=host_id, name=f"Host {host_id}", email=f"host{host_id}@example.com", time_zone=zone_name,
                    default_schedule_id=schedule.id)
        # hourly starts inside the host's working windows: 30 min + buffers never overlap the next booking
        starts = [start for window_start, window_end in WorkingHours.from_schedule(schedule).windows(from_min, to_min)
                  for start in range(window_start, window_end - 30 + 1, 60) if from_min <= start < to_min]
        bookings = []
        for index, start in enumerate(sorted(rng.sample(starts, per_host))):
            busy_start, busy_end = held_interval(start, start + 30, kind.before_event_buffer, kind.after_event_buffer)
            bookings.append(HostBooking(f"b{host_id}-{index}", 9, start, start + 30, busy_start, busy_end, "accepted"))
        hosts[host_id] = LoadedHost(config=HostConfig(user=user, schedules=[schedule]), bookings=bookings)
    return hosts


def _median_cpu_ms(action: Callable[[], Any]) -> tuple[float, Any]:
    result = action()  # untimed: zone caches, deferred pydantic builds
    samples = []
    for _ in range(RUNS):
        cpu = time.process_time()
        result = action()
        samples.append((time.process_time() - cpu) * 1000)
    return statistics.median(samples), result


def measure(scheduling: str) -> SlotsFigures:
    kind = event_type(scheduling)
    booker = zone(BOOKER_ZONE)
    from_min = local_midnight_minutes(FIRST_DAY, booker)
    to_min = local_midnight_minutes(FIRST_DAY + timedelta(days=DAYS), booker)
    hosts = loaded_hosts(kind, from_min - AROUND, to_min + AROUND)
    assert sum(len(host.bookings) for host in hosts.values()) == BOOKINGS

    def engine() -> dict[int, tuple[int, ...]]:
        bookable = bookable_hosts(kind, hosts)
        rules = slot_rules(kind, kind.length_in_minutes, to_minutes(NOW), bookable.tz_name,
                           first_working_hours(kind, hosts, bookable))
        return available_slots(kind, hosts, bookable, rules, from_min, to_min)

    store = PreloadedStore(kind, hosts)
    last_day = (FIRST_DAY + timedelta(days=DAYS - 1)).isoformat()

    def endpoint() -> dict[str, list[dict[str, Any]]]:
        return get_slots(store, NOW, kind.id, FIRST_DAY.isoformat(), last_day, BOOKER_ZONE)

    engine_ms, starts = _median_cpu_ms(engine)
    slots_ms, listed = _median_cpu_ms(endpoint)
    count = sum(len(day) for day in listed.values())
    if count != len(starts) or not count:  # the two paths must agree, or the figures measure different work
        raise RuntimeError(f"slots disagree: engine {len(starts)} starts, endpoint {count}")
    return SlotsFigures(scheduling, engine_ms, slots_ms, count)
