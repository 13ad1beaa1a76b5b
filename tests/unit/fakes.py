"""An in-memory BookingStore that behaves as the DynamoDB one (repositories/bookings.py), which is the reference:
tests/contract/test_booking_store.py runs one suite over both, so the two cannot drift apart.

One write is one transaction. Every condition the DynamoDB store puts on an item is checked here against the state
before the write; a refused write changes nothing and is reported as the DynamoDB store reports it (its conditions
are tagged with the store's `Part`s and go through the same `refusal`, so the same precedence decides), and a write
needing more items than one transaction holds is refused before any condition is looked at. The state is kept under
the keys the table uses (a host's intervals by start and uid, a booker's bookings by start and uid), so what one key
names here is what one item holds there."""

from __future__ import annotations

import copy
import dataclasses
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from booking_core import clock
from booking_core.config import MAX_TRANSACTION_ITEMS
from booking_core.domain.abuse import RateWindow
from booking_core.domain.access import BlocklistEntry, PrivateLink, RoutingFormResponse
from booking_core.domain.bookings import BookingRecord, Reference
from booking_core.domain.event_types import EventType, EventTypeInput
from booking_core.domain.out_of_office import OutOfOffice
from booking_core.domain.payments import Payment
from booking_core.domain.reservations import Reservation
from booking_core.domain.users import AvailabilityRule, Schedule, User
from booking_core.ports import (
    BookerBooking,
    BookingWrite,
    HostBooking,
    HostConfig,
    HostWindow,
    LimitCount,
    RequestData,
    RequestKeys,
    Seat,
    SeatSlot,
    StatusChange,
    TransactionTooLarge,
)
from booking_core.repositories.bookings import Part, refusal
from booking_core.repositories.keys import booker_key_of

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]

Lock = tuple[int, int]  # (host id, bucket minute)
Failure = tuple[Part, Any]  # what refused and its detail, tagged as the DynamoDB store tags its items


class OneBookingStore:
    """The store a subscriber-side service sees when one booking is all it touches: reads give a copy, a write
    replaces the booking with the changed record and is kept in `writes`."""

    def __init__(self, booking: BookingRecord) -> None:
        self.booking = booking
        self.writes: list[BookingWrite] = []

    def get_booking(self, uid: str) -> BookingRecord | None:
        return copy.deepcopy(self.booking) if uid == self.booking.uid else None

    def write(self, plan: BookingWrite) -> None:
        self.writes.append(plan)
        for change in plan.changes:
            self.booking = change.record


