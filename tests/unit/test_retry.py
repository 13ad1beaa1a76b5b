"""Read, copy, write, retry (services/retry.py): a refused write is made again from a fresh read, other failures are
not retried, and running out of attempts raises (409 conflict_error) in every service that keeps a booking's
references, meeting or assignment reason, instead of giving up silently with the message acknowledged."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from booking_core.domain.calendars import OnlineMeeting
from booking_core.errors import DomainError
from booking_core.ports import BookingWrite, StaleBooking
from booking_core.services.calendars import CalendarSync
from booking_core.services.meetings import MeetingSync
from booking_core.services.retry import ATTEMPTS, OutOfAttempts, until_written
from booking_core.services.routing import record_assignment
from tests.unit.fakes import OneBookingStore
from tests.unit.test_meeting_apps import record


class Refused(Exception):
    pass


def test_a_refused_step_runs_again_and_its_result_is_returned():
    reads = []

    def step() -> int:
        reads.append(len(reads))
        if len(reads) < ATTEMPTS:
            raise Refused()
        return 42

    assert until_written(step, "the thing", Refused) == 42
    assert len(reads) == ATTEMPTS


def test_out_of_attempts_is_a_409_conflict_error_caused_by_the_last_refusal():
    refusals = []

    def step() -> None:
        refusals.append(Refused(len(refusals)))
        raise refusals[-1]

    with pytest.raises(OutOfAttempts) as raised:
        until_written(step, "the thing", Refused)
    assert len(refusals) == ATTEMPTS
    error = raised.value
    assert isinstance(error, DomainError) and (error.status, error.code) == (409, "conflict_error")
    assert error.message == "the thing changed concurrently; try again" and error.__cause__ is refusals[-1]


def test_any_other_failure_is_not_retried():
    calls = []

    def step() -> None:
        calls.append(1)
        raise ValueError("not a refusal")

    with pytest.raises(ValueError):
        until_written(step, "the thing", Refused)
    assert calls == [1]


class ContendedStore(OneBookingStore):
    """One booking that another writer changes before every write of ours: each write is refused as stale."""

    def write(self, plan: BookingWrite) -> None:
        self.writes.append(plan)
        self.booking = self.booking.model_copy(update={"version": self.booking.version + 1})
        raise StaleBooking(self.booking.uid)


MEETING = OnlineMeeting(app="zoom", connection_id=7, external_id="851", join_url="https://zoom.example/j/851")


def forget_meeting(store: ContendedStore) -> None:
    sync = MeetingSync.__new__(MeetingSync)  # no repositories: _forget only reads and writes the booking
    sync.store = store
    sync._forget(store.booking.uid, MEETING)


def forget_calendar_event(store: ContendedStore) -> None:
    sync = CalendarSync.__new__(CalendarSync)
    sync.store = store
    sync._remember(store.booking.uid, None)


def record_reason(store: ContendedStore) -> None:
    response = SimpleNamespace(form_id="form", response={})
    responses = SimpleNamespace(get=lambda response_id: response)
    record_assignment(store, responses, store.booking.uid, 5)


@pytest.mark.parametrize("change", [forget_meeting, forget_calendar_event, record_reason])
def test_a_subscriber_change_that_never_gets_its_turn_raises_so_its_message_fails(change):
    store = ContendedStore(record(onlineMeeting=MEETING.model_dump(by_alias=True), meetingUrl=MEETING.join_url,
                                  roundRobinKey=[3, "2026-12", 11]))  # 11: the host, Alice
    with pytest.raises(OutOfAttempts):
        change(store)
    assert len(store.writes) == ATTEMPTS
    versions = [plan.changes[0].expected_version for plan in store.writes]
    assert versions == sorted(set(versions))  # each attempt wrote on a fresh read
