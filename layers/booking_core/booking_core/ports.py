"""The small interfaces the booking pipeline and booking changes use to read and write; repositories implement them.

Phases never see a table layout: they ask for domain objects and hand over a `BookingWrite`, one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from booking_core.domain.abuse import RateWindow
from booking_core.domain.access import BlocklistEntry, PrivateLink, RoutingFormResponse
from booking_core.domain.bookings import BookingRecord
from booking_core.domain.calendars import CalendarConnection
from booking_core.domain.event_types import EventType
from booking_core.domain.out_of_office import OutOfOffice
from booking_core.domain.payments import Payment
from booking_core.domain.reservations import Reservation
from booking_core.domain.seats import Seat
from booking_core.domain.users import Schedule, User
from booking_core.timeutil import to_minutes


@dataclass(frozen=True, slots=True)
class HostBooking:
    """An active booking as it occupies one host's time, or a slot reservation's hold (`reserved_until`, epoch
    seconds: it counts until then)."""

    uid: str
    event_type_id: int
    start_min: int
    end_min: int
    busy_start_min: int
    busy_end_min: int
    status: str
    reserved_until: int | None = None

    @property
    def is_reservation(self) -> bool:
        return self.reserved_until is not None

    def counts_at(self, now_s: int) -> bool:
        """A booking always counts; a reservation's hold only until it expires."""
        return self.reserved_until is None or self.reserved_until > now_s


@dataclass(frozen=True, slots=True)
class StoredConnection:
    """A calendar connection with its encrypted credentials (decrypted only when its calendars are read)."""

    connection: CalendarConnection
    encrypted_credentials: str


@dataclass(frozen=True, slots=True)
class HostConfig:
    user: User
    schedules: list[Schedule]
    blocked: bool = False  # a `block` blocklist entry matches the host's email or domain
    calendars: list[StoredConnection] = field(default_factory=list)
    out_of_office: list[OutOfOffice] = field(default_factory=list)  # busy for every event type

    def schedule(self, schedule_id: int | None) -> Schedule | None:
        wanted = schedule_id if schedule_id is not None else self.user.default_schedule_id
        for schedule in self.schedules:
            if schedule.id == wanted:
                return schedule
        return None


@dataclass(frozen=True, slots=True)
class HostWindow:
    """What the availability reads need of one host: their configuration and their busy items over a window."""

    config: HostConfig | None
    bookings: list[HostBooking]


@dataclass(frozen=True, slots=True)
class SeatSlot:
    """The seated booking of an event type at one start, and how many seats it has taken."""

    event_type_id: int
    start_min: int
    booking_uid: str
    taken: int
    capacity: int

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.taken, 0)


@dataclass(frozen=True, slots=True)
class BookerBooking:
    """One of a booker's bookings of a type (for the active-bookings limit)."""

    uid: str
    start_min: int
    status: str


@dataclass(frozen=True, slots=True)
class LimitCount:
    count: int
    minutes: int


@dataclass(frozen=True, slots=True)
class RequestKeys:
    """Everything keyed by the request alone, fetched in one round."""

    event_type_id: int
    duplicate_key: str | None = None
    blocklist: tuple[tuple[str, str], ...] = ()
    private_link: str | None = None
    routing_response_id: int | None = None
    seat_start_min: int | None = None
    reservation_uid: str | None = None


@dataclass(frozen=True, slots=True)
class RequestData:
    """What the first read round returns for a booking request."""

    event_type: EventType | None
    duplicate_uid: str | None
    blocklist: list[BlocklistEntry] = field(default_factory=list)
    private_link: PrivateLink | None = None
    routing_response: RoutingFormResponse | None = None
    seat_slot: SeatSlot | None = None
    reservation: Reservation | None = None  # as stored (live or not: the caller compares with its clock)


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    event_id: str
    detail_type: str
    detail_json: str
    created_at: str


# -- writes ------------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class NewBooking:
    """A booking to create, holding its slot: locks, host intervals, guards and indexes."""

    record: BookingRecord
    lock_keys: list[tuple[int, int]]
    host_bookings: list[tuple[int, HostBooking]]
    duplicate_key: str | None = None
    stale_duplicate_uid: str | None = None
    booker_key: str | None = None
    reservation_uid: str | None = None  # the booker's own reservation: locks it holds are taken over


