"""The BookingStore contract: every read and every condition of `write(BookingWrite)`, asserted the same way on the
in-memory store of the unit tests and on the DynamoDB store (against the serial moto server).

The DynamoDB store is the reference: the unit tests trust the in-memory store to refuse exactly what a transaction
would refuse, and this suite is what makes that trust earned. Each test states the behaviour; the `world` fixture runs
it on both stores.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from booking_core.domain.abuse import RateWindow
from booking_core.domain.access import BlocklistInput, PrivateLink
from booking_core.domain.bookings import Attendee, BookingRecord, EventTypeRef, HostRef
from booking_core.domain.calendars import CalendarConnection, CalendarEntry
from booking_core.domain.payments import Payment
from booking_core.domain.reservations import Hold, Reservation
from booking_core.domain.users import AvailabilityRule
from booking_core.ports import (
    AlreadySeated,
    BookerBooking,
    BookingWrite,
    DuplicateBooking,
    HostBooking,
    HostWindow,
    LimitCount,
    LimitDelta,
    LimitReached,
    NewBooking,
    OutboxEvent,
    PaymentAlreadySettled,
    RateLimited,
    Reassignment,
    RecordUpdate,
    Release,
    RequestKeys,
    ReservationRelease,
    ReservationWrite,
    RoundRobinIncrement,
    Seat,
    SeatJoin,
    SeatLeave,
    SeatOpen,
    SeatsFull,
    SeatSlot,
    SeatSlotOpened,
    SlotTaken,
    StaleBooking,
    StaleReservation,
    StatusChange,
    TransactionTooLarge,
)
from booking_core.timeutil import UTC, from_minutes, iso_z, to_minutes
from tests.contract.conftest import HostSpec, World

NOW = datetime(2035, 1, 1, 12, 0, tzinfo=UTC)
TEN = to_minutes(datetime(2035, 1, 8, 10, 0, tzinfo=UTC))  # 10:00 on a Monday, years after the other suites' dates
BUCKET = 15


# -- building what a write carries -----------------------------------------------------------------------------------
def uid() -> str:
    return uuid.uuid4().hex


def record(world: World, hosts: list[int], start: int, length: int = 30, *, status: str = "accepted",
           event_type_id: int = 1, buffers: tuple[int, int] = (0, 0), seats: int | None = None,
           duplicate_key: str | None = None) -> BookingRecord:
    """A booking of `hosts` at `start` holding one lock per host and 15-minute bucket of its held time."""
    busy_start, busy_end = start - buffers[0], start + length + buffers[1]
    buckets = range(busy_start - busy_start % BUCKET, busy_end, BUCKET)
    return BookingRecord(
        id=world.store.next_booking_ids()[0], uid=uid(), title="Contract", status=status,
        start=from_minutes(start), end=from_minutes(start + length), duration=length,
        event_type_id=event_type_id, event_type=EventTypeRef(id=event_type_id, slug="contract"),
        hosts=[HostRef(id=h, name=f"Host {h}", email=f"host{h}@example.com", time_zone="UTC") for h in hosts],
        attendees=[Attendee(name="Ann", email="ann@example.org", time_zone="Europe/Paris")],
        metadata={"source": "contract"}, booking_fields_responses={"notes": ["a", "b"]},
        created_at=NOW, updated_at=NOW, busy_start_min=busy_start, busy_end_min=busy_end,
        lock_keys=[(h, b) for h in hosts for b in buckets], duplicate_key=duplicate_key,
        seats_capacity=seats, limit_keys=[],
    )


def interval(booking: BookingRecord) -> HostBooking:
    start = to_minutes(booking.start)
    return HostBooking(uid=booking.uid, event_type_id=booking.event_type_id, start_min=start,
                       end_min=start + booking.duration, busy_start_min=booking.busy_start_min,
                       busy_end_min=booking.busy_end_min, status=booking.status)


def new(booking: BookingRecord, *, booker_key: str | None = None, stale_duplicate_uid: str | None = None,
        reservation_uid: str | None = None) -> NewBooking:
    return NewBooking(record=booking, lock_keys=list(booking.lock_keys),
                      host_bookings=[(host.id, interval(booking)) for host in booking.hosts],
                      duplicate_key=booking.duplicate_key, stale_duplicate_uid=stale_duplicate_uid,
                      booker_key=booker_key, reservation_uid=reservation_uid)


def changed(booking: BookingRecord, **fields) -> BookingRecord:
    updated = booking.model_copy(deep=True)
    for name, value in {"updated_at": NOW + timedelta(minutes=1), **fields}.items():
        setattr(updated, name, value)
    return updated


def release(booking: BookingRecord, *, booker_key: str | None = None, version: int | None = None,
            **fields) -> Release:
    return Release(record=changed(booking, status="cancelled", **fields),
                   expected_version=booking.version if version is None else version,
                   lock_keys=list(booking.lock_keys), host_ids=[h.id for h in booking.hosts],
                   start_min=to_minutes(booking.start), duplicate_key=booking.duplicate_key, booker_key=booker_key)


def book(world: World, booking: BookingRecord, **extra) -> BookingRecord:
    world.store.write(BookingWrite(creates=[new(booking, **extra)], now=NOW))
    return booking


def reservation(hosts: list[int], start: int, *, length: int = 30, until: datetime = NOW + timedelta(minutes=5),
                event_type_id: int = 1) -> Reservation:
    buckets = range(start - start % BUCKET, start + length, BUCKET)
    return Reservation(
        uid=uid(), event_type_id=event_type_id, slot_start=from_minutes(start),
        slot_end=from_minutes(start + length), reservation_duration=5, reservation_until=until, created_at=NOW,
        host_ids=hosts, lock_keys=[(h, b) for h in hosts for b in buckets],
        holds=[Hold(host_id=h, start_min=start, end_min=start + length, busy_start_min=start,
                    busy_end_min=start + length) for h in hosts])


def seat(booking: BookingRecord, email: str, minute: int = 0) -> Seat:
    return Seat(seat_uid=uid(), booking_uid=booking.uid,
                attendee=Attendee(name=email.split("@")[0], email=email, time_zone="UTC"),
                created_at=iso_z(NOW + timedelta(minutes=minute)), guests=[f"guest-of-{email}"],
                metadata={"seat": email}, booking_fields_responses={"size": "L"})


def dump(value) -> dict:
    return value.model_dump(mode="json", by_alias=True)


def refused(world: World, plan: BookingWrite, error: type[Exception]) -> Exception:
    with pytest.raises(error) as caught:
        world.store.write(plan)
    return caught.value


def free(world: World, hosts: list[int], start: int, length: int = 30, now: datetime = NOW) -> bool:
    """Whether a new booking of these hosts at `start` could take its locks now (tried, then given back)."""
    probe = record(world, hosts, start, length)
    try:
        world.store.write(BookingWrite(creates=[new(probe)], now=now))
    except SlotTaken:
        return False
    world.store.write(BookingWrite(releases=[release(probe)], now=now))
    return True


# -- reads -----------------------------------------------------------------------------------------------------------
def test_what_was_never_written_reads_as_nothing(world):
    store, ghost = world.store, uid()
    (host,) = world.user_ids(1)
    assert store.get_booking(ghost) is None and store.host_window(host, TEN - 1440, TEN + 1440) == HostWindow(None, [])
    assert store.get_payment(ghost) is None and store.get_reservation(ghost) is None
    data = store.fetch_request_data(RequestKeys(event_type_id=10**9, duplicate_key=f"DUP#{ghost}",
                                                blocklist=(("domain", f"{ghost}.example"),), private_link=ghost,
                                                routing_response_id=10**9, seat_start_min=TEN, reservation_uid=ghost))
    assert (data.event_type, data.duplicate_uid, data.blocklist, data.private_link, data.routing_response,
            data.seat_slot, data.reservation) == (None, None, [], None, None, None, None)
    assert store.host_bookings(host, TEN - 1440, TEN + 1440) == []
    assert store.round_robin_counts(10**9, "2035-01", [host]) == {}
    assert store.limit_counts([ghost]) == {}
    assert store.booker_bookings(ghost, 0) == []
    assert store.seat_slots(10**9, 0, TEN * 2) == [] and store.seats(ghost) == []
    assert store.holds_seat(ghost, "ann@example.org") is False
    assert store.blocklist_entries([("email", f"a@{ghost}.example")]) == []


def test_booking_ids_are_unique_and_increasing(world):
    first, second = world.store.next_booking_ids(3), world.store.next_booking_ids(2)
    assert len(first) == 3 and len(second) == 2 and len(set(first + second)) == 5
    assert first == sorted(first) and second == sorted(second) and max(first) < min(second)


def test_the_request_read_returns_what_the_request_names(world):
    (host,) = world.user_ids(1)
    event_type = world.event_type(owner_id=host, length_in_minutes=45)
    domain = f"{uid()}.example"
    blocked = world.blocklist_entry(BlocklistInput(type="domain", value=domain, action="block"), NOW)
    login = world.blocklist_entry(BlocklistInput(type="email", value=f"Eve@{domain}", action="requireLogin"), NOW)
    link = PrivateLink(link_id=uid(), event_type_id=event_type.id, max_usage_count=3, created_at=NOW)
    world.private_link(link)
    routed = world.routing_response("form-1", {"team": "sales", "size": 12}, NOW)
    guarded = book(world, record(world, [host], TEN, event_type_id=event_type.id, duplicate_key=f"DUP#{uid()}"))

    data = world.store.fetch_request_data(RequestKeys(
        event_type_id=event_type.id, duplicate_key=guarded.duplicate_key,
        blocklist=(("domain", domain), ("email", f"eve@{domain}"), ("email", f"nobody@{domain}")),
        private_link=link.link_id, routing_response_id=routed.id))
    assert dump(data.event_type) == dump(event_type)
    assert data.duplicate_uid == guarded.uid
    assert sorted(map(dump, data.blocklist), key=str) == sorted(map(dump, [blocked, login]), key=str)
    assert dump(data.private_link) == dump(link) and data.private_link.usage_count == 0
    assert dump(data.routing_response) == dump(routed)
    assert data.seat_slot is None and data.reservation is None
    entries = world.store.blocklist_entries([("email", f"eve@{domain}"), ("domain", f"other-{domain}")])
    assert list(map(dump, entries)) == [dump(login)]
    unknown = world.store.fetch_request_data(RequestKeys(event_type_id=event_type.id, private_link="nope"))
    assert unknown.private_link is None and unknown.duplicate_uid is None


def test_a_host_loads_with_schedules_calendars_and_out_of_office_in_start_order(world):
    later, sooner = NOW + timedelta(days=20), NOW + timedelta(days=3)
    connection = CalendarConnection(id=0, user_id=0, type="caldav", selected_calendars=["work"], created_at=NOW,
                                    calendars=[CalendarEntry(external_id="work", name="Work", primary=True)])
    spec = HostSpec(name="Hana", email=f"hana-{uid()}@example.com", time_zone="Asia/Tokyo", blocked=True,
                    schedules=[("Office", [AvailabilityRule(days=["Monday"], start_time="09:00", end_time="12:00")]),
                               ("Evenings", [AvailabilityRule(days=["Friday"], start_time="18:00", end_time="21:00")])],
                    away=[(later, later + timedelta(days=2)), (sooner, sooner + timedelta(hours=5))],
                    calendar=connection, credentials="sealed:abc")
    host_id = world.host(spec, NOW)
    config = world.store.host_window(host_id, TEN, TEN + 60).config
    assert config is not None and config.blocked is True
    user = config.user
    assert (user.id, user.name, user.email, user.time_zone, user.locked) == (host_id, "Hana", spec.email,
                                                                              "Asia/Tokyo", False)
    schedules = {schedule.name: schedule for schedule in config.schedules}
    assert set(schedules) == {"Office", "Evenings"}
    assert user.default_schedule_id == schedules["Office"].id and schedules["Office"].is_default
    assert not schedules["Evenings"].is_default and config.schedule(None) is schedules["Office"]
    assert dump(schedules["Evenings"].availability[0]) == dump(spec.schedules[1][1][0])
    assert [(entry.start, entry.end) for entry in config.out_of_office] == sorted(spec.away)
    assert all(entry.user_id == host_id for entry in config.out_of_office)
    [stored] = config.calendars
    assert stored.encrypted_credentials == "sealed:abc" and stored.connection.user_id == host_id
    assert dump(stored.connection) == dump(connection.model_copy(update={"id": stored.connection.id,
                                                                         "user_id": host_id}))


def held_over(world: World, host: int, from_min: int, to_min: int) -> list[HostBooking]:
    """The host's busy items over the window, read both ways the store offers (alone, and with the configuration)."""
    alone = world.store.host_bookings(host, from_min, to_min)
    assert world.store.host_window(host, from_min, to_min).bookings == alone
    return alone


