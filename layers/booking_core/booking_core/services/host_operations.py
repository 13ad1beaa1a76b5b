"""What a host (the admin key) does with a booking after it exists: record no-shows, hand a round-robin booking to
another host, add guests, change the location. Each is a unit like cancel: it reads what it needs, writes one
transaction that carries the booking's new version (and moves locks and counters where hosts change) with its
outbox event, and answers with the booking. (Asking the booker to pick another time is a cancellation:
services/changes.request_reschedule.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from booking_core.concurrency import gather
from booking_core.conferencing import APPS, app_of_placeholder
from booking_core.domain.access import lookup_keys
from booking_core.domain.availability import merge
from booking_core.domain.bookings import (
    CALENDAR_REFERENCES,
    MAX_GUESTS,
    AddGuestsInput,
    BookingRecord,
    HostRef,
    LocationInput,
    MarkAbsentInput,
    ReassignInput,
    is_active,
)
from booking_core.domain.event_types import EventType
from booking_core.domain.round_robin import build_candidates, period_key, rank
from booking_core.domain.seats import Seat, host_view
from booking_core.errors import DomainError, invalid, not_found
from booking_core.events.contracts import EventContext, NoShowAttendee, NoShowChange, new_event
from booking_core.observability import count, logger, mask_uid
from booking_core.pipeline.availability import (
    assemble_hosts,
    host_availability,
    host_calls,
    with_calendar_busy,
)
from booking_core.pipeline.reads import AROUND
from booking_core.pipeline.creation import resolve_location
from booking_core.ports import (
    BookingStore,
    BookingWrite,
    HostBooking,
    Reassignment,
    RecordUpdate,
    RequestKeys,
    RoundRobinIncrement,
    SlotTaken,
    TransactionTooLarge,
    WriteContention,
)
from booking_core.services.retry import booking_change
from booking_core.timeutil import to_minutes


def _read(store: BookingStore, uid: str, *more: Callable[[], Any]) -> tuple[BookingRecord, list[Seat], list[Any]]:
    record, seats, *rest = gather([lambda: store.get_booking(uid), lambda: store.seats(uid), *more])
    if record is None:
        raise not_found("booking_not_found_error", "booking")
    return record, seats, rest


def _seen(record: BookingRecord, seats: list[Seat]) -> BookingRecord:
    """What the answer and the event show: a seated booking as its host sees it."""
    return host_view(record, seats) if record.is_seated else record


def _commit(store: BookingStore, plan: BookingWrite, what: str) -> None:
    """The operation's transaction. StaleBooking (the booking was written since it was read) goes up to
    `booking_change` (services/retry.py), which reads and decides the operation anew."""
    try:
        store.write(plan)
    except WriteContention as exc:
        raise DomainError("conflict_error", f"the booking changed while it was being {what}; try again") from exc
    count("BookingChanges", action=what)



def _active(record: BookingRecord, what: str) -> None:
    if not is_active(record.status):
        raise DomainError("conflict_error", f"only accepted or pending bookings can be {what} (this one is "
                                            f"{record.status})")


def _revised(record: BookingRecord, now: datetime) -> BookingRecord:
    """A copy to change: a new version of the same booking, its calendar SEQUENCE one higher."""
    updated = record.model_copy(deep=True)
    updated.updated_at = now
    updated.ical_sequence += 1
    return updated


# -- no-shows -------------------------------------------------------------------------------------------------------
@booking_change
def mark_absent(store: BookingStore, uid: str, data: MarkAbsentInput, now: datetime) -> dict[str, Any]:
    """Record who did not come: the host and/or attendees (by email). Only an accepted booking whose start has
    passed; an email that is not an attendee's is a 400. Emits bookingNoShowUpdated when a flag changed."""
    record, seats, _ = _read(store, uid)
    if record.status != "accepted":
        raise DomainError("booking_not_started", f"only accepted bookings take no-shows (this one is {record.status})")
    if record.start > now:
        raise DomainError("booking_not_started", "this booking has not started yet")
    people = [seat.attendee for seat in seats] if record.is_seated else record.attendees
    by_email = {person.email.lower(): index for index, person in enumerate(people)}
    problems = [{"field": f"attendees.{i}.email", "message": "not an attendee of this booking"}
                for i, named in enumerate(data.attendees) if named.email.lower() not in by_email]
    if problems:
        raise DomainError("request_body_invalid_error", problems[0]["message"], {"errors": problems})
    updated = record.model_copy(deep=True)
    changed_seats: dict[str, Seat] = {}
    changed = data.host is not None and data.host != record.absent_host
    if data.host is not None:
        updated.absent_host = data.host
    for named in data.attendees:
        index = by_email[named.email.lower()]
        if record.is_seated:
            seat = changed_seats.get(seats[index].seat_uid, seats[index])
            if seat.attendee.absent != named.absent:
                attendee = seat.attendee.model_copy(update={"absent": named.absent})
                changed_seats[seat.seat_uid] = Seat(seat.seat_uid, seat.booking_uid, attendee, seat.created_at,
                                                    seat.guests, seat.metadata, seat.booking_fields_responses)
                changed = True
        elif updated.attendees[index].absent != named.absent:
            updated.attendees[index].absent = named.absent
            changed = True
    seats_now = [changed_seats.get(seat.seat_uid, seat) for seat in seats]
    if not changed:
        return _seen(record, seats).public()  # nothing new: no write, no event
    updated.updated_at = now
    seen = _seen(updated, seats_now)
    no_show = NoShowChange(host=data.host, attendees=[NoShowAttendee(email=a.email, no_show=a.absent)
                                                      for a in data.attendees])
    _commit(store, BookingWrite(
        updates=[RecordUpdate(updated, record.version)], seat_updates=list(changed_seats.values()),
        events=[new_event("bookingNoShowUpdated", seen, occurred_at=now,
                          context=EventContext(triggered_by="host", no_show=no_show))]), "marked absent")
    return seen.public()