@dataclass(slots=True)
class Release:
    """A booking leaving the calendar (cancelled, rejected, rescheduled away): its slot is freed in the same write."""

    record: BookingRecord  # the updated record (new status) to store
    expected_version: int
    lock_keys: list[tuple[int, int]]
    host_ids: list[int]
    start_min: int
    duplicate_key: str | None = None
    booker_key: str | None = None
    seat_slot: SeatSlot | None = None  # a seated booking going away frees its start (its seats stay on record)

    @classmethod
    def of(cls, original: BookingRecord, updated: BookingRecord, booker_key: str | None) -> Release:
        """`original` (as read) leaves the calendar as `updated`: what it holds goes, if it is still at the version
        read. `booker_key`: its booker index entry (repositories.keys.booker_key_of)."""
        return cls(
            record=updated,
            expected_version=original.version,
            lock_keys=[(host_id, bucket) for host_id, bucket in original.lock_keys],
            host_ids=[host.id for host in original.hosts],
            start_min=to_minutes(original.start),
            duplicate_key=original.duplicate_key,
            booker_key=booker_key,
        )


@dataclass(slots=True)
class StatusChange:
    """A booking whose record changes but which keeps its slot (confirmed, paid)."""

    record: BookingRecord
    expected_version: int
    host_ids: list[int]
    start_min: int
    booker_key: str | None = None

    @classmethod
    def of(cls, original: BookingRecord, updated: BookingRecord, booker_key: str | None) -> StatusChange:
        """`original` (as read) becomes `updated`, if it is still at the version read; its hosts' busy intervals and
        its booker index entry (`booker_key`: repositories.keys.booker_key_of) take the new status."""
        return cls(updated, original.version, [host.id for host in original.hosts], to_minutes(original.start),
                   booker_key)


@dataclass(slots=True)
class RecordUpdate:
    """A booking whose record changes and nothing it holds (guests, location, no-shows; a cancelled booking that a
    reschedule now points away from)."""

    record: BookingRecord
    expected_version: int