def test_host_bookings_are_those_whose_held_time_overlaps_the_window(world):
    (host,) = world.user_ids(1)
    booking = book(world, record(world, [host], TEN, buffers=(10, 20)))  # holds 9:50-10:50
    held = [interval(booking)]
    assert held_over(world, host, TEN - 60, TEN - 10) == []  # ends where the hold starts
    assert held_over(world, host, TEN - 60, TEN - 9) == held  # the before-buffer reaches back into it
    assert held_over(world, host, TEN + 49, TEN + 120) == held
    assert held_over(world, host, TEN + 50, TEN + 120) == []  # starts where the hold ends
    assert held_over(world, host, TEN + 5, TEN + 6) == held  # inside it
    later = book(world, record(world, [host], TEN + 120))
    assert held_over(world, host, TEN - 60, TEN + 240) == [interval(booking), interval(later)]  # in start order


# -- creating --------------------------------------------------------------------------------------------------------
def test_a_new_booking_stores_its_record_intervals_guard_and_booker_index(world):
    first, second = world.user_ids(2)
    booker = f"booker-{uid()}"
    booking = book(world, record(world, [first, second], TEN, duplicate_key=f"DUP#{uid()}"), booker_key=booker)
    stored = world.store.get_booking(booking.uid)
    assert stored.version == 1 and dump(stored) == dump(booking)
    for host in (first, second):
        assert world.store.host_bookings(host, TEN - 60, TEN + 60) == [interval(booking)]
    assert world.store.booker_bookings(booker, TEN) == [BookerBooking(booking.uid, TEN, "accepted")]
    assert world.store.booker_bookings(booker, TEN + 1) == []
    assert world.store.fetch_request_data(RequestKeys(1, duplicate_key=booking.duplicate_key)).duplicate_uid == \
        booking.uid


