"""Typed contexts handed from phase to phase. Each one carries the previous, so nothing is looked up twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from booking_core.domain.abuse import RateWindow
from booking_core.domain.access import BlocklistEntry, PrivateLink, RoutingFormResponse
from booking_core.domain.availability import SlotRules
from booking_core.domain.bookings import BookingRecord, CreateBookingInput, HostRef
from booking_core.domain.event_types import EventType
from booking_core.domain.reservations import Reservation
from booking_core.ports import BookerBooking, HostBooking, HostConfig, LimitCount, Seat, SeatSlot

if TYPE_CHECKING:  # pipeline/reads.py builds on this module's BookingRequest
    from booking_core.pipeline.reads import ReadAhead


@dataclass(frozen=True, slots=True)
class Rescheduling:
    """What a reschedule moves: the original booking (and, for a seated booking, the caller's seat)."""

    original: BookingRecord
    seat: Seat | None = None
    seat_slot: SeatSlot | None = None
    rescheduled_by: str | None = None
    reason: str | None = None

    @property
    def released_already(self) -> bool:
        """The original was cancelled when its host asked for another time (request-reschedule): its slot, counters
        and guards were given back then, so this reschedule only points it at the new booking."""
        return self.original.status == "cancelled" and bool(self.original.reschedule_requested)

    @property
    def frees_original(self) -> bool:
        """The original's slot is freed by this reschedule (always, except a seat leaving others behind)."""
        return self.seat is None or self.seat_slot is None or self.seat_slot.taken <= 1


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """Validated input: the schema passed and the start is not in the past."""

    input: CreateBookingInput
    now: datetime
    start_min: int
    now_min: int
    signed_in_email: str | None = None
    rescheduling: Rescheduling | None = None
    email_window: RateWindow | None = None  # the abuse-limit window a new booking counts in (None: off)
    holding: bool = False  # a slot reservation's check: no attendee yet, so no booker rules

    @property
    def now_s(self) -> int:
        return int(self.now.timestamp())

    @property
    def rate_windows(self) -> list[RateWindow]:
        return [self.email_window] if self.email_window else []


@dataclass(frozen=True, slots=True)
class EnrichedBooking:
    """The request with its event type, everything keyed by the request, and derived flags."""

    request: BookingRequest
    event_type: EventType
    length: int
    end_min: int
    occurrence_count: int
    duplicate_key: str | None
    duplicate_uid: str | None
    guests: list[str]
    blocklist: list[BlocklistEntry]
    private_link: PrivateLink | None
    routing_response: RoutingFormResponse | None
    seat_slot: SeatSlot | None
    booker_key: str
    needs_confirmation: bool
    payment_required: bool
    is_dry_run: bool
    is_team_event: bool
    is_round_robin: bool
    is_seated: bool
    is_recurring: bool
    is_rescheduling: bool
    responses: dict[str, Any] = field(default_factory=dict)  # bookingFieldsResponses, normalised when checked
    reservation: Reservation | None = None  # the caller's own live reservation: its holds do not block it
    read_ahead: ReadAhead | None = None  # the availability reads sent beside enrichment's (pipeline/reads.py)

    @property
    def is_holding(self) -> bool:
        return self.request.holding

    @property
    def own_holds(self) -> list[str]:
        return [self.reservation.uid] if self.reservation else []

    @property
    def joins_seat(self) -> bool:
        """A seated type whose booking at this start already exists: the attendee takes a seat in it."""
        return self.is_seated and self.seat_slot is not None


@dataclass(frozen=True, slots=True)
class LoadedHost:
    config: HostConfig
    bookings: list[HostBooking]
    calendar_busy: list[tuple[int, int]] = field(default_factory=list)  # from connected calendars (epoch minutes)


@dataclass(frozen=True, slots=True)
class AvailabilityLoaded:
    """Hosts with schedules and busy time over the booking's span, round-robin counts, limit counters."""

    enriched: EnrichedBooking
    hosts: dict[int, LoadedHost]
    round_robin_counts: dict[int, int] = field(default_factory=dict)
    round_robin_period: str | None = None
    limit_counts: dict[str, LimitCount] = field(default_factory=dict)
    booker_bookings: list[BookerBooking] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ValidatedBooking:
    """Everything creation needs: each occurrence is free for the fixed hosts and the ranked round-robin hosts."""

    loaded: AvailabilityLoaded
    rules: SlotRules
    tz_name: str
    starts: list[int]  # every occurrence's start (one unless recurring)
    fixed_host_ids: list[int]
    round_robin_ranking: list[int]
    title: str
    location: str | None
    limit_keys: list[list[str]]  # per occurrence

    def hosts_for(self, round_robin_host: int | None) -> list[int]:
        return self.fixed_host_ids + ([round_robin_host] if round_robin_host is not None else [])

    def host_ref(self, host_id: int) -> HostRef:
        user = self.loaded.hosts[host_id].config.user
        return HostRef(id=user.id, name=user.name, email=user.email, time_zone=user.time_zone, locale=user.locale)


@dataclass(frozen=True, slots=True)
class CreatedBooking:
    """The outcome: the booking(s) made (several for a recurring series), or the existing one for a repeat."""

    bookings: list[BookingRecord]
    created: bool
    seat_uid: str | None = None

    @property
    def booking(self) -> BookingRecord:
        return self.bookings[0]
