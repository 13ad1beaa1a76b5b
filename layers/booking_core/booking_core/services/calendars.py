"""Calendar connections (management) and calendar sync (the calendar_sync subscriber's calendar half; the meeting
half is services/meetings.py)."""

from __future__ import annotations

import http.client
from datetime import datetime
from typing import Any

from booking_core.calendars.base import CalendarAuthError, CalendarError, CalendarInfo, Credentials, EventRef
from booking_core.crypto import CALENDAR_CREDENTIALS, seal, unseal
from booking_core.calendars.providers import provider_for
from booking_core.domain.bookings import (
    CALENDAR_REFERENCE_TYPE,
    CALENDAR_REFERENCES,
    BookingRecord,
    Reference,
    is_active,
)
from booking_core.domain.calendars import (
    MAX_CALENDAR_ID,
    MAX_CALENDAR_NAME,
    MAX_CALENDARS,
    CalDAVConnect,
    CalendarConnection,
    CalendarEntry,
    CalendarEvent,
    ConnectionPatch,
    GoogleConnect,
    Office365Connect,
)
from booking_core.errors import invalid, not_found
from booking_core.ics import calendar_uid
from booking_core.observability import logger
from booking_core.ports import BookingStore, BookingWrite, StaleBooking, StatusChange, StoredConnection
from booking_core.repositories.counters import next_id
from booking_core.repositories.entities import CalendarConnectionRepository, UserRepository
from booking_core.repositories.keys import booker_key_of
from booking_core.services.retry import until_written


def _kept(calendars: list[CalendarInfo]) -> list[CalendarEntry]:
    """What a connection keeps of the calendars a provider listed (the bounds in domain/calendars.py)."""
    usable = [c for c in calendars if 0 < len(c.external_id) <= MAX_CALENDAR_ID]
    if len(usable) > MAX_CALENDARS:
        primary = [c for c in usable if c.primary][:1]
        usable = primary + [c for c in usable if not c.primary][:MAX_CALENDARS - len(primary)]
    return [CalendarEntry(external_id=c.external_id, name=c.name[:MAX_CALENDAR_NAME], primary=c.primary,
                          owner=c.owner[:MAX_CALENDAR_NAME] if c.owner else None) for c in usable]


class CalendarConnections:
    def __init__(self) -> None:
        self.repository = CalendarConnectionRepository()
        self.users = UserRepository()

    def connect(self, user_id: int, data: CalDAVConnect | GoogleConnect | Office365Connect,
                now: datetime) -> dict[str, Any]:
        if self.users.get(user_id) is None:
            raise not_found("not_found_error", f"user {user_id}")
        if isinstance(data, CalDAVConnect):
            values: dict[str, Any] = {"url": data.url, "username": data.username, "password": data.password}
        else:
            values = data.credentials.model_dump(by_alias=True)
        creds = Credentials(values)
        field = "url" if data.type == "caldav" else "credentials"
        try:
            calendars = provider_for(data.type).list_calendars(creds)
        except CalendarAuthError as exc:
            raise invalid("password" if data.type == "caldav" else "credentials",
                          "the calendar refused these credentials") from exc
        except CalendarError as exc:
            raise invalid(field, f"the calendar could not be read: {exc}") from exc
        except (ValueError, UnicodeError, http.client.HTTPException) as exc:  # nothing HTTP can carry
            raise invalid(field, "not a usable address or credential") from exc
        entries = _kept(calendars)
        if not entries:
            raise invalid(field, "no calendar with events was found there")
        destination = next((c.external_id for c in entries if c.primary), entries[0].external_id)
        connection = CalendarConnection(id=next_id("calendar_connection"), user_id=user_id, type=data.type,
                                        calendars=entries, selected_calendars=[c.external_id for c in entries],
                                        destination_calendar=destination, created_at=now)
        self.repository.create(connection, seal(creds.values, CALENDAR_CREDENTIALS))
        logger.info("calendar connected", extra={"user_id": user_id, "provider": data.type,
                                                 "calendars": len(entries)})
        return connection.public()

    def _get(self, user_id: int, connection_id: int) -> StoredConnection:
        stored = self.repository.get(user_id, connection_id)
        if stored is None:
            raise not_found("not_found_error", f"calendar connection {connection_id} of user {user_id}")
        return stored

    def update(self, user_id: int, connection_id: int, patch: ConnectionPatch) -> dict[str, Any]:
        connection = self._get(user_id, connection_id).connection
        known = {c.external_id for c in connection.calendars}
        unknown = [c for c in patch.selected_calendars if c not in known]
        if unknown:
            raise invalid("selectedCalendars", f"not calendars of this connection: {unknown}")
        changes = patch.model_dump(exclude_unset=True)
        if changes.get("destination_calendar") is not None and changes["destination_calendar"] not in known:
            raise invalid("destinationCalendar", "not a calendar of this connection")
        updated = connection.model_copy(update=changes)
        self.repository.save(updated)
        return updated.public()

    def list(self, user_id: int) -> list[dict[str, Any]]:
        config = self.users.load_config(user_id)
        if config is None:
            raise not_found("not_found_error", f"user {user_id}")
        return [stored.connection.public() for stored in config.calendars]

    def disconnect(self, user_id: int, connection_id: int) -> None:
        if not self.repository.delete(user_id, connection_id):
            raise not_found("not_found_error", f"calendar connection {connection_id} of user {user_id}")