def test_a_booker_s_bookings_are_listed_in_start_order(world):
    (host,) = world.user_ids(1)
    booker = f"booker-{uid()}"
    later = book(world, record(world, [host], TEN + 120), booker_key=booker)
    sooner = book(world, record(world, [host], TEN), booker_key=booker)
    assert [b.uid for b in world.store.booker_bookings(booker, TEN)] == [sooner.uid, later.uid]
    assert [b.uid for b in world.store.booker_bookings(booker, TEN + 1)] == [later.uid]


def test_a_held_lock_refuses_the_whole_write_and_names_the_hosts_that_are_taken(world):
    first, second, third = world.user_ids(3)
    book(world, record(world, [first], TEN))
    book(world, record(world, [second], TEN + 15))
    counter = f"{uid()}#day#2035-01-08"
    booker = f"booker-{uid()}"
    late = record(world, [first, second, third], TEN + 15)
    taken = refused(world, BookingWrite(creates=[new(late, booker_key=booker)],
                                        limits=[LimitDelta(counter, 1, 30, max_count=5)], now=NOW), SlotTaken)
    assert taken.host_ids == {first, second}
    assert world.store.get_booking(late.uid) is None  # nothing of the refused write was written
    assert world.store.host_bookings(third, TEN - 60, TEN + 120) == []
    assert world.store.limit_counts([counter]) == {} and world.store.booker_bookings(booker, 0) == []
    assert free(world, [third], TEN + 15)  # nor its locks
    assert refused(world, BookingWrite(creates=[new(record(world, [third, first], TEN + 15))], now=NOW),
                   SlotTaken).host_ids == {first}


def test_a_booking_uid_is_created_once(world):
    (host,) = world.user_ids(1)
    booking = book(world, record(world, [host], TEN))
    again = booking.model_copy(deep=True)
    again.start, again.end = from_minutes(TEN + 120), from_minutes(TEN + 150)
    again.lock_keys = [(host, TEN + 120)]
    refused(world, BookingWrite(creates=[new(again)], now=NOW), StaleBooking)
    assert world.store.get_booking(booking.uid).start == booking.start


# -- releasing, rescheduling ------------------------------------------------------------------------------------------
def test_a_release_frees_everything_the_booking_held(world):
    (host,) = world.user_ids(1)
    booker = f"booker-{uid()}"
    booking = book(world, record(world, [host], TEN, duplicate_key=f"DUP#{uid()}"), booker_key=booker)
    world.store.write(BookingWrite(releases=[release(booking, booker_key=booker, cancellation_reason="ill")],
                                   now=NOW))
    stored = world.store.get_booking(booking.uid)
    assert (stored.status, stored.version, stored.cancellation_reason) == ("cancelled", 2, "ill")
    assert world.store.host_bookings(host, TEN - 60, TEN + 60) == []
    assert world.store.booker_bookings(booker, 0) == []
    assert world.store.fetch_request_data(RequestKeys(1, duplicate_key=booking.duplicate_key)).duplicate_uid is None
    assert free(world, [host], TEN)


def test_a_release_of_a_changed_booking_is_stale_and_writes_nothing(world):
    (host,) = world.user_ids(1)
    booking = book(world, record(world, [host], TEN))
    refused(world, BookingWrite(releases=[release(booking, version=2)], now=NOW), StaleBooking)
    assert world.store.get_booking(booking.uid).status == "accepted"
    assert not free(world, [host], TEN)
    never = record(world, [host], TEN + 240)
    refused(world, BookingWrite(releases=[release(never)], now=NOW), StaleBooking)  # never written
    assert world.store.get_booking(never.uid) is None


