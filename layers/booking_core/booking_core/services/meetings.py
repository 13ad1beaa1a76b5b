"""The app-sync step's meeting half: the organizer's online meeting (Google Meet, Microsoft Teams, Zoom) is made
after the booking commits, moved on reschedule and deleted on cancel or decline. It runs in the calendar_sync
feature before the calendar half, so the event in the organizer's calendar carries the link.

- Whose meeting: the organizer's (the booking's first host) connection of the app's type: their Google calendar
  connection for Meet, their Microsoft 365 connection for Teams (the meeting lives in an event of that connection's
  destination calendar; when that connection is also where bookings are written, that one event is the booking's
  calendar event too), their Zoom connection for Zoom.
- When the link is new on the booking, the booking is written with it (`meetingUrl`, `location`, `references`) in
  one transaction with a `bookingMeetingCreated` event: the emails and webhooks held for the link go out on it.
- Every link a provider answers with passes `webhooks.ssrf.check_link` (https, no credentials, no internal address)
  before it reaches a booking, an email or a webhook.
- A provider that fails raises: the queue retries, then the DLQ keeps the event; the booking stands. An organizer
  without the app's connection gets no meeting (logged and counted: MeetingAppSkipped).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from booking_core import clock
from booking_core.calendars.base import CalendarError, Credentials
from booking_core.conferencing import APPS, CONFERENCING_CONNECTIONS, meeting_app
from booking_core.crypto import CALENDAR_CREDENTIALS, CONFERENCING_CREDENTIALS, seal, unseal
from booking_core.domain.bookings import (
    CALENDAR_REFERENCE_TYPE,
    CALENDAR_REFERENCES,
    BookingRecord,
    Reference,
    is_active,
)
from booking_core.domain.calendars import CalendarEvent, OnlineMeeting
from booking_core.events.contracts import MEETING_CREATED, BookingEvent, new_event
from booking_core.ics import calendar_uid
from booking_core.observability import count, logger
from booking_core.ports import BookingStore, BookingWrite, OutboxEvent, StaleBooking, StatusChange
from booking_core.repositories.entities import (
    CalendarConnectionRepository,
    ConferencingConnectionRepository,
    UserRepository,
)
from booking_core.repositories.keys import booker_key_of
from booking_core.services.retry import until_written

if TYPE_CHECKING:  # the app modules, their Meeting and the SSRF guard load when a meeting is made, not at cold start
    from booking_core.conferencing.base import Meeting


@dataclass
class _Connection:
    """The organizer's connection an app works through, ready to use."""

    id: int
    type: str
    creds: Credentials
    calendar_id: str | None = None  # Meet / Teams: the calendar the meeting's event goes into
    is_destination: bool = False  # that calendar is where the booking's calendar event belongs


def _meeting(online: OnlineMeeting) -> Meeting:
    from booking_core.conferencing.base import Meeting

    return Meeting(online.external_id, online.join_url, online.conference_id)


