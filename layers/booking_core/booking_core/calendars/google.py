"""Google Calendar API v3: calendarList, freeBusy, events insert / patch / delete, and Google Meet through the
event's conferenceData (`conferenceDataVersion=1`, a `createRequest` for `hangoutsMeet`). Requests, token refresh
and throttling are `oauth.OAuthApi`'s. Base URLs are configurable (GOOGLE_CALENDAR_BASE_URL,
GOOGLE_OAUTH_URL) so the tests run against a local fake."""

from __future__ import annotations

import hashlib
import urllib.parse
from datetime import datetime
from typing import Any

from booking_core.calendars.base import (
    BusyInterval,
    CalendarInfo,
    CalendarUnavailable,
    Credentials,
    EventRef,
)
from booking_core.calendars.oauth import DEFAULT_TIMEOUT, OAuthApi, TokenEndpoint
from booking_core.conferencing import describe_location
from booking_core.config import settings
from booking_core.domain.bookings import Booking
from booking_core.timeutil import UTC, parse_instant

DEFAULT_BASE_URL = "https://www.googleapis.com/calendar/v3"
DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meet_link(event: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """(join URL, conference id) of the event's Meet conference once Google has created it."""
    conference = (event or {}).get("conferenceData") or {}
    status = ((conference.get("createRequest") or {}).get("status") or {}).get("statusCode")
    if status in ("pending", "failure"):
        return None, None
    video = next((entry.get("uri") for entry in conference.get("entryPoints", [])
                  if entry.get("entryPointType") == "video" and entry.get("uri")), None)
    return video, conference.get("conferenceId")


class GoogleCalendarProvider:
    name = "google"
    max_busy_days: int | None = None

    def __init__(self, base_url: str | None = None, token_url: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.api = OAuthApi(
            "Google Calendar",
            base_url or settings().google_calendar_base_url or DEFAULT_BASE_URL,
            TokenEndpoint(token_url or settings().google_oauth_url or DEFAULT_TOKEN_URL),
            timeout=timeout,
        )

    # -- the interface --------------------------------------------------------------------------------------------
    def list_calendars(self, creds: Credentials) -> list[CalendarInfo]:
        _, data = self.api.call(creds, "GET", "/users/me/calendarList")
        items = data.get("items", []) if data else []
        return [CalendarInfo(external_id=item["id"], name=item.get("summaryOverride") or item.get("summary", item["id"]),
                             primary=bool(item.get("primary"))) for item in items
                if item.get("accessRole") in (None, "owner", "writer")]

    def busy_times(self, creds: Credentials, calendar_ids: list[str], start: datetime, end: datetime,
                   timeout: float = DEFAULT_TIMEOUT, owners: dict[str, str] | None = None) -> list[BusyInterval]:
        body = {"timeMin": _rfc3339(start), "timeMax": _rfc3339(end), "items": [{"id": c} for c in calendar_ids]}
        _, data = self.api.call(creds, "POST", "/freeBusy", body=body, timeout=timeout, max_wait=0)
        busy = []
        for calendar in (data or {}).get("calendars", {}).values():
            if calendar.get("errors"):
                raise CalendarUnavailable(f"freeBusy errors: {calendar['errors']}")
            for slot in calendar.get("busy", []):
                busy.append(BusyInterval(parse_instant(slot["start"]), parse_instant(slot["end"])))
        return sorted(busy, key=lambda interval: interval.start)

    @staticmethod
    def _event_body(booking: Booking, uid: str, sequence: int) -> dict[str, Any]:
        attendees = [{"email": a.email, "displayName": a.name} for a in booking.attendees]
        attendees += [{"email": guest} for guest in booking.guests]
        attendees += [{"email": h.email, "displayName": h.name} for h in booking.hosts[1:]]
        description = booking.description or ""
        if booking.meeting_url:
            description = (description + "\n\n" if description else "") + f"Join: {booking.meeting_url}"
        body: dict[str, Any] = {
            "summary": booking.title,
            "description": description,
            "start": {"dateTime": _rfc3339(booking.start), "timeZone": "UTC"},
            "end": {"dateTime": _rfc3339(booking.end), "timeZone": "UTC"},
            "attendees": attendees,
            "iCalUID": uid,
            "sequence": sequence,
            "status": "cancelled" if booking.status in {"cancelled", "rejected"} else "confirmed",
        }
        if booking.location:
            body["location"] = describe_location(booking.location)
        return body

    @staticmethod
    def _conference_request(uid: str) -> dict[str, Any]:
        # The same requestId for the same booking: Google ignores a repeated request instead of making a second Meet.
        request_id = hashlib.sha256(f"meet:{uid}".encode()).hexdigest()[:32]
        return {"createRequest": {"requestId": request_id, "conferenceSolutionKey": {"type": "hangoutsMeet"}}}

    @staticmethod
    def _ref(event: dict[str, Any], uid: str) -> EventRef:
        link, conference_id = _meet_link(event)
        return EventRef(external_id=event["id"], uid=uid, meeting_url=link, meeting_id=conference_id)

    def create_event(self, creds: Credentials, calendar_id: str, booking: Booking, uid: str,
                     sequence: int, online_meeting: bool = False) -> EventRef:
        """Insert, unless an event with this iCalUID exists already (a redelivered event): then it is updated."""
        calendar = urllib.parse.quote(calendar_id, safe="")
        _, found = self.api.call(creds, "GET", f"/calendars/{calendar}/events", query={"iCalUID": uid})
        existing = (found or {}).get("items", [])
        if existing:
            ref = EventRef(existing[0]["id"], uid)
            return self._patch(creds, calendar_id, ref, booking, uid, sequence,
                               conference=online_meeting and not existing[0].get("conferenceData"))
        body = self._event_body(booking, uid, sequence)
        query = {"sendUpdates": "none"}
        if online_meeting:
            body["conferenceData"] = self._conference_request(uid)
            query["conferenceDataVersion"] = "1"
        _, data = self.api.call(creds, "POST", f"/calendars/{calendar}/events", body=body, query=query)
        return self._ref(data, uid)

    def _patch(self, creds: Credentials, calendar_id: str, ref: EventRef, booking: Booking, uid: str,
               sequence: int, conference: bool = False) -> EventRef:
        calendar = urllib.parse.quote(calendar_id, safe="")
        body = self._event_body(booking, uid, sequence)
        body.pop("iCalUID")
        query = {"sendUpdates": "none"}
        if conference:
            body["conferenceData"] = self._conference_request(uid)
            query["conferenceDataVersion"] = "1"
        _, data = self.api.call(creds, "PATCH",
                                f"/calendars/{calendar}/events/{urllib.parse.quote(ref.external_id, safe='')}",
                                body=body, query=query)
        return self._ref(data, uid) if isinstance(data, dict) and data.get("id") else ref

    def update_event(self, creds: Credentials, calendar_id: str, ref: EventRef, booking: Booking, uid: str,
                     sequence: int) -> EventRef:
        return self._patch(creds, calendar_id, ref, booking, uid, sequence)

    def delete_event(self, creds: Credentials, calendar_id: str, ref: EventRef) -> None:
        calendar = urllib.parse.quote(calendar_id, safe="")
        self.api.call(creds, "DELETE", f"/calendars/{calendar}/events/{urllib.parse.quote(ref.external_id, safe='')}",
                      query={"sendUpdates": "none"}, ok=(200, 204, 404, 410))