def test_a_release_of_locks_or_a_guard_the_booking_does_not_hold_is_stale(world):
    first, second = world.user_ids(2)
    booking = book(world, record(world, [first], TEN, duplicate_key=f"DUP#{uid()}"))
    other = book(world, record(world, [second], TEN))
    wrong_lock = release(booking)
    wrong_lock.lock_keys.append((second, TEN))  # the other booking's lock
    refused(world, BookingWrite(releases=[wrong_lock], now=NOW), StaleBooking)
    wrong_guard = release(booking)
    wrong_guard.duplicate_key = f"DUP#{uid()}"  # nobody's guard
    refused(world, BookingWrite(releases=[wrong_guard], now=NOW), StaleBooking)
    assert world.store.get_booking(booking.uid).version == 1
    assert not free(world, [first], TEN) and not free(world, [second], TEN)
    assert world.store.get_booking(other.uid).status == "accepted"


def test_a_reschedule_that_overlaps_itself_hands_its_locks_and_guard_over(world):
    (host,) = world.user_ids(1)
    guard = f"DUP#{uid()}"
    booker = f"booker-{uid()}"
    original = book(world, record(world, [host], TEN, duplicate_key=guard), booker_key=booker)  # 10:00, 10:15
    moved = record(world, [host], TEN + 15, duplicate_key=guard)  # 10:15, 10:30
    moved.rescheduled_from_uid = original.uid
    world.store.write(BookingWrite(releases=[release(original, booker_key=booker, rescheduled_to_uid=moved.uid)],
                                   creates=[new(moved, booker_key=booker)], now=NOW))
    assert world.store.get_booking(original.uid).rescheduled_to_uid == moved.uid
    assert world.store.get_booking(moved.uid).version == 1
    assert world.store.host_bookings(host, TEN - 60, TEN + 120) == [interval(moved)]
    assert world.store.booker_bookings(booker, 0) == [BookerBooking(moved.uid, TEN + 15, "accepted")]
    assert world.store.fetch_request_data(RequestKeys(1, duplicate_key=guard)).duplicate_uid == moved.uid
    assert free(world, [host], TEN, length=15)  # 10:00 went back
    assert not free(world, [host], TEN + 15, length=15) and not free(world, [host], TEN + 30, length=15)


def test_a_reschedule_cannot_take_locks_the_released_booking_does_not_hold(world):
    first, second = world.user_ids(2)
    original = book(world, record(world, [first], TEN))
    book(world, record(world, [second], TEN + 30))
    moved = record(world, [first, second], TEN + 15)
    taken = refused(world, BookingWrite(releases=[release(original)], creates=[new(moved)], now=NOW), SlotTaken)
    assert taken.host_ids == {second}
    assert world.store.get_booking(original.uid).status == "accepted"


def test_a_series_is_created_and_cancelled_in_one_write_all_or_nothing(world):
    first, second = world.user_ids(2)
    weekly = [TEN + week * 7 * 1440 for week in range(3)]
    book(world, record(world, [second], weekly[2]))
    series = [record(world, [first, second], start) for start in weekly]
    taken = refused(world, BookingWrite(creates=[new(occurrence) for occurrence in series], now=NOW), SlotTaken)
    assert taken.host_ids == {second}
    assert [world.store.get_booking(o.uid) for o in series] == [None] * 3 and free(world, [first], weekly[0])

    series = [record(world, [first], start) for start in weekly]
    world.store.write(BookingWrite(creates=[new(occurrence) for occurrence in series], now=NOW))
    assert [world.store.get_booking(o.uid).version for o in series] == [1, 1, 1]
    stale = [release(series[0]), release(series[1], version=2), release(series[2])]  # one changed meanwhile
    refused(world, BookingWrite(releases=stale, now=NOW), StaleBooking)
    assert [world.store.get_booking(o.uid).status for o in series] == ["accepted"] * 3
    assert not free(world, [first], weekly[0])
    world.store.write(BookingWrite(releases=[release(o) for o in series[1:]], now=NOW))  # from the second on
    assert [world.store.get_booking(o.uid).status for o in series] == ["accepted", "cancelled", "cancelled"]
    assert not free(world, [first], weekly[0]) and free(world, [first], weekly[1]) and free(world, [first], weekly[2])


# -- the duplicate guard ---------------------------------------------------------------------------------------------
def test_the_duplicate_guard_admits_one_booking_per_attendee_and_start(world):
    first, second = world.user_ids(2)
    guard = f"DUP#{uid()}"
    held = book(world, record(world, [first], TEN, duplicate_key=guard))
    refused(world, BookingWrite(creates=[new(record(world, [second], TEN, duplicate_key=guard))], now=NOW),
            DuplicateBooking)
    # a guard whose booking is known to be gone (read as stale) is taken over
    taker = book(world, record(world, [second], TEN, duplicate_key=guard), stale_duplicate_uid=held.uid)
    assert world.store.fetch_request_data(RequestKeys(1, duplicate_key=guard)).duplicate_uid == taker.uid
    refused(world, BookingWrite(releases=[release(held)], now=NOW), StaleBooking)  # the guard is not its own now
    unguarded = release(held)
    unguarded.duplicate_key = None
    world.store.write(BookingWrite(releases=[unguarded], now=NOW))
    world.store.write(BookingWrite(releases=[release(taker)], now=NOW))
    assert world.store.fetch_request_data(RequestKeys(1, duplicate_key=guard)).duplicate_uid is None


# -- counters --------------------------------------------------------------------------------------------------------
def test_limit_counters_count_within_their_limits_only(world):
    day, week, fresh, idle = (f"{uid()}#{kind}#2035-01-08" for kind in ("day", "week", "day", "day"))
    count = LimitDelta(day, 1, 30, max_count=2)
    world.store.write(BookingWrite(limits=[count, LimitDelta(week, 1, 30, max_minutes=45)], now=NOW))
    world.store.write(BookingWrite(limits=[count], now=NOW))
    assert world.store.limit_counts([day, week, fresh]) == {day: LimitCount(2, 60), week: LimitCount(1, 30)}
    assert refused(world, BookingWrite(limits=[count], now=NOW), LimitReached).key == day
    assert refused(world, BookingWrite(limits=[LimitDelta(week, 1, 30, max_minutes=45)], now=NOW),
                   LimitReached).key == week
    assert world.store.limit_counts([day, week]) == {day: LimitCount(2, 60), week: LimitCount(1, 30)}
    world.store.write(BookingWrite(limits=[LimitDelta(day, -1, -30), LimitDelta(week, -1, -30)], now=NOW))
    assert world.store.limit_counts([day, week]) == {day: LimitCount(1, 30), week: LimitCount(0, 0)}
    # a change larger than its limit is refused even before anything was counted
    assert refused(world, BookingWrite(limits=[LimitDelta(fresh, 2, 60, max_count=1)], now=NOW),
                   LimitReached).key == fresh
    assert refused(world, BookingWrite(limits=[LimitDelta(fresh, 1, 60, max_minutes=45)], now=NOW),
                   LimitReached).key == fresh
    world.store.write(BookingWrite(limits=[LimitDelta(idle, 0, 0, max_count=1)], now=NOW))  # a change of nothing
    assert world.store.limit_counts([fresh, idle]) == {}