# -- guests and location --------------------------------------------------------------------------------------------
@booking_change
def add_guests(store: BookingStore, uid: str, data: AddGuestsInput, now: datetime) -> dict[str, Any]:
    """Add guests (at most MAX_GUESTS on the booking in all). Hosts, the attendee, guests already on it and blocked
    addresses are left out, as at booking time; the host may add guests to a type that disables them for bookers.
    Emits bookingUpdated (the new guests get the invitation, everyone an updated .ics)."""
    keys = list(dict.fromkeys(key for guest in data.guests for key in lookup_keys(guest.email)))
    record, seats, (blocklist,) = _read(store, uid, lambda: store.blocklist_entries(keys))
    if record.is_seated:
        raise DomainError("request_body_invalid_error", "guests of a seated booking belong to a seat: the attendee "
                          "brings them when booking", {"errors": [{"field": "uid", "message": "a seated booking"}]})
    _active(record, "given guests")
    blocked = {(entry.type, entry.value) for entry in blocklist if entry.action == "block"}
    taken = {email.lower() for email in [*record.guests, *(h.email for h in record.hosts),
                                         *(a.email for a in record.attendees)]}
    added: list[str] = []
    for guest in data.guests:
        if guest.email.lower() in taken or any(key in blocked for key in lookup_keys(guest.email)):
            continue
        taken.add(guest.email.lower())
        added.append(guest.email)
    if len(record.guests) + len(added) > MAX_GUESTS:
        raise invalid("guests", f"a booking has at most {MAX_GUESTS} guests ({len(record.guests)} already)")
    if not added:
        return record.public()
    updated = _revised(record, now)
    updated.guests = [*record.guests, *added]
    _commit(store, BookingWrite(updates=[RecordUpdate(updated, record.version)], events=[
        new_event("bookingUpdated", updated, occurred_at=now, previous=record,
                  context=EventContext(triggered_by="host"))]), "given guests")
    logger.info("guests added", extra={"booking_uid": mask_uid(uid), "count": len(added)})
    return updated.public()


