"""A booking cancelled while its calendar event or meeting is being made: the cancel's removal runs first, finds
nothing on the booking to remove and is done, so the sync that made the event must remove it when it comes to
record it (services/calendars.py and services/meetings.py `_remember`), or the event stays in the organizer's
calendar, or the meeting in Zoom, for a booking that no longer exists."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from booking_core.calendars.base import EventRef
from booking_core.conferencing.base import Meeting
from booking_core.domain.calendars import CalendarConnection
from booking_core.ports import StoredConnection
from booking_core.services import calendars, meetings
from booking_core.services.calendars import CalendarSync
from booking_core.services.meetings import MeetingSync
from tests.unit.fakes import OneBookingStore
from tests.unit.test_meeting_apps import record


class Store(OneBookingStore):
    """One booking; `cancel()` is what the booker's cancel transaction does to it."""

    def cancel(self) -> None:
        self.booking = self.booking.model_copy(update={"status": "cancelled", "version": self.booking.version + 1})


class Provider:
    """A calendar provider or meeting app whose create answers after the booking was cancelled (when told to)."""

    def __init__(self, store: Store, cancel_during_create: bool) -> None:
        self.store, self.cancel_during_create = store, cancel_during_create
        self.deleted: list[str] = []

    def _made(self) -> None:
        if self.cancel_during_create:
            self.store.cancel()

    def create_event(self, creds, calendar_id, booking, uid, sequence, online_meeting=False) -> EventRef:
        self._made()
        return EventRef("evt-1", uid)

    def delete_event(self, creds, calendar_id, ref: EventRef) -> None:
        self.deleted.append(ref.external_id)

    def create_meeting(self, creds, booking, uid, sequence, calendar_id=None) -> Meeting:
        self._made()
        return Meeting("851", "https://zoom.example/j/851", None)

    def delete_meeting(self, creds, meeting: Meeting, calendar_id=None) -> None:
        self.deleted.append(meeting.external_id)


CONNECTION = StoredConnection(
    CalendarConnection(id=4, user_id=11, type="google", calendars=[], selected_calendars=[],
                       destination_calendar="primary", created_at=datetime(2026, 1, 1, tzinfo=timezone.utc)),
    encrypted_credentials="sealed")


def calendar_sync(store: Store, monkeypatch, cancel_during_create: bool) -> Provider:
    provider = Provider(store, cancel_during_create)
    monkeypatch.setattr(calendars, "provider_for", lambda kind: provider)
    sync = CalendarSync.__new__(CalendarSync)  # no repositories: the organizer's connection is given below
    sync.store = store
    sync._destination = lambda organizer_id: CONNECTION
    sync._credentials = lambda stored: None
    sync.connections = SimpleNamespace(get=lambda user_id, connection_id: CONNECTION)
    sync.created(store.booking.uid)
    return provider


def meeting_sync(store: Store, monkeypatch, cancel_during_create: bool) -> Provider:
    provider = Provider(store, cancel_during_create)
    monkeypatch.setattr(meetings, "meeting_app", lambda app: provider)
    sync = MeetingSync.__new__(MeetingSync)
    sync.store = store
    sync._connection = lambda user_id, kind, connection_id=None: meetings._Connection(7, kind, None)
    sync._follow_up = lambda updated, cause: SimpleNamespace()
    sync.created(store.booking.uid, cause=None)
    return provider


@pytest.mark.parametrize("sync", [calendar_sync, meeting_sync])
def test_an_event_made_for_a_booking_cancelled_meanwhile_is_removed_not_recorded(sync, monkeypatch):
    store = Store(record(meetingApp="zoom", location="integrations:zoom", meetingUrl=None))
    provider = sync(store, monkeypatch, cancel_during_create=True)
    assert provider.deleted == (["evt-1"] if sync is calendar_sync else ["851"])
    assert store.writes == [] and store.booking.status == "cancelled"


@pytest.mark.parametrize("sync", [calendar_sync, meeting_sync])
def test_an_event_made_for_a_live_booking_is_recorded_and_kept(sync, monkeypatch):
    store = Store(record(meetingApp="zoom", location="integrations:zoom", meetingUrl=None))
    provider = sync(store, monkeypatch, cancel_during_create=False)
    assert provider.deleted == [] and len(store.writes) == 1
    booking = store.booking
    if sync is calendar_sync:
        assert booking.calendar_event is not None and booking.calendar_event.external_id == "evt-1"
    else:
        assert booking.online_meeting is not None and booking.meeting_url == "https://zoom.example/j/851"