def test_round_robin_counts_add_up_per_host_and_period(world):
    first, second, third = world.user_ids(3)
    event_type = world.user_ids(1)[0] + 10**6  # a type id nobody else counts under
    world.store.write(BookingWrite(round_robin=[RoundRobinIncrement(event_type, "2035-01", first),
                                                RoundRobinIncrement(event_type, "2035-01", second, delta=3),
                                                RoundRobinIncrement(event_type, "2035-02", third)], now=NOW))
    world.store.write(BookingWrite(round_robin=[RoundRobinIncrement(event_type, "2035-01", first, delta=-1),
                                                RoundRobinIncrement(event_type, "2035-01", second)], now=NOW))
    assert world.store.round_robin_counts(event_type, "2035-01", [first, second, third]) == {first: 0, second: 4}
    assert world.store.round_robin_counts(event_type, "2035-02", [first, third]) == {third: 1}


def test_a_full_rate_window_refuses_the_write_and_writes_nothing(world):
    (host,) = world.user_ids(1)
    window = RateWindow("email", f"{uid()}@example.org", 2, int(NOW.timestamp()), int(NOW.timestamp()) + 3600)
    turn = RoundRobinIncrement(host + 10**6, "2035-01", host)
    for _ in range(2):
        world.store.write(BookingWrite(rate_windows=[window], round_robin=[turn], now=NOW))
    limited = refused(world, BookingWrite(rate_windows=[window], round_robin=[turn], now=NOW), RateLimited)
    assert limited.window == window
    assert world.store.round_robin_counts(host + 10**6, "2035-01", [host]) == {host: 2}
    following = RateWindow(window.kind, window.subject, 2, window.ends_at, window.ends_at + 3600)
    world.store.write(BookingWrite(rate_windows=[following], now=NOW))  # the next window counts afresh


# -- status changes and record updates -------------------------------------------------------------------------------
def test_a_status_change_keeps_the_slot_and_follows_in_the_indexes(world):
    (host,) = world.user_ids(1)
    booker = f"booker-{uid()}"
    pending = book(world, record(world, [host], TEN, status="pending"), booker_key=booker)
    accepted = changed(pending, status="accepted", paid=True)
    world.store.write(BookingWrite(changes=[StatusChange(accepted, 1, [host], TEN, booker)], now=NOW))
    stored = world.store.get_booking(pending.uid)
    assert (stored.status, stored.paid, stored.version) == ("accepted", True, 2)
    assert [b.status for b in world.store.host_bookings(host, TEN, TEN + 30)] == ["accepted"]
    assert world.store.booker_bookings(booker, 0) == [BookerBooking(pending.uid, TEN, "accepted")]
    assert not free(world, [host], TEN)
    refused(world, BookingWrite(changes=[StatusChange(changed(pending, status="rejected"), 1, [host], TEN)],
                                now=NOW), StaleBooking)
    (stranger,) = world.user_ids(1)  # a host the booking does not occupy
    refused(world, BookingWrite(changes=[StatusChange(changed(stored, status="pending"), 2, [stranger], TEN)],
                                now=NOW), StaleBooking)
    assert world.store.get_booking(pending.uid).status == "accepted"


def test_a_record_update_is_versioned(world):
    (host,) = world.user_ids(1)
    booking = book(world, record(world, [host], TEN))
    world.store.write(BookingWrite(updates=[RecordUpdate(changed(booking, guests=["g@example.org"],
                                                                 location="Room 4"), 1)], now=NOW))
    stored = world.store.get_booking(booking.uid)
    assert (stored.guests, stored.location, stored.version) == (["g@example.org"], "Room 4", 2)
    refused(world, BookingWrite(updates=[RecordUpdate(changed(booking, location="Room 5"), 1)], now=NOW),
            StaleBooking)
    never = record(world, [host], TEN + 120)
    refused(world, BookingWrite(updates=[RecordUpdate(never, 0)], now=NOW), StaleBooking)
    refused(world, BookingWrite(updates=[RecordUpdate(never, 1)], now=NOW), StaleBooking)
    assert world.store.get_booking(booking.uid).location == "Room 4" and world.store.get_booking(never.uid) is None


# -- reassignment ----------------------------------------------------------------------------------------------------
def reassignment(booking: BookingRecord, leaving: int, joining: int, version: int | None = None) -> Reassignment:
    updated = changed(booking, hosts=[HostRef(id=joining, name="New", email="new@example.com", time_zone="UTC")
                                      if h.id == leaving else h for h in booking.hosts],
                      lock_keys=[(joining if h == leaving else h, b) for h, b in booking.lock_keys])
    return Reassignment(record=updated, expected_version=booking.version if version is None else version,
                        start_min=to_minutes(booking.start), previous_host_ids=[h.id for h in booking.hosts],
                        released_locks=[(h, b) for h, b in booking.lock_keys if h == leaving],
                        joining=[(joining, interval(booking))],
                        taken_locks=[(joining, b) for h, b in booking.lock_keys if h == leaving])


def test_a_reassignment_moves_the_interval_and_locks_to_the_new_host(world):
    fixed, leaving, joining = world.user_ids(3)
    booking = book(world, record(world, [fixed, leaving], TEN))
    world.store.write(BookingWrite(reassignments=[reassignment(booking, leaving, joining)], now=NOW))
    stored = world.store.get_booking(booking.uid)
    assert [h.id for h in stored.hosts] == [fixed, joining] and stored.version == 2
    assert world.store.host_bookings(leaving, TEN - 60, TEN + 60) == []
    assert world.store.host_bookings(joining, TEN - 60, TEN + 60) == [interval(booking)]
    assert world.store.host_bookings(fixed, TEN - 60, TEN + 60) == [interval(booking)]
    assert free(world, [leaving], TEN)
    assert not free(world, [joining], TEN) and not free(world, [fixed], TEN)
    back = reassignment(stored, joining, leaving, version=1)  # a move back planned on the version before
    refused(world, BookingWrite(reassignments=[back], now=NOW), StaleBooking)
    assert [h.id for h in world.store.get_booking(booking.uid).hosts] == [fixed, joining]


