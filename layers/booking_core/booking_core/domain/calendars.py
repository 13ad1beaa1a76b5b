"""Calendar connections of a host (CalDAV, Google, Microsoft 365) and conferencing connections (Zoom). Secrets never
leave the service."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from booking_core.domain.common import CamelModel, UtcDatetime
from booking_core.timeutil import parse_instant

CalendarType = Literal["caldav", "google", "office365"]
ConferencingType = Literal["zoom"]
# A connection keeps at most MAX_CALENDARS calendars (the primary and the first others a provider lists); one whose
# id is longer than MAX_CALENDAR_ID is not kept, and names and owners are cut. So every kept calendar can be named in
# a PATCH, one connection's busy time never asks about more, and the stored connection stays far below DynamoDB's
# 400 KB item limit whatever a (hostile) server answers.
MAX_CALENDARS = 100
MAX_CALENDAR_ID = 1024
MAX_CALENDAR_NAME = 256
CalendarId = Annotated[str, Field(min_length=1, max_length=MAX_CALENDAR_ID)]
MAX_EPOCH = 10**13  # epoch milliseconds reach year 2286: any larger number is no expiry time


def _instant(value: int | str) -> int | str:
    if isinstance(value, str):
        try:
            parse_instant(value)
        except ValueError as exc:
            raise ValueError("must be epoch seconds or milliseconds, or an ISO instant with an offset") from exc
    return value


class CalDAVConnect(CamelModel):
    type: Literal["caldav"]
    url: str = Field(min_length=8, max_length=2048, pattern=r"^https?://")
    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=1024)


class OAuthCredentialsInput(CamelModel):
    """OAuth 2.0 tokens the host's app obtained, and that app's client: the service refreshes the access token."""

    access_token: str = Field(min_length=1, max_length=8192)
    refresh_token: str = Field(min_length=1, max_length=8192)
    expires_at: Annotated[Annotated[int, Field(ge=0, le=MAX_EPOCH)] | Annotated[str, Field(max_length=64)],
                          AfterValidator(_instant)] = Field(
        description="when the access token expires: epoch seconds or milliseconds, or an ISO instant")
    client_id: str = Field(min_length=1, max_length=512)
    client_secret: str = Field(min_length=1, max_length=1024)


GoogleCredentialsInput = OAuthCredentialsInput


class GoogleConnect(CamelModel):
    type: Literal["google"]
    credentials: OAuthCredentialsInput


class Office365Connect(CamelModel):
    """Microsoft 365 (Outlook calendars through Microsoft Graph; also what Teams meetings are made with)."""

    type: Literal["office365"]
    credentials: OAuthCredentialsInput


ConnectInput = Annotated[CalDAVConnect | GoogleConnect | Office365Connect, Field(discriminator="type")]


class ZoomConnect(CamelModel):
    """A Zoom user's OAuth tokens: the host's Zoom meetings are made with them."""

    type: Literal["zoom"]
    credentials: OAuthCredentialsInput


ConferencingConnectInput = ZoomConnect  # a union on `type` once there is a second conferencing connection type


class ConnectionPatch(CamelModel):
    selected_calendars: list[CalendarId] = Field(max_length=MAX_CALENDARS)
    destination_calendar: CalendarId | None = None


class CalendarEntry(CamelModel):
    external_id: str
    name: str
    primary: bool = False
    owner: str | None = Field(default=None, description="internal: the mailbox whose free/busy counts (Microsoft 365)")


class CalendarConnection(CamelModel):
    id: int
    user_id: int
    type: CalendarType
    calendars: list[CalendarEntry]
    selected_calendars: list[str]
    destination_calendar: str | None = None
    created_at: UtcDatetime

    def public(self) -> dict:
        body = self.dump()
        for calendar in body["calendars"]:
            calendar.pop("owner", None)
        return body


class ConferencingConnection(CamelModel):
    id: int
    user_id: int
    type: ConferencingType
    created_at: UtcDatetime

    def public(self) -> dict:
        return self.dump()


class CalendarEvent(CamelModel):
    """Where a booking's event lives in the organizer's calendar (kept on the booking, internal)."""

    connection_id: int
    calendar_id: str
    external_id: str
    provider: CalendarType


class OnlineMeeting(CamelModel):
    """The booking's meeting in the organizer's meeting app (kept on the booking, internal)."""

    app: str  # the integration: google-meet, office365-video, zoom
    connection_id: int  # the organizer's connection it was made with (calendar or conferencing)
    calendar_id: str | None = None  # Meet / Teams: the calendar whose event holds the meeting
    external_id: str  # Zoom: the meeting id; Meet / Teams: that event's id
    join_url: str
    conference_id: str | None = None