@dataclass
class InMemoryStore:
    event_types: dict[int, EventType] = field(default_factory=dict)
    hosts: dict[int, HostConfig] = field(default_factory=dict)
    bookings: dict[str, BookingRecord] = field(default_factory=dict)
    # a host's booking intervals and reservation holds, by (start minute, uid)
    host_index: dict[int, dict[tuple[int, str], HostBooking]] = field(default_factory=dict)
    locks: dict[Lock, str] = field(default_factory=dict)  # held by a booking: its uid
    held_locks: dict[Lock, tuple[str, int]] = field(default_factory=dict)  # held by a reservation: uid, until (s)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    duplicates: dict[str, str] = field(default_factory=dict)
    rr_counts: dict[tuple[int, str, int], int] = field(default_factory=dict)
    limits: dict[str, LimitCount] = field(default_factory=dict)
    booker_index: dict[str, dict[tuple[int, str], BookerBooking]] = field(default_factory=dict)
    slots: dict[tuple[int, int], SeatSlot] = field(default_factory=dict)
    seat_guards: set[tuple[str, str]] = field(default_factory=set)  # (booking uid, email)
    seat_items: dict[str, dict[str, Seat]] = field(default_factory=dict)
    blocklist: list[BlocklistEntry] = field(default_factory=list)
    links: dict[tuple[int, str], PrivateLink] = field(default_factory=dict)
    routing: dict[int, RoutingFormResponse] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    rates: dict[tuple[str, str, int], int] = field(default_factory=dict)  # abuse-limit windows: requests counted
    outbox: list = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    _ids: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # set-up helpers -------------------------------------------------------------------------------------------
    def add_host(self, user_id: int, *, name: str | None = None, time_zone: str = "Europe/London",
                 hours: tuple[str, str] = ("09:00", "17:00"), days: list[str] | None = None,
                 locked: bool = False, blocked: bool = False, email: str | None = None) -> User:
        user = User(id=user_id, name=name or f"Host {user_id}", email=email or f"host{user_id}@example.com",
                    time_zone=time_zone, default_schedule_id=user_id * 10, locked=locked)
        schedule = Schedule(id=user_id * 10, user_id=user_id, name="Work", time_zone=time_zone, is_default=True,
                            availability=[AvailabilityRule(days=days or WEEKDAYS, start_time=hours[0], end_time=hours[1])])
        self.hosts[user_id] = HostConfig(user=user, schedules=[schedule], blocked=blocked)
        return user

    def add_out_of_office(self, user_id: int, start: datetime, end: datetime,
                          redirect_to_user_id: int | None = None) -> OutOfOffice:
        config = self.hosts[user_id]
        entry = OutOfOffice(id=len(config.out_of_office) + 1, user_id=user_id, start=start, end=end,
                            redirect_to_user_id=redirect_to_user_id, created_at=start)
        self.hosts[user_id] = dataclasses.replace(config, out_of_office=[*config.out_of_office, entry])
        return entry

    def add_event_type(self, event_type_id: int, **fields) -> EventType:
        data = {"title": "Meeting", "slug": "meeting", "length_in_minutes": 30, **fields}
        event_type = EventType(**EventTypeInput(**data).model_dump(), id=event_type_id)
        self.event_types[event_type_id] = event_type
        return event_type

    def clone(self) -> InMemoryStore:
        """An independent copy (to try a write without touching this store)."""
        copied = InMemoryStore()
        for name, value in self.__dict__.items():
            if name != "_lock":
                setattr(copied, name, copy.deepcopy(value))
        return copied

    def host_bookings_of(self, host_id: int) -> list[HostBooking]:
        index = self.host_index.get(host_id, {})
        return [index[key] for key in sorted(index)]

    # reads ------------------------------------------------------------------------------------------------------
    def fetch_request_data(self, keys: RequestKeys) -> RequestData:
        self.calls.append("fetch_request_data")
        wanted = set(keys.blocklist)
        slot = self.slots.get((keys.event_type_id, keys.seat_start_min)) if keys.seat_start_min is not None else None
        return RequestData(
            event_type=self.event_types.get(keys.event_type_id),
            duplicate_uid=self.duplicates.get(keys.duplicate_key or ""),
            blocklist=[e for e in self.blocklist if (e.type, e.value) in wanted],
            private_link=self.links.get((keys.event_type_id, keys.private_link or "")),
            routing_response=self.routing.get(keys.routing_response_id) if keys.routing_response_id else None,
            seat_slot=slot,
            reservation=copy.deepcopy(self.reservations.get(keys.reservation_uid or "")),
        )

    def holds_seat(self, booking_uid: str, email: str) -> bool:
        return (booking_uid, email.lower()) in self.seat_guards

    def next_booking_ids(self, count: int = 1) -> list[int]:
        self.calls.append("next_booking_ids")
        with self._lock:
            first = self._ids + 1
            self._ids += count
            return list(range(first, self._ids + 1))

    def get_booking(self, uid: str) -> BookingRecord | None:
        self.calls.append("get_booking")
        record = self.bookings.get(uid)
        return copy.deepcopy(record) if record else None

    def host_window(self, host_id: int, from_min: int, to_min: int) -> HostWindow:
        """As the table's one Query returns it: out-of-office entries in start order, busy items by start and uid."""
        self.calls.append("host_window")
        config = self.hosts.get(host_id)
        if config is not None:
            config = dataclasses.replace(config, out_of_office=sorted(config.out_of_office,
                                                                      key=lambda e: (e.start, e.id)))
        return HostWindow(config, [b for b in self.host_bookings_of(host_id)
                                   if b.busy_end_min > from_min and b.busy_start_min < to_min])

    def host_bookings(self, host_id: int, from_min: int, to_min: int) -> list[HostBooking]:
        self.calls.append("host_bookings")
        return [b for b in self.host_bookings_of(host_id) if b.busy_end_min > from_min and b.busy_start_min < to_min]

    def round_robin_counts(self, event_type_id: int, period: str, host_ids: list[int]) -> dict[int, int]:
        self.calls.append("round_robin_counts")
        return {h: self.rr_counts[(event_type_id, period, h)] for h in host_ids if (event_type_id, period, h) in self.rr_counts}

    def limit_counts(self, keys: list[str]) -> dict[str, LimitCount]:
        self.calls.append("limit_counts")
        return {key: self.limits[key] for key in keys if key in self.limits}

    def booker_bookings(self, booker_key: str, from_min: int) -> list[BookerBooking]:
        self.calls.append("booker_bookings")
        index = self.booker_index.get(booker_key, {})
        return [index[key] for key in sorted(index) if key[0] >= from_min]

    def seat_slots(self, event_type_id: int, from_min: int, to_min: int) -> list[SeatSlot]:
        return [s for (t, start), s in sorted(self.slots.items()) if t == event_type_id and from_min <= start <= to_min]

    def seats(self, booking_uid: str) -> list[Seat]:
        return sorted(self.seat_items.get(booking_uid, {}).values(), key=lambda s: (s.created_at, s.seat_uid))

    def get_payment(self, payment_uid: str) -> Payment | None:
        return copy.deepcopy(self.payments.get(payment_uid))

    def get_reservation(self, uid: str) -> Reservation | None:
        return copy.deepcopy(self.reservations.get(uid))

    def blocklist_entries(self, keys: list[tuple[str, str]]) -> list[BlocklistEntry]:
        wanted = set(keys)
        return [e for e in self.blocklist if (e.type, e.value) in wanted]

    # the one write ---------------------------------------------------------------------------------------------
    def write(self, plan: BookingWrite) -> None:
        self.calls.append("write")
        with self._lock:
            size = _item_count(plan)
            if size > MAX_TRANSACTION_ITEMS:
                raise TransactionTooLarge(f"{size} items")
            failed = self._refused(plan)
            if failed:
                raise refusal(failed)
            self._apply(plan)

    def _lock_free(self, key: Lock, now_s: int, previous: str | None = None, reservation: str | None = None) -> bool:
        """As the lock item's condition: nobody holds it, or a reservation that has expired by now, or the booking
        this write releases (a reschedule hands it over), or the taker's own reservation."""
        holder = self.locks.get(key)
        if holder is not None:
            return previous is not None and holder == previous
        held = self.held_locks.get(key)
        return held is None or held[1] <= now_s or (reservation is not None and held[0] == reservation)

    def _refused(self, plan: BookingWrite) -> list[Failure]:
        """Every condition of the write that the current state refuses, in the write's order."""
        now_s = int((plan.now or clock.now()).timestamp())
        failed: list[Failure] = []
        released_locks = {tuple(key): r.record.uid for r in plan.releases for key in r.lock_keys}
        released_guards = {r.duplicate_key: r.record.uid for r in plan.releases if r.duplicate_key}
        taken_locks = {tuple(key) for new in plan.creates for key in new.lock_keys}
        taken_guards = {new.duplicate_key for new in plan.creates if new.duplicate_key}

        def versioned(uid: str, expected: int) -> None:
            current = self.bookings.get(uid)
            if current is None or current.version != expected:
                failed.append((Part.VERSION, uid))

        for new in plan.creates:
            uid = new.record.uid
            if uid in self.bookings:
                failed.append((Part.BOOKING, uid))
            for host, bucket in new.lock_keys:
                if not self._lock_free((host, bucket), now_s, released_locks.get((host, bucket)), new.reservation_uid):
                    failed.append((Part.LOCK, host))
            if new.duplicate_key:
                holder = self.duplicates.get(new.duplicate_key)
                previous = released_guards.get(new.duplicate_key) or new.stale_duplicate_uid
                if holder is not None and holder != previous:
                    failed.append((Part.DUPLICATE, None))
        for release in plan.releases:
            uid = release.record.uid
            versioned(uid, release.expected_version)
            for host, bucket in release.lock_keys:
                if (host, bucket) not in taken_locks and self.locks.get((host, bucket)) != uid:
                    failed.append((Part.RELEASE_LOCK, host))
            guard = release.duplicate_key
            if guard and guard not in taken_guards and self.duplicates.get(guard) != uid:
                failed.append((Part.RELEASE_GUARD, None))
        for change in plan.changes:
            versioned(change.record.uid, change.expected_version)
            for host in change.host_ids:
                if (change.start_min, change.record.uid) not in self.host_index.get(host, {}):
                    failed.append((Part.HOST_BOOKING, host))
        for update in plan.updates:
            versioned(update.record.uid, update.expected_version)
        for moved in plan.reassignments:
            versioned(moved.record.uid, moved.expected_version)
            for host, bucket in moved.released_locks:
                if self.locks.get((host, bucket)) != moved.record.uid:
                    failed.append((Part.RELEASE_LOCK, host))
            for host, bucket in moved.taken_locks:
                if not self._lock_free((host, bucket), now_s):
                    failed.append((Part.LOCK, host))

        for delta in plan.limits:
            current = self.limits.get(delta.key, LimitCount(0, 0))
            over_count = (delta.count > 0 and delta.max_count is not None
                          and current.count + delta.count > delta.max_count)
            over_minutes = (delta.minutes > 0 and delta.max_minutes is not None
                            and current.minutes + delta.minutes > delta.max_minutes)
            if over_count or over_minutes:
                failed.append((Part.LIMIT, delta.key))

        for opened in plan.seat_opens:
            if (opened.slot.event_type_id, opened.slot.start_min) in self.slots:
                failed.append((Part.SEAT_OPEN, None))
            failed += self._seat_refused(opened.seat)
        for joined in plan.seat_joins:
            slot = self.slots.get((joined.slot.event_type_id, joined.slot.start_min))
            if slot is None or slot.booking_uid != joined.slot.booking_uid or slot.taken >= slot.capacity:
                failed.append((Part.SEAT_JOIN, None))
            failed += self._seat_refused(joined.seat)
        for left in plan.seat_leaves:
            slot = self.slots.get((left.slot.event_type_id, left.slot.start_min))
            if slot is None or (slot.taken != 1 if left.close else slot.taken <= 1):
                failed.append((Part.SEAT_LEAVE, None))
            if left.seat.seat_uid not in self.seat_items.get(left.seat.booking_uid, {}):
                failed.append((Part.SEAT, None))
        for seat in plan.seat_updates:
            if seat.seat_uid not in self.seat_items.get(seat.booking_uid, {}):
                failed.append((Part.SEAT, None))

        for payment in plan.payments:
            existing = self.payments.get(payment.payment_uid)
            expected = plan.payment_expected_status
            if (existing is None or existing.status != expected) if expected else existing is not None:
                failed.append((Part.PAYMENT, payment.payment_uid))
        for window in plan.rate_windows:
            counted = self.rates.get(_window_id(window))
            if counted is not None and counted >= window.limit:
                failed.append((Part.RATE, window))

        for written in plan.reservations:
            reservation, expected = written.reservation, written.expected_version
            stored = self.reservations.get(reservation.uid)
            if stored is not None if expected is None else stored is None or stored.version != expected:
                failed.append((Part.RESERVATION, reservation.uid))
            for host, bucket in reservation.lock_keys:
                if not self._lock_free((host, bucket), now_s, reservation=reservation.uid):
                    failed.append((Part.LOCK, host))
        # a reservation lets go of the locks it holds, except those another part of this write takes or frees
        touched = taken_locks | set(released_locks)
        touched |= {tuple(key) for moved in plan.reassignments for key in [*moved.released_locks, *moved.taken_locks]}
        touched |= {tuple(key) for written in plan.reservations for key in written.reservation.lock_keys}
        for release in plan.released_reservations:
            reservation = release.reservation
            stored = self.reservations.get(reservation.uid)
            if not release.keep_item and (stored is None or stored.version != release.expected_version):
                failed.append((Part.RESERVATION, reservation.uid))
            for key in reservation.lock_keys:
                if tuple(key) not in touched and self.held_locks.get(tuple(key), ("",))[0] != reservation.uid:
                    failed.append((Part.RESERVATION_LOCK, reservation.uid))
        return failed

    def _seat_refused(self, seat: Seat) -> list[Failure]:
        """A new seat: its item must not exist, nor its attendee's guard in that booking."""
        failed: list[Failure] = []
        if seat.seat_uid in self.seat_items.get(seat.booking_uid, {}):
            failed.append((Part.SEAT, None))
        if (seat.booking_uid, seat.attendee.email.lower()) in self.seat_guards:
            failed.append((Part.SEAT_GUARD, None))
        return failed

    def _apply(self, plan: BookingWrite) -> None:
        for release in plan.released_reservations:
            reservation = release.reservation
            if not release.keep_item:
                self.reservations.pop(reservation.uid, None)
            for hold in reservation.holds:
                self.host_index.get(hold.host_id, {}).pop((hold.start_min, reservation.uid), None)
            for key in reservation.lock_keys:
                if self.held_locks.get(tuple(key), ("",))[0] == reservation.uid:
                    del self.held_locks[tuple(key)]
        for release in plan.releases:
            record = release.record
            record.version = release.expected_version + 1
            self.bookings[record.uid] = copy.deepcopy(record)
            for host in release.host_ids:
                self.host_index.get(host, {}).pop((release.start_min, record.uid), None)
            for key in release.lock_keys:
                if self.locks.get(tuple(key)) == record.uid:
                    del self.locks[tuple(key)]
            if release.duplicate_key and self.duplicates.get(release.duplicate_key) == record.uid:
                del self.duplicates[release.duplicate_key]
            if release.booker_key:
                self.booker_index.get(release.booker_key, {}).pop((release.start_min, record.uid), None)
            if release.seat_slot is not None:
                self.slots.pop((release.seat_slot.event_type_id, release.seat_slot.start_min), None)
        for new in plan.creates:
            record = new.record
            record.version = 1
            self.bookings[record.uid] = copy.deepcopy(record)
            for host, hb in new.host_bookings:
                self.host_index.setdefault(host, {})[(hb.start_min, record.uid)] = hb
            for key in new.lock_keys:
                self.locks[tuple(key)] = record.uid
                self.held_locks.pop(tuple(key), None)
            if new.duplicate_key:
                self.duplicates[new.duplicate_key] = record.uid
            if new.booker_key:
                start = new.host_bookings[0][1].start_min if new.host_bookings else 0
                self.booker_index.setdefault(new.booker_key, {})[(start, record.uid)] = BookerBooking(
                    record.uid, start, record.status)
        for change in plan.changes:
            record = change.record
            record.version = change.expected_version + 1
            self.bookings[record.uid] = copy.deepcopy(record)
            for host in change.host_ids:
                index = self.host_index[host]
                index[(change.start_min, record.uid)] = dataclasses.replace(
                    index[(change.start_min, record.uid)], status=record.status)
            if change.booker_key:
                self.booker_index.setdefault(change.booker_key, {})[(change.start_min, record.uid)] = BookerBooking(
                    record.uid, change.start_min, record.status)
        for update in plan.updates:
            update.record.version = update.expected_version + 1
            self.bookings[update.record.uid] = copy.deepcopy(update.record)
        for moved in plan.reassignments:
            record = moved.record
            record.version = moved.expected_version + 1
            self.bookings[record.uid] = copy.deepcopy(record)
            for host in set(moved.previous_host_ids) - {h.id for h in record.hosts}:
                self.host_index.get(host, {}).pop((moved.start_min, record.uid), None)
            for key in moved.released_locks:
                del self.locks[tuple(key)]
            for host, hb in moved.joining:
                self.host_index.setdefault(host, {})[(hb.start_min, hb.uid)] = hb
            for key in moved.taken_locks:
                self.locks[tuple(key)] = record.uid
                self.held_locks.pop(tuple(key), None)
        for seat in plan.seat_updates:
            self.seat_items[seat.booking_uid][seat.seat_uid] = seat
        for delta in plan.limits:
            if delta.count or delta.minutes:  # the table writes no counter for a change of nothing
                current = self.limits.get(delta.key, LimitCount(0, 0))
                self.limits[delta.key] = LimitCount(current.count + delta.count, current.minutes + delta.minutes)
        for rr in plan.round_robin:
            key = (rr.event_type_id, rr.period, rr.host_id)
            self.rr_counts[key] = self.rr_counts.get(key, 0) + rr.delta
        for opened in plan.seat_opens:
            slot = opened.slot
            self.slots[(slot.event_type_id, slot.start_min)] = SeatSlot(slot.event_type_id, slot.start_min,
                                                                        slot.booking_uid, 1, slot.capacity)
            self._seat(opened.seat)
        for joined in plan.seat_joins:
            key = (joined.slot.event_type_id, joined.slot.start_min)
            self.slots[key] = dataclasses.replace(self.slots[key], taken=self.slots[key].taken + 1)
            self._seat(joined.seat)
        for left in plan.seat_leaves:
            key = (left.slot.event_type_id, left.slot.start_min)
            if left.close:
                del self.slots[key]
            else:
                self.slots[key] = dataclasses.replace(self.slots[key], taken=self.slots[key].taken - 1)
            del self.seat_items[left.seat.booking_uid][left.seat.seat_uid]
            self.seat_guards.discard((left.seat.booking_uid, left.seat.attendee.email.lower()))
        for payment in plan.payments:
            self.payments[payment.payment_uid] = copy.deepcopy(payment)
        for window in plan.rate_windows:
            self.rates[_window_id(window)] = self.rates.get(_window_id(window), 0) + 1
        for written in plan.reservations:
            written.reservation.version = (written.expected_version or 0) + 1
            reservation = copy.deepcopy(written.reservation)
            self.reservations[reservation.uid] = reservation
            for key in reservation.lock_keys:
                self.held_locks[tuple(key)] = (reservation.uid, reservation.until_s)
            for hold in reservation.holds:
                self.host_index.setdefault(hold.host_id, {})[(hold.start_min, reservation.uid)] = HostBooking(
                    reservation.uid, reservation.event_type_id, hold.start_min, hold.end_min, hold.busy_start_min,
                    hold.busy_end_min, "reserved", reservation.until_s)
        self.outbox.extend(plan.events)

    def _seat(self, seat: Seat) -> None:
        self.seat_items.setdefault(seat.booking_uid, {})[seat.seat_uid] = seat
        self.seat_guards.add((seat.booking_uid, seat.attendee.email.lower()))