def test_a_reassignment_to_a_host_booked_meanwhile_is_refused_whole(world):
    leaving, joining = world.user_ids(2)
    booking = book(world, record(world, [leaving], TEN))
    book(world, record(world, [joining], TEN + 15))
    taken = refused(world, BookingWrite(reassignments=[reassignment(booking, leaving, joining)], now=NOW),
                    SlotTaken)
    assert taken.host_ids == {joining}
    assert world.store.host_bookings(leaving, TEN, TEN + 30) == [interval(booking)]
    assert not free(world, [leaving], TEN)


def test_a_reassignment_that_releases_a_lock_it_does_not_hold_is_stale(world):
    leaving, joining, other = world.user_ids(3)
    booking = book(world, record(world, [leaving], TEN))
    book(world, record(world, [other], TEN))
    move = reassignment(booking, leaving, joining)
    move.released_locks.append((other, TEN))
    refused(world, BookingWrite(reassignments=[move], now=NOW), StaleBooking)
    assert world.store.host_bookings(joining, TEN, TEN + 30) == []


def test_a_reassignment_takes_locks_of_expired_reservations_only(world):
    leaving, joining = world.user_ids(2)
    booking = book(world, record(world, [leaving], TEN))
    hold = reservation([joining], TEN)
    world.store.write(BookingWrite(reservations=[ReservationWrite(hold)], now=NOW))
    taken = refused(world, BookingWrite(reassignments=[reassignment(booking, leaving, joining)], now=NOW), SlotTaken)
    assert taken.host_ids == {joining}
    world.store.write(BookingWrite(reassignments=[reassignment(booking, leaving, joining)],
                                   now=hold.reservation_until))
    assert [h.id for h in world.store.get_booking(booking.uid).hosts] == [joining]


# -- seats -----------------------------------------------------------------------------------------------------------
def test_seats_open_join_fill_and_leave(world):
    (host,) = world.user_ids(1)
    seated = record(world, [host], TEN, seats=2, event_type_id=host + 10**6)
    slot = SeatSlot(seated.event_type_id, TEN, seated.uid, taken=1, capacity=2)
    ann, bob, cyd = seat(seated, "ann@example.org", 0), seat(seated, "Bob@example.org", 1), seat(seated, "c@x.org", 2)
    world.store.write(BookingWrite(creates=[new(seated)], seat_opens=[SeatOpen(slot, ann)], now=NOW))
    data = world.store.fetch_request_data(RequestKeys(seated.event_type_id, seat_start_min=TEN))
    assert data.seat_slot == slot and world.store.seat_slots(seated.event_type_id, TEN, TEN) == [slot]
    assert world.store.seats(seated.uid) == [ann] and world.store.holds_seat(seated.uid, "ANN@example.org")

    rival = record(world, [host], TEN, seats=2, event_type_id=seated.event_type_id)  # its locks are taken too
    refused(world, BookingWrite(creates=[new(rival)], now=NOW), SlotTaken)
    refused(world, BookingWrite(creates=[new(rival)], seat_opens=[SeatOpen(SeatSlot(
        seated.event_type_id, TEN, rival.uid, 1, 2), seat(rival, "r@x.org"))], now=NOW), SeatSlotOpened)
    refused(world, BookingWrite(seat_joins=[SeatJoin(slot, seat(seated, "Ann@Example.org"))], now=NOW), AlreadySeated)
    stranger = SeatSlot(seated.event_type_id, TEN, rival.uid, 1, 2)
    refused(world, BookingWrite(seat_joins=[SeatJoin(stranger, seat(rival, "r@x.org"))], now=NOW), SeatsFull)

    world.store.write(BookingWrite(seat_joins=[SeatJoin(slot, bob)], now=NOW))
    assert world.store.seat_slots(seated.event_type_id, TEN - 60, TEN + 60)[0].taken == 2
    assert world.store.seats(seated.uid) == [ann, bob] and world.store.holds_seat(seated.uid, "bob@example.org")
    refused(world, BookingWrite(seat_joins=[SeatJoin(slot, cyd)], now=NOW), SeatsFull)
    refused(world, BookingWrite(seat_joins=[SeatJoin(slot, seat(seated, "bob@example.org"))], now=NOW),
            AlreadySeated)  # full as well: the guard is what is reported

    absent = Seat(ann.seat_uid, ann.booking_uid, ann.attendee.model_copy(update={"absent": True}), ann.created_at,
                  ann.guests, ann.metadata, ann.booking_fields_responses)
    world.store.write(BookingWrite(seat_updates=[absent], now=NOW))
    assert world.store.seats(seated.uid)[0].attendee.absent is True
    refused(world, BookingWrite(seat_updates=[cyd], now=NOW), StaleBooking)  # not a seat of it

    world.store.write(BookingWrite(seat_leaves=[SeatLeave(slot, bob, close=False)], now=NOW))
    assert world.store.seat_slots(seated.event_type_id, TEN, TEN)[0].taken == 1
    assert world.store.seats(seated.uid) == [absent] and not world.store.holds_seat(seated.uid, "bob@example.org")
    refused(world, BookingWrite(seat_leaves=[SeatLeave(slot, bob, close=False)], now=NOW), StaleBooking)
    refused(world, BookingWrite(seat_leaves=[SeatLeave(slot, absent, close=False)], now=NOW),
            StaleBooking)  # the last seat closes the slot
    world.store.write(BookingWrite(seat_leaves=[SeatLeave(slot, absent, close=True)], now=NOW))
    assert world.store.seat_slots(seated.event_type_id, TEN, TEN) == [] and world.store.seats(seated.uid) == []
    refused(world, BookingWrite(seat_leaves=[SeatLeave(slot, absent, close=True)], now=NOW), StaleBooking)


