"""An in-memory BookingStore with the same guarantees as the DynamoDB one (locks and duplicate guard are atomic)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from booking_core.domain.bookings import BookingRecord
from booking_core.domain.event_types import EventType, EventTypeInput
from booking_core.domain.users import AvailabilityRule, Schedule, User
from booking_core.ports import (
    CreationPlan,
    DuplicateBooking,
    HostBooking,
    HostConfig,
    RequestData,
    SlotTaken,
)

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


@dataclass
class InMemoryStore:
    event_types: dict[int, EventType] = field(default_factory=dict)
    hosts: dict[int, HostConfig] = field(default_factory=dict)
    bookings: dict[str, BookingRecord] = field(default_factory=dict)
    host_index: dict[int, list[HostBooking]] = field(default_factory=dict)
    locks: dict[tuple[int, int], str] = field(default_factory=dict)
    duplicates: dict[str, str] = field(default_factory=dict)
    rr_counts: dict[tuple[int, str, int], int] = field(default_factory=dict)
    outbox: list = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    _ids: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # set-up helpers -------------------------------------------------------------------------------------------
    def add_host(self, user_id: int, *, name: str | None = None, time_zone: str = "Europe/London",
                 hours: tuple[str, str] = ("09:00", "17:00"), days: list[str] | None = None,
                 locked: bool = False) -> User:
        user = User(id=user_id, name=name or f"Host {user_id}", email=f"host{user_id}@example.com",
                    time_zone=time_zone, default_schedule_id=user_id * 10, locked=locked)
        schedule = Schedule(id=user_id * 10, user_id=user_id, name="Work", time_zone=time_zone, is_default=True,
                            availability=[AvailabilityRule(days=days or WEEKDAYS, start_time=hours[0], end_time=hours[1])])
        self.hosts[user_id] = HostConfig(user=user, schedules=[schedule])
        return user

    def add_event_type(self, event_type_id: int, **fields) -> EventType:
        data = {"title": "Meeting", "slug": "meeting", "length_in_minutes": 30, **fields}
        event_type = EventType(**EventTypeInput(**data).model_dump(), id=event_type_id)
        self.event_types[event_type_id] = event_type
        return event_type

    # BookingStore ----------------------------------------------------------------------------------------------
    def fetch_request_data(self, event_type_id: int, duplicate_key: str | None) -> RequestData:
        self.calls.append("fetch_request_data")
        return RequestData(self.event_types.get(event_type_id), self.duplicates.get(duplicate_key or ""))

    def next_booking_id(self) -> int:
        self.calls.append("next_booking_id")
        with self._lock:
            self._ids += 1
            return self._ids

    def get_booking(self, uid: str) -> BookingRecord | None:
        self.calls.append("get_booking")
        return self.bookings.get(uid)

    def load_host(self, host_id: int) -> HostConfig | None:
        self.calls.append("load_host")
        return self.hosts.get(host_id)

    def host_bookings(self, host_id: int, from_min: int, to_min: int) -> list[HostBooking]:
        self.calls.append("host_bookings")
        return [b for b in self.host_index.get(host_id, []) if b.busy_end_min > from_min and b.busy_start_min < to_min]

    def round_robin_counts(self, event_type_id: int, period: str, host_ids: list[int]) -> dict[int, int]:
        self.calls.append("round_robin_counts")
        return {h: self.rr_counts[(event_type_id, period, h)] for h in host_ids if (event_type_id, period, h) in self.rr_counts}

    def create_booking(self, plan: CreationPlan) -> None:
        self.calls.append("create_booking")
        with self._lock:
            taken = {host for host, bucket in plan.lock_keys if (host, bucket) in self.locks}
            if taken:
                raise SlotTaken(taken)
            if plan.duplicate_key and plan.duplicate_key in self.duplicates and (
                self.duplicates[plan.duplicate_key] != plan.stale_duplicate_uid
            ):
                raise DuplicateBooking(self.duplicates[plan.duplicate_key])
            record = plan.record
            self.bookings[record.uid] = record
            for host, bucket in plan.lock_keys:
                self.locks[(host, bucket)] = record.uid
            for host, host_booking in plan.host_bookings:
                self.host_index.setdefault(host, []).append(host_booking)
            if plan.duplicate_key:
                self.duplicates[plan.duplicate_key] = record.uid
            if plan.round_robin:
                key = (plan.round_robin.event_type_id, plan.round_robin.period, plan.round_robin.host_id)
                self.rr_counts[key] = self.rr_counts.get(key, 0) + 1
            self.outbox.extend(plan.events)
