"""Management use cases (docs/api.md "Management API"): users, schedules, event types."""

from __future__ import annotations

from typing import Any

from booking_core.config import LOCK_BUCKET_MINUTES, MAX_TRANSACTION_ITEMS
from booking_core.domain.event_types import EventType, EventTypeInput, EventTypePatch
from booking_core.domain.users import Schedule, ScheduleInput, SchedulePatch, User, UserInput, UserPatch
from booking_core.domain.common import merged
from booking_core.errors import DomainError, invalid, not_found
from booking_core.repositories.entities import (
    ConcurrentUpdate,
    EventTypeRepository,
    ScheduleRepository,
    UserRepository,
)
from booking_core.services.retry import until_written


def transaction_items_needed(event_type: EventTypeInput) -> int:
    """Items a booking of this type writes in its create transaction: every occurrence of a series, with the
    longest length option and the worst rounding. (A reschedule that does not overlap itself needs about twice a
    single booking's items; one that would not fit in a transaction is refused with a clear message.)"""
    longest = max(event_type.lengths) + event_type.before_event_buffer + event_type.after_event_buffer
    buckets = -(-longest // LOCK_BUCKET_MINUTES) + 1
    fixed = [h for h in event_type.host_ids if event_type.is_fixed(h)]
    pool = [h for h in event_type.host_ids if not event_type.is_fixed(h)]
    booked_hosts = len(fixed) + (1 if pool else 0)
    # per booking: the booking, duplicate guard, booker index, outbox event, per host its interval and locks, a
    # listing entry per host after the first (the organizer is listed by the booking item itself), and the hold of a
    # slot reservation the booking consumes (one per host)
    per_booking = 4 + booked_hosts * (2 + buckets) + (booked_hosts - 1)
    occurrences = event_type.recurrence.occurrences if event_type.recurrence else 1
    seats = 3 if event_type.seats else 0  # seat slot, seat, seat guard
    limits = 4 * occurrences  # day / week / month / year counters
    shared = 3 + limits + seats  # round-robin counter(s), payment, the consumed reservation
    return per_booking * occurrences + shared


class Management:
    def __init__(self) -> None:
        self.users = UserRepository()
        self.schedules = ScheduleRepository()
        self.event_types = EventTypeRepository()

    # users -------------------------------------------------------------------------------------------------
    def create_user(self, data: UserInput) -> dict[str, Any]:
        user = self.users.create(data)
        self._email_changed(user.id, None, user.email)
        return user.dump()

    @staticmethod
    def _email_changed(user_id: int, old: str | None, new: str) -> None:
        from booking_core.services.access import Access  # the blocklist decides whether a host is bookable

        Access().user_email_changed(user_id, old, new)

    def get_user(self, user_id: int) -> dict[str, Any]:
        return self._user(user_id)[0].dump()

    def patch_user(self, user_id: int, patch: UserPatch) -> dict[str, Any]:
        def write() -> tuple[User, User]:
            user, version = self._user(user_id)
            updated = merged(User, user, patch)
            self.users.save(updated, version)
            return user, updated

        user, updated = until_written(write, "the user", ConcurrentUpdate)
        if updated.email != user.email:
            self._email_changed(user_id, user.email, updated.email)
        return updated.dump()

    def _user(self, user_id: int) -> tuple[User, int]:
        found = self.users.get(user_id)
        if found is None:
            raise not_found("not_found_error", f"user {user_id}")
        return found

    # schedules ---------------------------------------------------------------------------------------------
    def create_schedule(self, data: ScheduleInput) -> dict[str, Any]:
        found = self.users.get(data.user_id)
        if found is None:
            raise invalid("userId", f"user {data.user_id} does not exist")
        user, version = found
        return self.schedules.create(data, user, version).dump()

    def get_schedule(self, schedule_id: int) -> dict[str, Any]:
        schedule, _ = self._schedule(schedule_id)
        user, _ = self._user(schedule.user_id)
        schedule.is_default = user.default_schedule_id == schedule.id
        return schedule.dump()

    def patch_schedule(self, schedule_id: int, patch: SchedulePatch) -> dict[str, Any]:
        def write() -> Schedule:
            schedule, version = self._schedule(schedule_id)
            changes = patch.model_dump(exclude_unset=True)
            updated = merged(Schedule, schedule, patch)
            user, user_version = self._user(schedule.user_id)
            make_default = user if changes.get("is_default") and user.default_schedule_id != schedule.id else None
            self.schedules.save(updated, version, make_default, user_version)
            updated.is_default = (make_default is not None) or user.default_schedule_id == schedule.id
            return updated

        return until_written(write, "the schedule", ConcurrentUpdate).dump()

    def _schedule(self, schedule_id: int) -> tuple[Schedule, int]:
        found = self.schedules.get(schedule_id)
        if found is None:
            raise not_found("not_found_error", f"schedule {schedule_id}")
        return found

    # event types -------------------------------------------------------------------------------------------
    def create_event_type(self, data: EventTypeInput) -> dict[str, Any]:
        self._check_event_type(data)
        return self.event_types.create(data).dump()

    def get_event_type(self, event_type_id: int) -> dict[str, Any]:
        return self._event_type(event_type_id)[0].dump()

    def patch_event_type(self, event_type_id: int, patch: EventTypePatch) -> dict[str, Any]:
        def write() -> EventType:
            current, version = self._event_type(event_type_id)
            updated = merged(EventType, current, patch)
            self._check_event_type(updated)
            self.event_types.save(updated, version)
            return updated

        return until_written(write, "the event type", ConcurrentUpdate).dump()

    def delete_event_type(self, event_type_id: int) -> None:
        if not self.event_types.delete(event_type_id):
            raise not_found("event_type_not_found", f"event type {event_type_id}")

    def _event_type(self, event_type_id: int) -> tuple[EventType, int]:
        found = self.event_types.get(event_type_id)
        if found is None:
            raise not_found("event_type_not_found", f"event type {event_type_id}")
        return found

    def _check_event_type(self, data: EventTypeInput) -> None:
        if data.seats is not None and data.recurrence is not None:
            raise DomainError("recurring_event_seats_error", "seated event types cannot be recurring")
        missing = set(data.host_ids) - self.users.exists_all(data.host_ids) if data.host_ids else set()
        if missing:
            field = "ownerId" if data.owner_id is not None else "hosts"
            raise invalid(field, f"no such user: {', '.join(str(m) for m in sorted(missing))}")
        if data.schedule_id is not None and self.schedules.get(data.schedule_id) is None:
            raise invalid("scheduleId", f"schedule {data.schedule_id} does not exist")
        needed = transaction_items_needed(data)
        if needed > MAX_TRANSACTION_ITEMS:
            raise invalid(
                "lengthInMinutes",
                f"a booking of this type would hold {needed} slot locks and records, more than the "
                f"{MAX_TRANSACTION_ITEMS} one transaction allows: shorten it, its buffers, or its fixed hosts",
            )