@booking_change
def change_location(store: BookingStore, uid: str, data: LocationInput, now: datetime) -> dict[str, Any]:
    """A new location, as the booking body's `location`: free text (an address, a link, a phone number), or a
    meeting app's placeholder the type offers (the app-sync step then makes the organizer's meeting; a meeting made
    for the old location is deleted). Emits bookingUpdated."""
    record, seats, _ = _read(store, uid)
    _active(record, "moved elsewhere")
    if data.location == record.location:
        return _seen(record, seats).public()
    app = None
    spec = app_of_placeholder(data.location)
    if spec is not None:  # a meeting app: only one the type offers (read now: the type may have changed)
        event_type = store.fetch_request_data(RequestKeys(record.event_type_id)).event_type
        app = resolve_location(event_type, data.location)[2] if event_type else None
        if app is None:
            raise invalid("location", f"this event type does not offer {spec.label}")
    location, meeting_url = data.location, None
    updated = _revised(record, now)
    updated.location, updated.meeting_url, updated.meeting_app = location, meeting_url, app
    updated.references = [r for r in record.references or [] if r.type in CALENDAR_REFERENCES] or None
    seen, before = _seen(updated, seats), _seen(record, seats)
    _commit(store, BookingWrite(updates=[RecordUpdate(updated, record.version)], events=[
        new_event("bookingUpdated", seen, occurred_at=now, previous=before,
                  context=EventContext(triggered_by="host"))]), "moved elsewhere")
    return seen.public()


# -- reassign -------------------------------------------------------------------------------------------------------
def _round_robin_host(record: BookingRecord, event_type: EventType) -> int | None:
    if record.round_robin_key:
        return record.round_robin_key[2]
    pool = [host.id for host in record.hosts if not event_type.is_fixed(host.id)]
    return pool[0] if pool else None


def _free_hosts(store: BookingStore, record: BookingRecord, event_type: EventType, candidates: list[int],
                period: str, now: datetime) -> tuple[list[int], dict[int, Any], dict[int, int]]:
    """The candidates free for the booking's whole held time (their working hours contain it, nothing they hold,
    their live slot reservations, their calendars or their out-of-office entries overlap it, not locked or blocked):
    one concurrent round, then their calendars."""
    from_min, to_min = record.busy_start_min - AROUND, record.busy_end_min + AROUND
    calls = host_calls(store, candidates, from_min, to_min)
    calls.append(lambda: store.round_robin_counts(event_type.id, period, candidates))
    results = gather(calls)
    hosts = with_calendar_busy(assemble_hosts(candidates, results[:-1], int(now.timestamp())), from_min, to_min)
    start, end = to_minutes(record.start), to_minutes(record.end)
    free = []
    for host_id, host in hosts.items():
        if host.config.user.locked or host.config.blocked:
            continue
        availability = host_availability(host, event_type, from_min, to_min)
        works = any(window_start <= start and end <= window_end for window_start, window_end in
                    merge(availability.windows))
        if works and availability.is_free(record.busy_start_min, record.busy_end_min):
            free.append(host_id)
    return free, hosts, results[-1]


