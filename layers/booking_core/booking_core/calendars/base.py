"""What the booking service needs from a calendar provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from booking_core.domain.bookings import Booking


@dataclass(frozen=True, slots=True)
class CalendarInfo:
    external_id: str
    name: str
    primary: bool
    owner: str | None = None  # Microsoft 365: the mailbox whose free/busy getSchedule reads for this calendar


@dataclass(frozen=True, slots=True)
class BusyInterval:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class EventRef:
    external_id: str  # CalDAV: the event resource URL; Google, Microsoft 365: the event id
    uid: str  # the iCalendar UID
    meeting_url: str | None = None  # the online meeting's join URL, when one was asked for
    meeting_id: str | None = None  # the provider's id of that meeting (Google Meet: the conference id)


@dataclass
class Credentials:
    """A connection's secrets. Providers may refresh them (OAuth tokens): `changed` tells the caller to store them,
    and `on_change`, when the owner gives one, stores them the moment they change (Microsoft and Zoom rotate refresh
    tokens: a refreshed token that is not kept would leave the connection unusable)."""

    values: dict[str, Any]
    changed: bool = field(default=False)
    on_change: Callable[[dict[str, Any]], None] | None = field(default=None, repr=False)

    def update(self, **values: Any) -> None:
        self.values.update(values)
        self.changed = True
        if self.on_change is not None:
            self.on_change(dict(self.values))


class CalendarError(Exception):
    """The provider refused the request."""


class CalendarAuthError(CalendarError):
    """The credentials were refused."""


class CalendarUnavailable(CalendarError):
    """The provider timed out, throttled or failed on its side; worth retrying later (`retry_after` seconds when the
    provider said so)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CalendarProvider(Protocol):
    name: str
    max_busy_days: int | None  # the longest window one busy-time call may ask for (None: no limit)

    def list_calendars(self, creds: Credentials) -> list[CalendarInfo]: ...

    def busy_times(self, creds: Credentials, calendar_ids: list[str], start: datetime, end: datetime,
                   timeout: float, owners: dict[str, str] | None = None) -> list[BusyInterval]:
        """Busy intervals of the calendars over [start, end); `owners` maps calendar ids to the mailbox owning them
        (only Microsoft 365 needs it). Never sleeps on throttling: the booking path is waiting."""
        ...

    def create_event(self, creds: Credentials, calendar_id: str, booking: Booking, uid: str,
                     sequence: int, online_meeting: bool = False) -> EventRef:
        """The booking's event; with `online_meeting` the provider's own meeting (Meet, Teams) is attached and its
        join URL returned in the ref. A redelivered call finds the event it made before instead of a second one."""
        ...

    def update_event(self, creds: Credentials, calendar_id: str, ref: EventRef, booking: Booking, uid: str,
                     sequence: int) -> EventRef:
        """Move / retitle the event; an attached online meeting stays (same join URL)."""
        ...

    def delete_event(self, creds: Credentials, calendar_id: str, ref: EventRef) -> None: ...