def test_seat_slots_are_listed_by_start_within_the_range(world):
    (host,) = world.user_ids(1)
    type_id = host + 10**6
    slots = []
    for start in (TEN + 120, TEN, TEN + 60):
        booking = record(world, [host], start, seats=3, event_type_id=type_id)
        slots.append(SeatSlot(type_id, start, booking.uid, 1, 3))
        world.store.write(BookingWrite(creates=[new(booking)], seat_opens=[SeatOpen(slots[-1], seat(
            booking, "a@x.org"))], now=NOW))
    assert world.store.seat_slots(type_id, TEN, TEN + 120) == sorted(slots, key=lambda s: s.start_min)
    assert world.store.seat_slots(type_id, TEN + 1, TEN + 60) == [slots[2]]


def test_cancelling_a_seated_booking_frees_its_start_and_keeps_its_seats(world):
    (host,) = world.user_ids(1)
    seated = record(world, [host], TEN, seats=2, event_type_id=host + 10**6)
    slot = SeatSlot(seated.event_type_id, TEN, seated.uid, 1, 2)
    ann = seat(seated, "ann@example.org")
    world.store.write(BookingWrite(creates=[new(seated)], seat_opens=[SeatOpen(slot, ann)], now=NOW))
    cancel = release(seated)
    cancel.seat_slot = slot
    world.store.write(BookingWrite(releases=[cancel], now=NOW))
    assert world.store.seat_slots(seated.event_type_id, TEN, TEN) == []
    assert world.store.seats(seated.uid) == [ann] and world.store.holds_seat(seated.uid, "ann@example.org")
    assert free(world, [host], TEN)


# -- payments --------------------------------------------------------------------------------------------------------
def test_a_payment_is_created_once_and_settled_from_its_expected_status_only(world):
    (host,) = world.user_ids(1)
    booking = book(world, record(world, [host], TEN, status="pending"))
    payment = Payment(payment_uid=uid(), booking_uids=[booking.uid], provider="test", external_id="pi_1",
                      client_secret="secret", amount=2500, currency="EUR", created_at=NOW, updated_at=NOW)
    world.store.write(BookingWrite(payments=[payment], now=NOW))
    assert dump(world.store.get_payment(payment.payment_uid)) == dump(payment)
    refused(world, BookingWrite(payments=[payment.model_copy(update={"amount": 1})], now=NOW), PaymentAlreadySettled)
    settled = payment.model_copy(update={"status": "succeeded", "updated_at": NOW + timedelta(minutes=3)})
    paid = StatusChange(changed(booking, status="accepted", paid=True), 1, [host], TEN)
    world.store.write(BookingWrite(payments=[settled], payment_expected_status="pending", changes=[paid], now=NOW))
    assert world.store.get_payment(payment.payment_uid).status == "succeeded"
    again = StatusChange(changed(booking, status="accepted", paid=True), 2, [host], TEN)
    refused(world, BookingWrite(payments=[settled], payment_expected_status="pending", changes=[again], now=NOW),
            PaymentAlreadySettled)
    assert world.store.get_booking(booking.uid).version == 2  # the change in the refused write was not made
    refused(world, BookingWrite(payments=[Payment(**{**payment.model_dump(), "payment_uid": uid()})],
                                payment_expected_status="pending", now=NOW), PaymentAlreadySettled)  # no such payment


# -- slot reservations -----------------------------------------------------------------------------------------------
def test_a_reservation_holds_its_slot_until_it_expires(world):
    first, second = world.user_ids(2)
    hold = reservation([first, second], TEN)
    world.store.write(BookingWrite(reservations=[ReservationWrite(hold)], now=NOW))
    stored = world.store.get_reservation(hold.uid)
    assert stored.version == 1 and dump(stored) == dump(hold)
    assert dump(world.store.fetch_request_data(RequestKeys(1, reservation_uid=hold.uid)).reservation) == dump(hold)
    held = HostBooking(hold.uid, 1, TEN, TEN + 30, TEN, TEN + 30, "reserved", hold.until_s)
    assert world.store.host_bookings(first, TEN - 60, TEN + 60) == [held]
    assert refused(world, BookingWrite(creates=[new(record(world, [second], TEN))], now=NOW),
                   SlotTaken).host_ids == {second}
    assert refused(world, BookingWrite(reservations=[ReservationWrite(reservation([first], TEN + 15))], now=NOW),
                   SlotTaken).host_ids == {first}
    refused(world, BookingWrite(reservations=[ReservationWrite(hold)], now=NOW), StaleReservation)  # new only once
    just_before = hold.reservation_until - timedelta(seconds=1)
    assert not free(world, [first], TEN, now=just_before)
    assert free(world, [first], TEN, now=hold.reservation_until)  # expired: its locks count for nothing
    # what nothing swept stays readable (the caller compares the expiry with its clock)
    assert world.store.host_bookings(second, TEN, TEN + 30) == [held]


def test_the_booking_of_a_reservation_takes_its_locks_over_and_consumes_it(world):
    first, second = world.user_ids(2)
    hold = reservation([first, second], TEN)
    world.store.write(BookingWrite(reservations=[ReservationWrite(hold)], now=NOW))
    booking = record(world, [first, second], TEN)
    world.store.write(BookingWrite(creates=[new(booking, reservation_uid=hold.uid)],
                                   released_reservations=[ReservationRelease(hold, 1)], now=NOW))
    assert world.store.get_reservation(hold.uid) is None
    for host in (first, second):
        assert world.store.host_bookings(host, TEN - 60, TEN + 60) == [interval(booking)]
    assert not free(world, [first], TEN, now=hold.reservation_until + timedelta(hours=1))  # a booking's, for good
    refused(world, BookingWrite(released_reservations=[ReservationRelease(hold, 1)], now=NOW), StaleReservation)


def test_a_reservation_s_uid_does_not_take_someone_else_s_locks(world):
    (host,) = world.user_ids(1)
    mine, theirs = reservation([host], TEN + 120), reservation([host], TEN)
    world.store.write(BookingWrite(reservations=[ReservationWrite(mine), ReservationWrite(theirs)], now=NOW))
    taken = refused(world, BookingWrite(creates=[new(record(world, [host], TEN), reservation_uid=mine.uid)],
                                        released_reservations=[ReservationRelease(mine, 1)], now=NOW), SlotTaken)
    assert taken.host_ids == {host} and world.store.get_reservation(mine.uid).version == 1


