"""What the booking service needs from a calendar provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from booking_core.domain.bookings import Booking


@dataclass(frozen=True, slots=True)
class CalendarInfo:
    external_id: str
    name: str
    primary: bool


@dataclass(frozen=True, slots=True)
class BusyInterval:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class EventRef:
    external_id: str  # CalDAV: the event resource URL; Google: the event id
    uid: str  # the iCalendar UID


@dataclass
class Credentials:
    """A connection's secrets. Providers may refresh them (Google tokens): `changed` tells the caller to store them."""

    values: dict[str, Any]
    changed: bool = field(default=False)

    def update(self, **values: Any) -> None:
        self.values.update(values)
        self.changed = True


class CalendarError(Exception):
    """The provider refused the request."""


class CalendarAuthError(CalendarError):
    """The credentials were refused."""


class CalendarUnavailable(CalendarError):
    """The provider timed out or failed on its side; worth retrying later."""


class CalendarProvider(Protocol):
    name: str

    def list_calendars(self, creds: Credentials) -> list[CalendarInfo]: ...

    def busy_times(self, creds: Credentials, calendar_ids: list[str], start: datetime, end: datetime,
                   timeout: float) -> list[BusyInterval]: ...

    def create_event(self, creds: Credentials, calendar_id: str, booking: Booking, uid: str,
                     sequence: int) -> EventRef: ...

    def update_event(self, creds: Credentials, calendar_id: str, ref: EventRef, booking: Booking, uid: str,
                     sequence: int) -> EventRef: ...

    def delete_event(self, creds: Credentials, calendar_id: str, ref: EventRef) -> None: ...