@dataclass(slots=True)
class Reassignment:
    """A booking handed to other hosts at the same time: the leaving hosts' intervals and locks go, the joining
    hosts' are taken (a lock someone else holds refuses the whole write: SlotTaken)."""

    record: BookingRecord  # the updated record: its new hosts and lock keys
    expected_version: int
    start_min: int
    previous_host_ids: list[int]  # the hosts before, organizer first
    released_locks: list[tuple[int, int]]
    joining: list[tuple[int, HostBooking]]
    taken_locks: list[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class LimitDelta:
    """Change to one booking-limit counter; increments are conditional on staying within the limits."""

    key: str
    count: int
    minutes: int
    max_count: int | None = None
    max_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class RoundRobinIncrement:
    event_type_id: int
    period: str
    host_id: int
    delta: int = 1


@dataclass(frozen=True, slots=True)
class SeatOpen:
    """The first seat: creates the seat slot (fails if another first seat won)."""

    slot: SeatSlot
    seat: Seat


@dataclass(frozen=True, slots=True)
class SeatJoin:
    """A further seat: takes one of the slot's remaining seats."""

    slot: SeatSlot
    seat: Seat


@dataclass(frozen=True, slots=True)
class SeatLeave:
    """A seat released; `close` when it was the last one (the slot goes with it)."""

    slot: SeatSlot
    seat: Seat
    close: bool


@dataclass(slots=True)
class ReservationWrite:
    """A slot reservation stored: new (`expected_version` None) or moved / extended. Its locks are taken unless held
    by someone else's booking or live reservation."""

    reservation: Reservation
    expected_version: int | None = None


@dataclass(slots=True)
class ReservationRelease:
    """A reservation leaving (consumed by its booking, cancelled) or leaving its old slot (moved: `keep_item`): its
    holds and the locks it still holds go, except those the same write takes again."""

    reservation: Reservation
    expected_version: int
    keep_item: bool = False


@dataclass(slots=True)
class BookingWrite:
    """Everything one transaction writes: all or nothing."""

    creates: list[NewBooking] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    changes: list[StatusChange] = field(default_factory=list)
    limits: list[LimitDelta] = field(default_factory=list)
    round_robin: list[RoundRobinIncrement] = field(default_factory=list)
    seat_opens: list[SeatOpen] = field(default_factory=list)
    seat_joins: list[SeatJoin] = field(default_factory=list)
    seat_leaves: list[SeatLeave] = field(default_factory=list)
    seat_updates: list[Seat] = field(default_factory=list)  # a seat's own data changed (its attendee's no-show)
    updates: list[RecordUpdate] = field(default_factory=list)
    reassignments: list[Reassignment] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    payment_expected_status: str | None = None  # for payment updates: the status they must still have
    rate_windows: list[RateWindow] = field(default_factory=list)  # abuse-limit counters this write counts in
    reservations: list[ReservationWrite] = field(default_factory=list)
    released_reservations: list[ReservationRelease] = field(default_factory=list)
    events: list[OutboxEvent] = field(default_factory=list)
    now: datetime | None = None  # the request's clock: locks of reservations expired by then are free


# -- failures a write can report -----------------------------------------------------------------------------------
class SlotTaken(Exception):
    """A slot lock is held: those hosts were booked meanwhile."""

    def __init__(self, host_ids: set[int]) -> None:
        super().__init__(f"slot taken for hosts {sorted(host_ids)}")
        self.host_ids = host_ids


class DuplicateBooking(Exception):
    """The same attendee already holds a booking of this type at this start."""


class LimitReached(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(f"booking limit reached for {key}")
        self.key = key


class SeatSlotOpened(Exception):
    """Another attendee opened this seat slot first: join it instead."""


class SeatsFull(Exception):
    pass


class AlreadySeated(Exception):
    pass


class StaleBooking(Exception):
    """The booking changed since it was read (version mismatch)."""


class PaymentAlreadySettled(Exception):
    pass


class StaleReservation(Exception):
    """The reservation changed, was consumed or expired (and its locks were taken) since it was read."""


class TransactionTooLarge(Exception):
    """The change needs more items than one DynamoDB transaction holds."""


class RateLimited(Exception):
    """An abuse-limit window is full (the counter's condition refused the increment)."""

    def __init__(self, window: RateWindow) -> None:
        super().__init__(f"abuse limit reached: {window.kind}")
        self.window = window


class WriteContention(Exception):
    """Concurrent writers kept colliding on the same items; the request can be retried."""


# -- listing -----------------------------------------------------------------------------------------------------
StatusCategory = str  # upcoming | unconfirmed | past | cancelled | recurring
Position = tuple[int, str]  # (start minute, booking uid): where a listing page ended


@dataclass(frozen=True, slots=True)
class ListCriteria:
    """A listing's filters, all of which a booking must pass (the status categories: any one of them)."""

    now_min: int
    host_id: int | None = None
    attendee_email: str | None = None
    event_type_id: int | None = None
    statuses: frozenset[StatusCategory] = frozenset()
    after_start_min: int | None = None  # start at or after
    before_end_min: int | None = None  # end at or before
    descending: bool = False


@dataclass(frozen=True, slots=True)
class ListedRow:
    record: BookingRecord
    position: Position
    seat: Seat | None = None  # the seat this row stands for (an attendee's seat in a seated booking)
    seats_taken: int | None = None  # a seated booking's seats taken now (None: its start is free again)


@dataclass(frozen=True, slots=True)
class ListedPage:
    rows: list[ListedRow]  # in listing order; the index's filter is a superset: the caller checks each row
    end: Position | None  # the last position this page covered; None when nothing follows


class BookingListing(Protocol):
    def page(self, criteria: ListCriteria, after: Position | None, take: int) -> ListedPage: ...

    def series(self, series_uid: str, from_min: int | None = None, active_only: bool = False) -> list[BookingRecord]:
        ...


class BookingStore(Protocol):
    def fetch_request_data(self, keys: RequestKeys) -> RequestData: ...

    def next_booking_ids(self, count: int = 1) -> list[int]: ...

    def get_booking(self, uid: str) -> BookingRecord | None: ...

    def host_window(self, host_id: int, from_min: int, to_min: int) -> HostWindow:
        """The host's configuration (None: no such user) and their bookings and reservation holds (expired ones
        too) whose held interval overlaps [from_min, to_min): one read per host."""
        ...

    def host_bookings(self, host_id: int, from_min: int, to_min: int) -> list[HostBooking]: ...

    def round_robin_counts(self, event_type_id: int, period: str, host_ids: list[int]) -> dict[int, int]: ...

    def limit_counts(self, keys: list[str]) -> dict[str, LimitCount]: ...

    def booker_bookings(self, booker_key: str, from_min: int) -> list[BookerBooking]: ...

    def seat_slots(self, event_type_id: int, from_min: int, to_min: int) -> list[SeatSlot]: ...

    def seats(self, booking_uid: str) -> list[Seat]: ...

    def holds_seat(self, booking_uid: str, email: str) -> bool: ...

    def get_payment(self, payment_uid: str) -> Payment | None: ...

    def get_reservation(self, uid: str) -> Reservation | None: ...

    def blocklist_entries(self, keys: list[tuple[str, str]]) -> list[BlocklistEntry]: ...

    def write(self, plan: BookingWrite) -> None: ...
