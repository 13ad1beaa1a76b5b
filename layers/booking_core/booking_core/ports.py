"""The small interfaces the booking pipeline uses to read and write; repositories implement them.

Phases never see a table layout: they ask for domain objects and hand over a creation plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from booking_core.domain.bookings import BookingRecord
from booking_core.domain.event_types import EventType
from booking_core.domain.users import Schedule, User


@dataclass(frozen=True, slots=True)
class HostBooking:
    """An active booking as it occupies one host's time."""

    uid: str
    event_type_id: int
    start_min: int
    end_min: int
    busy_start_min: int
    busy_end_min: int
    status: str


@dataclass(frozen=True, slots=True)
class HostConfig:
    user: User
    schedules: list[Schedule]

    def schedule(self, schedule_id: int | None) -> Schedule | None:
        wanted = schedule_id if schedule_id is not None else self.user.default_schedule_id
        for schedule in self.schedules:
            if schedule.id == wanted:
                return schedule
        return None


@dataclass(frozen=True, slots=True)
class RequestData:
    """What the first read round returns for a booking request."""

    event_type: EventType | None
    duplicate_uid: str | None


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    event_id: str
    detail_type: str
    detail_json: str
    created_at: str


@dataclass(frozen=True, slots=True)
class RoundRobinIncrement:
    event_type_id: int
    period: str
    host_id: int


@dataclass(slots=True)
class CreationPlan:
    """Everything one create transaction writes: all or nothing."""

    record: BookingRecord
    lock_keys: list[tuple[int, int]]
    host_bookings: list[tuple[int, HostBooking]]
    duplicate_key: str | None
    stale_duplicate_uid: str | None
    round_robin: RoundRobinIncrement | None
    events: list[OutboxEvent] = field(default_factory=list)


class SlotTaken(Exception):
    """The create transaction found a slot lock held: those hosts were booked meanwhile."""

    def __init__(self, host_ids: set[int]) -> None:
        super().__init__(f"slot taken for hosts {sorted(host_ids)}")
        self.host_ids = host_ids


class DuplicateBooking(Exception):
    """The same attendee already holds a booking of this type at this start."""

    def __init__(self, uid: str | None) -> None:
        super().__init__("duplicate booking")
        self.uid = uid


class BookingStore(Protocol):
    def fetch_request_data(self, event_type_id: int, duplicate_key: str | None) -> RequestData: ...

    def next_booking_id(self) -> int: ...

    def get_booking(self, uid: str) -> BookingRecord | None: ...

    def load_host(self, host_id: int) -> HostConfig | None: ...

    def host_bookings(self, host_id: int, from_min: int, to_min: int) -> list[HostBooking]: ...

    def round_robin_counts(self, event_type_id: int, period: str, host_ids: list[int]) -> dict[int, int]: ...

    def create_booking(self, plan: CreationPlan) -> None: ...