class MeetingSync:
    def __init__(self, store: BookingStore) -> None:
        self.store = store
        self.users = UserRepository()
        self.calendars = CalendarConnectionRepository()
        self.conferencing = ConferencingConnectionRepository()

    # -- the organizer's connections ------------------------------------------------------------------------------
    def _connection(self, user_id: int, kind: str, connection_id: int | None = None) -> _Connection | None:
        """The user's connection of `kind` (the one with `connection_id` when given: a meeting stays with the
        connection that made it)."""
        if kind in CONFERENCING_CONNECTIONS:
            found = self.conferencing.get(user_id, kind)
            if found is None or (connection_id is not None and found[0].id != connection_id):
                return None
            conferencing, sealed = found
            creds = Credentials(unseal(sealed, CONFERENCING_CREDENTIALS),
                                on_change=lambda values: self.conferencing.save_credentials(
                                    conferencing, seal(values, CONFERENCING_CREDENTIALS)))
            return _Connection(conferencing.id, kind, creds)
        config = self.users.load_config(user_id)
        stored_list = config.calendars if config else []
        stored = next((s for s in stored_list if s.connection.type == kind
                       and connection_id in (None, s.connection.id)), None)
        if stored is None:
            return None
        connection = stored.connection
        destination = next((s for s in stored_list if s.connection.destination_calendar), None)
        calendar_id = connection.destination_calendar or next(
            (c.external_id for c in connection.calendars if c.primary), connection.calendars[0].external_id
            if connection.calendars else None)
        creds = Credentials(unseal(stored.encrypted_credentials, CALENDAR_CREDENTIALS),
                            on_change=lambda values: self.calendars.save_credentials(
                                connection, seal(values, CALENDAR_CREDENTIALS)))
        return _Connection(connection.id, kind, creds, calendar_id,
                           is_destination=destination is not None and destination.connection.id == connection.id)

    # -- the three changes ----------------------------------------------------------------------------------------
    def created(self, booking_uid: str, cause: BookingEvent) -> bool:
        """An accepted booking whose type names a meeting app gets its meeting (once: a redelivery finds it)."""
        record = self.store.get_booking(booking_uid)
        if (record is None or record.status != "accepted" or record.meeting_app not in APPS
                or record.online_meeting is not None):
            return False
        spec = APPS[record.meeting_app]
        connection = self._connection(record.organizer.id, spec.connection)
        if connection is None:
            count("MeetingAppSkipped", app=spec.integration)
            logger.warning("organizer has no connection for the meeting app",
                           extra={"booking_uid": booking_uid, "app": spec.integration, "user_id": record.organizer.id})
            return False
        meeting = meeting_app(spec.integration).create_meeting(connection.creds, record, calendar_uid(record),
                                                               record.ical_sequence, connection.calendar_id)
        self._remember(booking_uid, self._online(spec.integration, connection, meeting), connection, cause)
        logger.info("meeting created", extra={"booking_uid": booking_uid, "app": spec.integration})
        return True

    def rescheduled(self, booking_uid: str, previous_uid: str | None, cause: BookingEvent) -> bool:
        """The same meeting moves with the booking while the organizer and app stay; otherwise the old one goes and
        the new organizer gets their own."""
        record = self.store.get_booking(booking_uid)
        previous = self.store.get_booking(previous_uid) if previous_uid else None
        if record is None or record.online_meeting is not None:
            return False
        # a booking its host sent back lost its meeting when it was cancelled: the new one gets a new meeting
        old = previous.online_meeting if previous and not previous.reschedule_requested else None
        if old is None:
            return self.created(booking_uid, cause)
        assert previous is not None
        spec = APPS[old.app]
        same_host = record.organizer.id == previous.organizer.id and record.meeting_app == old.app
        connection = self._connection(record.organizer.id, spec.connection, old.connection_id) if same_host else None
        if record.status != "accepted" or connection is None:
            self._delete(previous.organizer.id, old)  # pending again, or another host: theirs is made on accept
            return self.created(booking_uid, cause)
        moved = meeting_app(old.app).update_meeting(
            connection.creds, _meeting(old), record, calendar_uid(record), record.ical_sequence, old.calendar_id)
        self._remember(booking_uid, self._online(old.app, connection, moved, old.calendar_id), connection, cause)
        return True

    def removed(self, booking_uid: str) -> bool:
        record = self.store.get_booking(booking_uid)
        if record is None or is_active(record.status) or record.online_meeting is None:
            return False  # nothing made, or a seat left a booking that goes on
        return self._delete(record.organizer.id, record.online_meeting)

    def reassigned(self, booking_uid: str, previous_organizer_id: int, cause: BookingEvent) -> bool:
        """Another organizer: their own meeting is made and the previous organizer's is deleted. Another co-host
        changes nothing here."""
        record = self.store.get_booking(booking_uid)
        if record is None:
            return False
        online = record.online_meeting
        if online is not None and record.organizer.id != previous_organizer_id:
            self._delete(previous_organizer_id, online)
            self._forget(booking_uid, online)
        return self.created(booking_uid, cause)

    def updated(self, booking_uid: str, cause: BookingEvent) -> bool:
        """The location changed: a meeting made for the old one is deleted; a meeting app now chosen gets its
        meeting."""
        record = self.store.get_booking(booking_uid)
        if record is None:
            return False
        online = record.online_meeting
        if online is not None and record.meeting_app != online.app:
            self._delete(record.organizer.id, online)
            self._forget(booking_uid, online)
        return self.created(booking_uid, cause)

    # -- helpers --------------------------------------------------------------------------------------------------
    def _delete(self, organizer_id: int, online: OnlineMeeting) -> bool:
        connection = self._connection(organizer_id, APPS[online.app].connection, online.connection_id)
        if connection is None:
            return False  # the connection is gone, and with it what we could do about its meetings
        meeting_app(online.app).delete_meeting(connection.creds, _meeting(online), online.calendar_id)
        logger.info("meeting deleted", extra={"app": online.app})
        return True

    @staticmethod
    def _online(app: str, connection: _Connection, meeting: Meeting, calendar_id: str | None = None) -> OnlineMeeting:
        from booking_core.webhooks.ssrf import UnsafeUrl, check_link

        try:
            join_url = check_link(meeting.join_url)
        except UnsafeUrl as exc:
            raise CalendarError(f"{APPS[app].label} answered with a link that is refused: {exc.reason}") from exc
        return OnlineMeeting(app=app, connection_id=connection.id, calendar_id=calendar_id or connection.calendar_id,
                             external_id=meeting.external_id, join_url=join_url, conference_id=meeting.conference_id)

    def _remember(self, booking_uid: str, online: OnlineMeeting, connection: _Connection, cause: BookingEvent) -> None:
        """The meeting on the booking: link, location, references (and, for a meeting hosted in the destination
        calendar, the booking's calendar event); a bookingMeetingCreated event when the link is new. A booking
        cancelled while its meeting was being made (the cancel's removal found no meeting) gets it deleted instead."""
        spec = APPS[online.app]
        shared = (CalendarEvent(connection_id=connection.id, calendar_id=online.calendar_id or "",
                                external_id=online.external_id, provider=connection.type)
                  if connection.is_destination and connection.type not in CONFERENCING_CONNECTIONS else None)

        def write() -> None:
            record = self.store.get_booking(booking_uid)
            if record is None:
                return
            if not is_active(record.status):
                self._delete(record.organizer.id, online)
                return
            updated = record.model_copy(deep=True)
            new_link = record.meeting_url != online.join_url
            updated.online_meeting = online
            if record.location in (spec.placeholder, record.meeting_url, None):
                updated.location = online.join_url
            updated.meeting_url = online.join_url
            references = [Reference(type=spec.reference_type, uid=online.conference_id or online.external_id,
                                    meeting_url=online.join_url)]
            references += [r for r in record.references or []
                           if r.type != spec.reference_type and (shared is None or r.type not in CALENDAR_REFERENCES)]
            if shared is not None:
                updated.calendar_event = shared
                references.append(Reference(type=CALENDAR_REFERENCE_TYPE[shared.provider], uid=shared.external_id))
            updated.references = references
            events = [self._follow_up(updated, cause)] if new_link else []
            self.store.write(BookingWrite(changes=[StatusChange.of(record, updated, booker_key_of(record))],
                                          events=events))

        until_written(write, "the booking", StaleBooking)

    def _forget(self, booking_uid: str, online: OnlineMeeting) -> None:
        """The meeting is deleted: the booking no longer carries it, its reference, or the calendar event it was."""
        spec = APPS[online.app]

        def write() -> None:
            record = self.store.get_booking(booking_uid)
            if record is None or record.online_meeting != online:
                return
            updated = record.model_copy(deep=True)
            updated.online_meeting = None
            shared = record.calendar_event is not None and (record.calendar_event.connection_id,
                                                            record.calendar_event.external_id) == (
                online.connection_id, online.external_id)
            if shared:
                updated.calendar_event = None
            updated.references = [r for r in record.references or [] if r.type != spec.reference_type and not (
                shared and r.type in CALENDAR_REFERENCES)] or None
            if record.meeting_url == online.join_url:
                updated.meeting_url = None
            self.store.write(BookingWrite(changes=[StatusChange.of(record, updated, booker_key_of(record))]))

        until_written(write, "the booking", StaleBooking)

    def _follow_up(self, record: BookingRecord, cause: BookingEvent) -> OutboxEvent:
        previous_uid = cause.detail.previous_booking.uid if cause.detail.previous_booking else None
        previous = self.store.get_booking(previous_uid) if previous_uid else None
        context = cause.detail.context.model_copy(update={"cause_event_id": cause.event_id,
                                                          "cause_detail_type": cause.detail_type})
        return new_event(MEETING_CREATED, record, occurred_at=clock.now(), previous=previous, context=context)