class CalendarSync:
    """Writes accepted bookings into the organizer's destination calendar, keeps them in step on reschedule and
    removes them on cancel or decline. Provider failures raise: the queue retries, then the DLQ keeps the event."""

    def __init__(self, store: BookingStore) -> None:
        self.store = store
        self.users = UserRepository()
        self.connections = CalendarConnectionRepository()

    def _destination(self, organizer_id: int) -> StoredConnection | None:
        config = self.users.load_config(organizer_id)
        if config is None:
            return None
        return next((s for s in config.calendars if s.connection.destination_calendar), None)

    def _credentials(self, stored: StoredConnection) -> Credentials:
        """The connection's secrets; refreshed tokens are stored the moment they change."""
        return Credentials(unseal(stored.encrypted_credentials, CALENDAR_CREDENTIALS),
                           on_change=lambda values: self.connections.save_credentials(
                               stored.connection, seal(values, CALENDAR_CREDENTIALS)))

    def created(self, booking_uid: str) -> bool:
        record = self.store.get_booking(booking_uid)
        if record is None or record.status != "accepted" or record.calendar_event is not None:
            return False
        stored = self._destination(record.organizer.id)
        if stored is None:
            return False
        connection = stored.connection
        creds = self._credentials(stored)
        ref = provider_for(connection.type).create_event(
            creds, connection.destination_calendar or "", record, calendar_uid(record), record.ical_sequence)
        self._remember(booking_uid, CalendarEvent(connection_id=connection.id,
                                                  calendar_id=connection.destination_calendar or "",
                                                  external_id=ref.external_id, provider=connection.type))
        return True

    def rescheduled(self, booking_uid: str, previous_uid: str | None) -> bool:
        record = self.store.get_booking(booking_uid)
        previous = self.store.get_booking(previous_uid) if previous_uid else None
        if record is None or record.calendar_event is not None:
            return False  # moved already (a redelivery), or the meeting step moved the event it shares with it
        # a booking its host sent back was removed from the calendar when it was cancelled: the new one is new
        event = previous.calendar_event if previous and not previous.reschedule_requested else None
        if event is None:
            return self.created(booking_uid)
        stored = self.connections.get(record.organizer.id, event.connection_id) if record.organizer.id else None
        if stored is None or record.organizer.id != previous.organizer.id:  # another host: move it by recreating
            self._delete(previous)
            return self.created(booking_uid)
        creds = self._credentials(stored)
        provider_for(event.provider).update_event(creds, event.calendar_id, EventRef(event.external_id,
                                                                                      calendar_uid(record)),
                                                  record, calendar_uid(record), record.ical_sequence)
        self._remember(booking_uid, event)
        return True

    def removed(self, booking_uid: str) -> bool:
        record = self.store.get_booking(booking_uid)
        if record is None or is_active(record.status) or record.calendar_event is None:
            return False  # nothing written, or a seat left a booking that goes on
        return self._delete(record)

    def updated(self, booking_uid: str) -> bool:
        """Guests or location changed: the same event, with its new details and a higher SEQUENCE."""
        record = self.store.get_booking(booking_uid)
        if record is None or record.status != "accepted":
            return False
        event = record.calendar_event
        if event is None:
            return self.created(booking_uid)  # written by now, if a destination calendar is connected
        stored = self.connections.get(record.organizer.id, event.connection_id)
        if stored is None:
            return False  # the connection is gone with its calendar
        provider_for(event.provider).update_event(self._credentials(stored), event.calendar_id,
                                                  EventRef(event.external_id, calendar_uid(record)), record,
                                                  calendar_uid(record), record.ical_sequence)
        return True

    def reassigned(self, booking_uid: str, previous_organizer_id: int) -> bool:
        """Another host: when the organizer changed, the event leaves the previous organizer's calendar and is
        written to the new one's destination calendar; otherwise the organizer's event is updated (its hosts)."""
        record = self.store.get_booking(booking_uid)
        if record is None:
            return False
        event = record.calendar_event
        if event is not None and record.organizer.id != previous_organizer_id:
            self._delete(record, organizer_id=previous_organizer_id)
            self._forget(booking_uid)
            return self.created(booking_uid)
        return self.updated(booking_uid)

    def _delete(self, record: BookingRecord, organizer_id: int | None = None) -> bool:
        event = record.calendar_event
        if event is None:
            return False
        meeting = record.online_meeting
        if meeting is not None and (meeting.connection_id, meeting.external_id) == (event.connection_id,
                                                                                    event.external_id):
            return False  # the meeting's own event: the meeting step removes it
        stored = self.connections.get(organizer_id or record.organizer.id, event.connection_id)
        if stored is None:
            return False  # the connection is gone with its calendar
        creds = self._credentials(stored)
        provider_for(event.provider).delete_event(creds, event.calendar_id,
                                                  EventRef(event.external_id, calendar_uid(record)))
        return True

    def _forget(self, booking_uid: str) -> None:
        """The event is gone from the calendar it was in: the booking no longer points at it."""
        self._remember(booking_uid, None)

    def _remember(self, booking_uid: str, event: CalendarEvent | None) -> None:
        """Store where the event is, and show it in the booking's references (the meeting's kept).

        A booking cancelled while its event was being written (the cancel's removal ran before this write and found
        no event to remove) gets its event removed here instead of remembered: nothing else would remove it."""
        def write() -> None:
            record = self.store.get_booking(booking_uid)
            if record is None:
                return
            updated = record.model_copy(deep=True)
            updated.calendar_event = event
            if event is not None and not is_active(record.status):
                self._delete(updated)
                return
            updated.references = [r for r in (record.references or []) if r.type not in CALENDAR_REFERENCES] + (
                [Reference(type=CALENDAR_REFERENCE_TYPE[event.provider], uid=event.external_id)] if event else []
            ) or None
            self.store.write(BookingWrite(changes=[StatusChange.of(record, updated, booker_key_of(record))]))

        until_written(write, "the booking", StaleBooking)