def test_moving_a_reservation_frees_the_old_slot_and_holds_the_new(world):
    (host,) = world.user_ids(1)
    hold = reservation([host], TEN)
    world.store.write(BookingWrite(reservations=[ReservationWrite(hold)], now=NOW))
    moved = reservation([host], TEN + 15, until=NOW + timedelta(minutes=10))  # overlaps its old slot at 10:15
    moved.uid = hold.uid
    world.store.write(BookingWrite(reservations=[ReservationWrite(moved, expected_version=1)],
                                   released_reservations=[ReservationRelease(hold, 1, keep_item=True)], now=NOW))
    stored = world.store.get_reservation(hold.uid)
    assert stored.version == 2 and stored.slot_start == from_minutes(TEN + 15)
    assert [b.start_min for b in world.store.host_bookings(host, TEN - 60, TEN + 120)] == [TEN + 15]
    assert free(world, [host], TEN, length=15)
    assert not free(world, [host], TEN + 15, length=15) and not free(world, [host], TEN + 30, length=15)
    refused(world, BookingWrite(reservations=[ReservationWrite(moved, expected_version=1)],
                                released_reservations=[ReservationRelease(hold, 1, keep_item=True)], now=NOW),
            StaleReservation)  # moved meanwhile
    world.store.write(BookingWrite(released_reservations=[ReservationRelease(stored, 2)], now=NOW))  # cancelled
    assert world.store.get_reservation(hold.uid) is None and free(world, [host], TEN + 15)


def test_a_reservation_whose_locks_were_taken_after_it_expired_is_stale(world):
    (host,) = world.user_ids(1)
    hold = reservation([host], TEN)
    world.store.write(BookingWrite(reservations=[ReservationWrite(hold)], now=NOW))
    later = hold.reservation_until + timedelta(minutes=1)
    book_later = record(world, [host], TEN)
    world.store.write(BookingWrite(creates=[new(book_later)], now=later))
    refused(world, BookingWrite(released_reservations=[ReservationRelease(hold, 1)], now=later), StaleReservation)
    refused(world, BookingWrite(creates=[new(record(world, [host], TEN + 60), reservation_uid=hold.uid)],
                                released_reservations=[ReservationRelease(hold, 1)], now=later), StaleReservation)
    assert world.store.get_reservation(hold.uid).version == 1  # stored until the table's TTL removes it


# -- when several conditions refuse one write --------------------------------------------------------------------------
def test_one_failure_is_reported_by_the_same_precedence(world):
    first, second = world.user_ids(2)
    guard = f"DUP#{uid()}"
    original = book(world, record(world, [first], TEN, duplicate_key=guard))
    book(world, record(world, [second], TEN + 60))
    counter = f"{uid()}#day#2035-01-08"
    world.store.write(BookingWrite(limits=[LimitDelta(counter, 1, 30, max_count=1)], now=NOW))
    full = LimitDelta(counter, 1, 30, max_count=1)
    window = RateWindow("ip", uid(), 1, int(NOW.timestamp()), int(NOW.timestamp()) + 60)
    world.store.write(BookingWrite(rate_windows=[window], now=NOW))

    # a taken lock outranks a stale release
    stale_move = BookingWrite(releases=[release(original, version=7)],
                              creates=[new(record(world, [second], TEN + 60))], now=NOW)
    assert refused(world, stale_move, SlotTaken).host_ids == {second}
    # a duplicate outranks a full limit, which outranks a full rate window, which outranks a stale version
    duplicate = record(world, [second], TEN + 240, duplicate_key=guard)
    refused(world, BookingWrite(creates=[new(duplicate)], limits=[full], rate_windows=[window], now=NOW),
            DuplicateBooking)
    assert refused(world, BookingWrite(limits=[full], rate_windows=[window], now=NOW), LimitReached).key == counter
    assert refused(world, BookingWrite(rate_windows=[window], releases=[release(original, version=7)], now=NOW),
                   RateLimited).window == window
    # a stale reservation outranks a duplicate
    gone = reservation([second], TEN + 480)
    refused(world, BookingWrite(creates=[new(duplicate)], released_reservations=[ReservationRelease(gone, 1)],
                                now=NOW), StaleReservation)
    assert world.store.get_booking(duplicate.uid) is None and world.store.get_booking(original.uid).version == 1


# -- the size of one transaction --------------------------------------------------------------------------------------
def test_a_write_beyond_one_transaction_is_refused_before_anything_is_checked(world):
    (host,) = world.user_ids(1)
    # one item for the record, one for the host's interval and one per lock: 98 locks fill the 100 a transaction holds
    fits = record(world, [host], TEN, length=98 * BUCKET)
    book(world, fits)
    too_long = record(world, [host], TEN + 2 * 1440, length=99 * BUCKET)
    refused(world, BookingWrite(creates=[new(too_long)], now=NOW), TransactionTooLarge)
    assert world.store.get_booking(too_long.uid) is None and free(world, [host], TEN + 2 * 1440)
    taken = record(world, [host], TEN, length=99 * BUCKET)  # its locks are taken too, but the size is what counts
    refused(world, BookingWrite(creates=[new(taken)], now=NOW), TransactionTooLarge)
    event = OutboxEvent(event_id=f"evt-{uid()}", detail_type="bookingCreated", detail_json="{}", created_at=iso_z(NOW))
    full = record(world, [host], TEN + 4 * 1440, length=98 * BUCKET)
    refused(world, BookingWrite(creates=[new(full)], events=[event], now=NOW), TransactionTooLarge)  # events count
    assert world.store.get_booking(full.uid) is None


def test_a_lock_handed_over_in_a_reschedule_is_one_item(world):
    (host,) = world.user_ids(1)
    original = book(world, record(world, [host], TEN, length=49 * BUCKET))
    moved = record(world, [host], TEN + BUCKET, length=49 * BUCKET)
    # records 2, intervals 2, locks 50 (48 handed over): 54 items; counted twice the locks would not fit
    world.store.write(BookingWrite(releases=[release(original)], creates=[new(moved)], now=NOW))
    assert world.store.get_booking(moved.uid).version == 1