def _window_id(window: RateWindow) -> tuple[str, str, int]:
    """One counter per window: its limit is a condition on the counter, not part of what names it."""
    return window.kind, window.subject, window.starts_at


def _item_count(plan: BookingWrite) -> int:
    """How many items the write's transaction holds: each item once (a lock or guard handed over from a released
    booking to a new one is one item), plus one outbox row per event."""
    items: set[tuple[Any, ...]] = set()
    for new in plan.creates:
        record = new.record
        items.add(("booking", record.uid))
        items |= {("cohost", record.uid, host.id) for host in record.hosts[1:]}
        items |= {("interval", host, hb.start_min, record.uid) for host, hb in new.host_bookings}
        items |= {("lock", *key) for key in new.lock_keys}
        if new.duplicate_key:
            items.add(("guard", new.duplicate_key))
        if new.booker_key:
            start = new.host_bookings[0][1].start_min if new.host_bookings else 0
            items.add(("booker", new.booker_key, start, record.uid))
    for release in plan.releases:
        uid = release.record.uid
        items.add(("booking", uid))
        items |= {("interval", host, release.start_min, uid) for host in release.host_ids}
        items |= {("lock", *key) for key in release.lock_keys}
        if release.duplicate_key:
            items.add(("guard", release.duplicate_key))
        if release.booker_key:
            items.add(("booker", release.booker_key, release.start_min, uid))
        if release.seat_slot is not None:
            items.add(("seat_slot", release.seat_slot.event_type_id, release.seat_slot.start_min))
    for change in plan.changes:
        uid = change.record.uid
        items.add(("booking", uid))
        items |= {("interval", host, change.start_min, uid) for host in change.host_ids}
        if change.booker_key:
            items.add(("booker", change.booker_key, change.start_min, uid))
    items |= {("booking", update.record.uid) for update in plan.updates}
    for moved in plan.reassignments:
        uid = moved.record.uid
        now_hosts = [host.id for host in moved.record.hosts]
        items.add(("booking", uid))
        items |= {("interval", host, moved.start_min, uid) for host in set(moved.previous_host_ids) - set(now_hosts)}
        items |= {("interval", host, hb.start_min, hb.uid) for host, hb in moved.joining}
        items |= {("lock", *key) for key in [*moved.released_locks, *moved.taken_locks]}
        items |= {("cohost", uid, host) for host in set(moved.previous_host_ids[1:]) ^ set(now_hosts[1:])}
    items |= {("limit", delta.key) for delta in plan.limits if delta.count or delta.minutes}
    items |= {("rr", rr.event_type_id, rr.period, rr.host_id) for rr in plan.round_robin}
    for seat_op in [*plan.seat_opens, *plan.seat_joins, *plan.seat_leaves]:
        seat = seat_op.seat
        items |= {("seat_slot", seat_op.slot.event_type_id, seat_op.slot.start_min),
                  ("seat", seat.booking_uid, seat.seat_uid),
                  ("seat_guard", seat.booking_uid, seat.attendee.email.lower())}
    items |= {("seat", seat.booking_uid, seat.seat_uid) for seat in plan.seat_updates}
    items |= {("payment", payment.payment_uid) for payment in plan.payments}
    items |= {("rate", *_window_id(window)) for window in plan.rate_windows}
    for reservation in [*(written.reservation for written in plan.reservations),
                        *(released.reservation for released in plan.released_reservations)]:
        items.add(("reservation", reservation.uid))
        items |= {("lock", *key) for key in reservation.lock_keys}
        items |= {("interval", hold.host_id, hold.start_min, reservation.uid) for hold in reservation.holds}
    items -= {("reservation", r.reservation.uid) for r in plan.released_reservations if r.keep_item} - {
        ("reservation", w.reservation.uid) for w in plan.reservations}
    return len(items) + len(plan.events)


# A subscriber's write between a change's read and its transaction (services/retry.py `decided_again`).
CALENDAR_EVENT = Reference(type="google_calendar", uid="event-1")


def written_meanwhile(store: InMemoryStore, uid: str, times: int = 1) -> list[int]:
    """The next `times` writes of `store` each find booking `uid` written first by someone else: a subscriber
    recording the calendar event it made, as calendar sync does right after every booking and reschedule. Returns
    the list the interleaved writes are counted in."""
    done: list[int] = []
    write = store.write

    def interleaved(plan: BookingWrite) -> None:
        if len(done) < times:
            done.append(1)
            record = store.get_booking(uid)
            assert record is not None
            recorded = record.model_copy(deep=True)
            recorded.references = [CALENDAR_EVENT]
            write(BookingWrite(changes=[StatusChange.of(record, recorded, booker_key_of(record))]))
        write(plan)

    store.write = interleaved  # type: ignore[method-assign]
    return done