@booking_change
def reassign(store: BookingStore, uid: str, data: ReassignInput, now: datetime) -> dict[str, Any]:
    """Hand a round-robin booking to another host of its type at the same time: `userId` (who must be a
    round-robin host of the type, other than the current one, and free then), else the best free host by the
    round-robin ranking. One transaction moves the host's interval and slot locks and the fairness counters; emits
    bookingReassigned (previousBooking = before)."""
    record, seats, _ = _read(store, uid)
    _active(record, "reassigned")
    if record.start <= now:
        raise DomainError("booking_in_past", "a booking that has started cannot be reassigned")
    event_type = store.fetch_request_data(RequestKeys(record.event_type_id)).event_type
    if event_type is None:
        raise not_found("event_type_not_found", f"event type {record.event_type_id}")
    current = _round_robin_host(record, event_type)
    if event_type.scheduling_type != "roundRobin" or current is None:
        raise DomainError("request_body_invalid_error", "only a round-robin booking can be reassigned",
                          {"errors": [{"field": "uid", "message": "not a round-robin booking"}]})
    pool = [h for h in event_type.host_ids if not event_type.is_fixed(h) and h != current]
    if data.user_id is not None and data.user_id not in pool:
        raise DomainError("round_robin_host_unavailable_for_booking",
                          f"user {data.user_id} is not another round-robin host of this event type")
    period = record.round_robin_key[1] if record.round_robin_key else period_key(record.start)
    free, hosts, counts = _free_hosts(store, record, event_type, [data.user_id] if data.user_id else pool, period,
                                      now)
    if data.user_id is not None:
        order = free
    else:
        settings = {h.user_id: h for h in event_type.hosts}
        order = rank(build_candidates(free, weights={h: settings[h].weight for h in free},
                                      priorities={h: settings[h].priority for h in free}, counts=counts,
                                      last_active={h: hosts[h].config.user.last_active_at for h in free}))
    for host_id in order:
        user = hosts[host_id].config.user
        updated, plan = _reassignment(record, seats, event_type, current, HostRef(
            id=user.id, name=user.name, email=user.email, time_zone=user.time_zone, locale=user.locale), period,
            data.reason, now)
        try:
            _commit(store, plan, "reassigned")
        except SlotTaken:
            continue  # booked meanwhile: the next host in the ranking (a chosen host: none left)
        except TransactionTooLarge as exc:
            raise DomainError("request_body_invalid_error", "this booking is too long to move in one step: cancel "
                              "it and book again", {"errors": [{"field": "uid", "message": str(exc)}]}) from exc
        logger.info("booking reassigned", extra={"booking_uid": mask_uid(uid), "from": current, "to": host_id})
        return _seen(updated, seats).public()
    raise DomainError("round_robin_host_unavailable_for_booking", "no other round-robin host is free at that time"
                      if data.user_id is None else f"user {data.user_id} is not free at that time")


def _reassignment(record: BookingRecord, seats: list[Seat], event_type: EventType, current: int, new: HostRef,
                  period: str, reason: str | None, now: datetime) -> tuple[BookingRecord, BookingWrite]:
    updated = _revised(record, now)
    updated.hosts = [new if host.id == current else host for host in record.hosts]
    updated.lock_keys = [(new.id if host == current else host, bucket) for host, bucket in record.lock_keys]
    updated.round_robin_key = (event_type.id, period, new.id)
    if updated.organizer.id != record.organizer.id:
        attendee = record.attendees[0].name if record.attendees else ""
        updated.title = f"{event_type.title} between {new.name} and {attendee}"
        spec = APPS.get(record.meeting_app or "")
        if spec is not None:  # the new organizer's own meeting is made after the commit (app sync)
            updated.location, updated.meeting_url = spec.placeholder, None
            updated.references = [r for r in record.references or [] if r.type in CALENDAR_REFERENCES] or None
    start_min = to_minutes(record.start)
    held = HostBooking(uid=record.uid, event_type_id=record.event_type_id, start_min=start_min,
                       end_min=to_minutes(record.end), busy_start_min=record.busy_start_min,
                       busy_end_min=record.busy_end_min, status=record.status)
    move = Reassignment(
        record=updated, expected_version=record.version, start_min=start_min,
        previous_host_ids=[host.id for host in record.hosts],
        released_locks=[tuple(key) for key in record.lock_keys if key[0] == current],  # type: ignore[misc]
        joining=[(new.id, held)],
        taken_locks=[(new.id, bucket) for host, bucket in record.lock_keys if host == current])
    turns = [RoundRobinIncrement(*record.round_robin_key, delta=-1)] if record.round_robin_key else []
    turns.append(RoundRobinIncrement(event_type.id, period, new.id))
    plan = BookingWrite(reassignments=[move], round_robin=turns, events=[
        new_event("bookingReassigned", _seen(updated, seats), occurred_at=now, previous=_seen(record, seats),
                  context=EventContext(triggered_by="host", reassign_reason=reason))], now=now)
    return updated, plan


__all__ = ["add_guests", "change_location", "mark_absent", "reassign"]
