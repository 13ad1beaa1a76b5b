"""Calendar connections of a host (CONTRACT.md section 2, calendar rows). Secrets never leave the service."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from booking_core.domain.common import CamelModel, UtcDatetime

CalendarType = Literal["caldav", "google"]


class CalDAVConnect(CamelModel):
    type: Literal["caldav"]
    url: str = Field(min_length=8, max_length=2048, pattern=r"^https?://")
    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=1024)


class GoogleCredentialsInput(CamelModel):
    access_token: str = Field(min_length=1)
    refresh_token: str = Field(min_length=1)
    expires_at: int | str
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)


class GoogleConnect(CamelModel):
    type: Literal["google"]
    credentials: GoogleCredentialsInput


ConnectInput = Annotated[CalDAVConnect | GoogleConnect, Field(discriminator="type")]


class ConnectionPatch(CamelModel):
    selected_calendars: list[str]
    destination_calendar: str | None = None


class CalendarEntry(CamelModel):
    external_id: str
    name: str
    primary: bool = False


class CalendarConnection(CamelModel):
    id: int
    user_id: int
    type: CalendarType
    calendars: list[CalendarEntry]
    selected_calendars: list[str]
    destination_calendar: str | None = None
    created_at: UtcDatetime

    def public(self) -> dict:
        return self.dump()


class CalendarEvent(CamelModel):
    """Where a booking's event lives in the organizer's calendar (kept on the booking, internal)."""

    connection_id: int
    calendar_id: str
    external_id: str
    provider: CalendarType
