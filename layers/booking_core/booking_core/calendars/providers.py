"""The provider for a connection type (one instance per process)."""

from __future__ import annotations

from functools import lru_cache

from booking_core.calendars.base import CalendarProvider


@lru_cache(maxsize=4)
def provider_for(kind: str) -> CalendarProvider:
    if kind == "caldav":
        from booking_core.calendars.caldav import CalDAVProvider

        return CalDAVProvider()
    if kind == "google":
        from booking_core.calendars.google import GoogleCalendarProvider

        return GoogleCalendarProvider()
    if kind == "office365":
        from booking_core.calendars.office365 import Office365CalendarProvider

        return Office365CalendarProvider()
    raise ValueError(f"unknown calendar type {kind}")
