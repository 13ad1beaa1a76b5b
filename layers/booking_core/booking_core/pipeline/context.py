"""Typed contexts handed from phase to phase. Each one carries the previous, so nothing is looked up twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from booking_core.domain.availability import SlotRules
from booking_core.domain.bookings import BookingRecord, CreateBookingInput, HostRef
from booking_core.domain.event_types import EventType
from booking_core.ports import HostBooking, HostConfig


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """Validated input: the schema passed and the start is not in the past."""

    input: CreateBookingInput
    now: datetime
    start_min: int
    now_min: int
    signed_in_email: str | None = None


@dataclass(frozen=True, slots=True)
class EnrichedBooking:
    """The request with its event type and derived flags."""

    request: BookingRequest
    event_type: EventType
    length: int
    end_min: int
    booking_id: int | None
    duplicate_key: str | None
    duplicate_uid: str | None
    is_dry_run: bool
    is_team_event: bool
    is_round_robin: bool
    is_seated: bool
    is_rescheduling: bool = False


@dataclass(frozen=True, slots=True)
class LoadedHost:
    config: HostConfig
    bookings: list[HostBooking]


@dataclass(frozen=True, slots=True)
class AvailabilityLoaded:
    """Hosts with their schedules and busy time around the requested start, and round-robin counts."""

    enriched: EnrichedBooking
    hosts: dict[int, LoadedHost]
    round_robin_counts: dict[int, int] = field(default_factory=dict)
    round_robin_period: str | None = None


@dataclass(frozen=True, slots=True)
class ValidatedBooking:
    """Everything creation needs: the slot is free for the chosen hosts (best round-robin choice first)."""

    loaded: AvailabilityLoaded
    rules: SlotRules
    fixed_host_ids: list[int]
    round_robin_ranking: list[int]
    guests: list[str]
    title: str
    location: str | None

    def hosts_for(self, round_robin_host: int | None) -> list[int]:
        return self.fixed_host_ids + ([round_robin_host] if round_robin_host is not None else [])

    def host_ref(self, host_id: int) -> HostRef:
        user = self.loaded.hosts[host_id].config.user
        return HostRef(id=user.id, name=user.name, email=user.email, time_zone=user.time_zone, locale=user.locale)


@dataclass(frozen=True, slots=True)
class CreatedBooking:
    """The outcome: the booking (new, or the existing one for a repeated request)."""

    booking: BookingRecord
    created: bool
