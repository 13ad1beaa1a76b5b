"""An in-memory BookingStore with the same guarantees as the DynamoDB one: one write is atomic (validated fully
before anything changes), locks and guards are conditional, counters respect their limits."""

from __future__ import annotations

import copy
import dataclasses
import threading
from datetime import datetime

from booking_core import clock
from dataclasses import dataclass, field

from booking_core.domain.access import BlocklistEntry, PrivateLink, RoutingFormResponse
from booking_core.domain.bookings import BookingRecord
from booking_core.domain.event_types import EventType, EventTypeInput
from booking_core.domain.out_of_office import OutOfOffice
from booking_core.domain.payments import Payment
from booking_core.domain.reservations import Reservation
from booking_core.domain.users import AvailabilityRule, Schedule, User
from booking_core.ports import (
    AlreadySeated,
    BookerBooking,
    BookingWrite,
    DuplicateBooking,
    HostBooking,
    HostConfig,
    HostWindow,
    LimitCount,
    LimitReached,
    PaymentAlreadySettled,
    RequestData,
    RequestKeys,
    Seat,
    SeatsFull,
    SeatSlot,
    SeatSlotOpened,
    SlotTaken,
    StaleBooking,
    StaleReservation,
)

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


@dataclass
class InMemoryStore:
    event_types: dict[int, EventType] = field(default_factory=dict)
    hosts: dict[int, HostConfig] = field(default_factory=dict)
    bookings: dict[str, BookingRecord] = field(default_factory=dict)
    host_index: dict[int, dict[str, HostBooking]] = field(default_factory=dict)
    locks: dict[tuple[int, int], str] = field(default_factory=dict)
    held_locks: dict[tuple[int, int], tuple[str, int]] = field(default_factory=dict)  # reservation uid, until (s)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    duplicates: dict[str, str] = field(default_factory=dict)
    rr_counts: dict[tuple[int, str, int], int] = field(default_factory=dict)
    limits: dict[str, LimitCount] = field(default_factory=dict)
    booker_index: dict[str, dict[str, BookerBooking]] = field(default_factory=dict)
    slots: dict[tuple[int, int], SeatSlot] = field(default_factory=dict)
    seat_guards: set[tuple[str, str]] = field(default_factory=set)  # (booking uid, email)
    seat_items: dict[str, dict[str, Seat]] = field(default_factory=dict)
    blocklist: list[BlocklistEntry] = field(default_factory=list)
    links: dict[tuple[int, str], PrivateLink] = field(default_factory=dict)
    routing: dict[int, RoutingFormResponse] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
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
        return list(self.host_index.get(host_id, {}).values())

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

    def load_host(self, host_id: int) -> HostConfig | None:
        self.calls.append("load_host")
        return self.hosts.get(host_id)

    def host_window(self, host_id: int, from_min: int, to_min: int) -> HostWindow:
        self.calls.append("host_window")
        return HostWindow(self.hosts.get(host_id), [b for b in self.host_bookings_of(host_id)
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
        return [b for b in self.booker_index.get(booker_key, {}).values() if b.start_min >= from_min]

    def seat_slots(self, event_type_id: int, from_min: int, to_min: int) -> list[SeatSlot]:
        return [s for (t, start), s in self.slots.items() if t == event_type_id and from_min <= start <= to_min]

    def seats(self, booking_uid: str) -> list[Seat]:
        return sorted(self.seat_items.get(booking_uid, {}).values(), key=lambda s: s.created_at)

    def get_payment(self, payment_uid: str) -> Payment | None:
        return self.payments.get(payment_uid)

    def get_reservation(self, uid: str) -> Reservation | None:
        return copy.deepcopy(self.reservations.get(uid))

    def blocklist_entries(self, keys: list[tuple[str, str]]) -> list[BlocklistEntry]:
        wanted = set(keys)
        return [e for e in self.blocklist if (e.type, e.value) in wanted]

    # the one write ---------------------------------------------------------------------------------------------
    def write(self, plan: BookingWrite) -> None:
        self.calls.append("write")
        with self._lock:
            self._check(plan)
            self._apply(plan)

    def _held_by_other(self, key: tuple[int, int], own: str | None, now_s: int) -> bool:
        held = self.held_locks.get(key)
        return held is not None and held[0] != own and held[1] > now_s

    def _check(self, plan: BookingWrite) -> None:
        now_s = int((plan.now or clock.now()).timestamp())
        released_locks = {tuple(k): r.record.uid for r in plan.releases for k in r.lock_keys}
        released_guards = {r.duplicate_key: r.record.uid for r in plan.releases if r.duplicate_key}
        for item in [*plan.releases, *plan.changes, *plan.updates, *plan.reassignments]:
            current = self.bookings.get(item.record.uid)
            if current is None or current.version != item.expected_version:
                raise StaleBooking(item.record.uid)
        taken = {host for new in plan.creates for host, bucket in new.lock_keys
                 if ((host, bucket) in self.locks and released_locks.get((host, bucket)) != self.locks[(host, bucket)])
                 or self._held_by_other((host, bucket), new.reservation_uid, now_s)}
        taken |= {host for moved in plan.reassignments for host, bucket in moved.taken_locks
                  if (host, bucket) in self.locks or self._held_by_other((host, bucket), None, now_s)}
        taken |= {host for written in plan.reservations for host, bucket in written.reservation.lock_keys
                  if (host, bucket) in self.locks
                  or self._held_by_other((host, bucket), written.reservation.uid, now_s)}
        if taken:
            raise SlotTaken(taken)
        for seat in plan.seat_updates:
            if seat.seat_uid not in self.seat_items.get(seat.booking_uid, {}):
                raise StaleBooking(seat.seat_uid)
        for written in plan.reservations:
            stored = self.reservations.get(written.reservation.uid)
            if (stored is None) != (written.expected_version is None) or (
                    stored is not None and stored.version != written.expected_version):
                raise StaleReservation(written.reservation.uid)
        retaken = {tuple(k) for new in plan.creates for k in new.lock_keys}
        retaken |= {tuple(k) for w in plan.reservations for k in w.reservation.lock_keys}
        for release in plan.released_reservations:
            uid = release.reservation.uid
            stored = self.reservations.get(uid)
            if not release.keep_item and (stored is None or stored.version != release.expected_version):
                raise StaleReservation(uid)
            for key in release.reservation.lock_keys:
                if tuple(key) not in retaken and self.held_locks.get(tuple(key), ("",))[0] != uid:
                    raise StaleReservation(uid)
        for opened in plan.seat_opens:
            if (opened.slot.event_type_id, opened.slot.start_min) in self.slots:
                raise SeatSlotOpened()
        for seat_op in [*plan.seat_opens, *plan.seat_joins]:
            if (seat_op.seat.booking_uid, seat_op.seat.attendee.email.lower()) in self.seat_guards:
                raise AlreadySeated()
        for joined in plan.seat_joins:
            slot = self.slots.get((joined.slot.event_type_id, joined.slot.start_min))
            if slot is None or slot.booking_uid != joined.slot.booking_uid or slot.taken >= slot.capacity:
                raise SeatsFull()
        for new in plan.creates:
            key = new.duplicate_key
            if key and key in self.duplicates and self.duplicates[key] not in (
                new.stale_duplicate_uid, released_guards.get(key)
            ):
                raise DuplicateBooking()
        for delta in plan.limits:
            current = self.limits.get(delta.key, LimitCount(0, 0))
            if delta.count > 0 and delta.max_count is not None and current.count + delta.count > delta.max_count:
                raise LimitReached(delta.key)
            if delta.minutes > 0 and delta.max_minutes is not None and current.minutes + delta.minutes > delta.max_minutes:
                raise LimitReached(delta.key)
        for payment in plan.payments:
            existing = self.payments.get(payment.payment_uid)
            if plan.payment_expected_status and (existing is None or existing.status != plan.payment_expected_status):
                raise PaymentAlreadySettled()

    def _apply(self, plan: BookingWrite) -> None:
        for release in plan.released_reservations:
            reservation = release.reservation
            if not release.keep_item:
                self.reservations.pop(reservation.uid, None)
            for hold in reservation.holds:
                self.host_index.get(hold.host_id, {}).pop(f"{reservation.uid}#{hold.start_min}", None)
            for key in reservation.lock_keys:
                if self.held_locks.get(tuple(key), ("",))[0] == reservation.uid:
                    del self.held_locks[tuple(key)]
        for release in plan.releases:
            record = release.record
            record.version = release.expected_version + 1
            self.bookings[record.uid] = copy.deepcopy(record)
            for host in release.host_ids:
                self.host_index.get(host, {}).pop(record.uid, None)
            for key in release.lock_keys:
                if self.locks.get(tuple(key)) == record.uid:
                    del self.locks[tuple(key)]
            if release.duplicate_key and self.duplicates.get(release.duplicate_key) == record.uid:
                del self.duplicates[release.duplicate_key]
            if release.booker_key:
                self.booker_index.get(release.booker_key, {}).pop(record.uid, None)
            if release.seat_slot is not None:
                self.slots.pop((release.seat_slot.event_type_id, release.seat_slot.start_min), None)
        for new in plan.creates:
            record = new.record
            record.version = 1
            self.bookings[record.uid] = copy.deepcopy(record)
            for host, hb in new.host_bookings:
                self.host_index.setdefault(host, {})[record.uid] = hb
            for key in new.lock_keys:
                self.locks[tuple(key)] = record.uid
                self.held_locks.pop(tuple(key), None)
            if new.duplicate_key:
                self.duplicates[new.duplicate_key] = record.uid
            if new.booker_key:
                start = new.host_bookings[0][1].start_min
                self.booker_index.setdefault(new.booker_key, {})[record.uid] = BookerBooking(record.uid, start, record.status)
        for change in plan.changes:
            record = change.record
            record.version = change.expected_version + 1
            self.bookings[record.uid] = copy.deepcopy(record)
            for host in change.host_ids:
                old = self.host_index.get(host, {}).get(record.uid)
                if old:
                    self.host_index[host][record.uid] = _with_status(old, record.status)
            if change.booker_key:
                self.booker_index.setdefault(change.booker_key, {})[record.uid] = BookerBooking(
                    record.uid, change.start_min, record.status)
        for update in plan.updates:
            update.record.version = update.expected_version + 1
            self.bookings[update.record.uid] = copy.deepcopy(update.record)
        for moved in plan.reassignments:
            record = moved.record
            record.version = moved.expected_version + 1
            self.bookings[record.uid] = copy.deepcopy(record)
            for host in set(moved.previous_host_ids) - {h.id for h in record.hosts}:
                self.host_index.get(host, {}).pop(record.uid, None)
            for key in moved.released_locks:
                if self.locks.get(tuple(key)) == record.uid:
                    del self.locks[tuple(key)]
            for host, hb in moved.joining:
                self.host_index.setdefault(host, {})[record.uid] = hb
            for key in moved.taken_locks:
                self.locks[tuple(key)] = record.uid
                self.held_locks.pop(tuple(key), None)
        for seat in plan.seat_updates:
            self.seat_items[seat.booking_uid][seat.seat_uid] = seat
        for delta in plan.limits:
            current = self.limits.get(delta.key, LimitCount(0, 0))
            self.limits[delta.key] = LimitCount(current.count + delta.count, current.minutes + delta.minutes)
        for rr in plan.round_robin:
            key = (rr.event_type_id, rr.period, rr.host_id)
            self.rr_counts[key] = self.rr_counts.get(key, 0) + rr.delta
        for opened in plan.seat_opens:
            slot = opened.slot
            self.slots[(slot.event_type_id, slot.start_min)] = SeatSlot(slot.event_type_id, slot.start_min,
                                                                        slot.booking_uid, 1, slot.capacity)
            self._seat(slot, opened.seat)
        for joined in plan.seat_joins:
            key = (joined.slot.event_type_id, joined.slot.start_min)
            slot = self.slots[key]
            self.slots[key] = SeatSlot(slot.event_type_id, slot.start_min, slot.booking_uid, slot.taken + 1, slot.capacity)
            self._seat(slot, joined.seat)
        for left in plan.seat_leaves:
            key = (left.slot.event_type_id, left.slot.start_min)
            slot = self.slots[key]
            if left.close:
                del self.slots[key]
            else:
                self.slots[key] = SeatSlot(slot.event_type_id, slot.start_min, slot.booking_uid, slot.taken - 1,
                                           slot.capacity)
            self.seat_items.get(left.seat.booking_uid, {}).pop(left.seat.seat_uid, None)
            self.seat_guards.discard((left.seat.booking_uid, left.seat.attendee.email.lower()))
        for payment in plan.payments:
            self.payments[payment.payment_uid] = payment
        for written in plan.reservations:
            reservation = copy.deepcopy(written.reservation)
            reservation.version = (written.expected_version or 0) + 1
            written.reservation.version = reservation.version
            self.reservations[reservation.uid] = reservation
            for key in reservation.lock_keys:
                self.held_locks[tuple(key)] = (reservation.uid, reservation.until_s)
            for hold in reservation.holds:
                self.host_index.setdefault(hold.host_id, {})[f"{reservation.uid}#{hold.start_min}"] = HostBooking(
                    reservation.uid, reservation.event_type_id, hold.start_min, hold.end_min, hold.busy_start_min,
                    hold.busy_end_min, "reserved", reservation.until_s)
        self.outbox.extend(plan.events)

    def _seat(self, slot: SeatSlot, seat: Seat) -> None:
        self.seat_items.setdefault(seat.booking_uid, {})[seat.seat_uid] = seat
        self.seat_guards.add((seat.booking_uid, seat.attendee.email.lower()))


def _with_status(booking: HostBooking, status: str) -> HostBooking:
    return HostBooking(booking.uid, booking.event_type_id, booking.start_min, booking.end_min,
                       booking.busy_start_min, booking.busy_end_min, status)
