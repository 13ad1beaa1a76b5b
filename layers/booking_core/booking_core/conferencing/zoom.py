"""Zoom meetings through Zoom's REST API v2 for the host's Zoom user (OAuth tokens of a user-managed app).

- create: `POST /users/me/meetings` (type 2, a scheduled meeting, start in UTC) -> 201 with `id` and `join_url`;
  move: `PATCH /meetings/{id}` -> 204 (the join URL stays); delete: `DELETE /meetings/{id}` -> 204, and 404
  (code 3001, "meeting does not exist") counts as already gone.
- Token refresh: `POST https://zoom.us/oauth/token` with the client id and secret as HTTP Basic and a form body;
  Zoom rotates the refresh token on every refresh (stored at once, see `calendars.oauth`).
- Zoom has no idempotency key for creates: a create whose answer is lost can leave one unused meeting behind (the
  retry makes another); the booking keeps the one whose answer arrived.
Base URLs: ZOOM_API_BASE_URL, ZOOM_OAUTH_URL.
"""

from __future__ import annotations

import re
from typing import Any

from booking_core.calendars.base import CalendarError, Credentials
from booking_core.calendars.oauth import OAuthApi, TokenEndpoint
from booking_core.conferencing.base import Meeting
from booking_core.config import settings
from booking_core.domain.bookings import Booking
from booking_core.timeutil import UTC

DEFAULT_BASE_URL = "https://api.zoom.us/v2"
DEFAULT_TOKEN_URL = "https://zoom.us/oauth/token"
_MEETING_ID = re.compile(r"^[0-9]{1,20}$")


def _meeting_path(meeting: Meeting) -> str:
    if not _MEETING_ID.match(meeting.external_id):
        raise CalendarError("not a Zoom meeting id")
    return f"/meetings/{meeting.external_id}"


class ZoomMeetings:
    def __init__(self, base_url: str | None = None, token_url: str | None = None) -> None:
        self.api = OAuthApi(
            "Zoom",
            base_url or settings().zoom_api_base_url or DEFAULT_BASE_URL,
            TokenEndpoint(token_url or settings().zoom_oauth_url or DEFAULT_TOKEN_URL, basic_auth=True),
        )

    @staticmethod
    def _body(booking: Booking) -> dict[str, Any]:
        agenda = booking.description or ""
        return {
            "topic": booking.title[:200],
            "type": 2,
            "start_time": booking.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration": booking.duration,
            "timezone": "UTC",
            "agenda": agenda[:2000],
        }

    def verify(self, creds: Credentials) -> None:
        self.api.call(creds, "GET", "/users/me")

    def create_meeting(self, creds: Credentials, booking: Booking, uid: str, sequence: int,
                       calendar_id: str | None) -> Meeting:
        _, data = self.api.call(creds, "POST", "/users/me/meetings", body=self._body(booking), ok=(201,))
        if not isinstance(data, dict) or not data.get("id") or not data.get("join_url"):
            raise CalendarError("Zoom answered without a meeting id or join URL")
        meeting_id = str(data["id"])
        return Meeting(external_id=meeting_id, join_url=str(data["join_url"]), conference_id=meeting_id)

    def update_meeting(self, creds: Credentials, meeting: Meeting, booking: Booking, uid: str, sequence: int,
                       calendar_id: str | None) -> Meeting:
        self.api.call(creds, "PATCH", _meeting_path(meeting), body=self._body(booking), ok=(200, 204))
        return meeting

    def delete_meeting(self, creds: Credentials, meeting: Meeting, calendar_id: str | None) -> None:
        self.api.call(creds, "DELETE", _meeting_path(meeting), ok=(200, 204, 404))
