"""Google Calendar API v3 over the standard library: calendarList, freeBusy, events insert / patch / delete, and
OAuth token refresh (when the access token expires, or once after a 401). Base URLs are configurable
(GOOGLE_CALENDAR_BASE_URL, GOOGLE_OAUTH_TOKEN_URL) so the tests run against a local fake."""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from typing import Any

from booking_core import clock
from booking_core.calendars.base import (
    BusyInterval,
    CalendarAuthError,
    CalendarError,
    CalendarInfo,
    CalendarUnavailable,
    Credentials,
    EventRef,
)
from booking_core.domain.bookings import Booking
from booking_core.timeutil import UTC, parse_instant

DEFAULT_BASE_URL = "https://www.googleapis.com/calendar/v3"
DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"
DEFAULT_TIMEOUT = 5.0


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _expires_at(values: dict[str, Any]) -> float:
    expires = values.get("expiresAt")
    if expires is None:
        return 0.0
    if isinstance(expires, (int, float)):
        return float(expires) / (1000 if expires > 10**11 else 1)  # seconds or milliseconds since the epoch
    return parse_instant(str(expires)).timestamp()


class GoogleCalendarProvider:
    name = "google"

    def __init__(self, base_url: str | None = None, token_url: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.base_url = (base_url or os.environ.get("GOOGLE_CALENDAR_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.token_url = token_url or os.environ.get("GOOGLE_OAUTH_TOKEN_URL") or DEFAULT_TOKEN_URL
        self.timeout = timeout

    # -- HTTP -----------------------------------------------------------------------------------------------------
    def _send(self, request: urllib.request.Request, timeout: float) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured https base
                data = response.read()
                return response.status, json.loads(data) if data else None
        except urllib.error.HTTPError as exc:
            data = exc.read()
            try:
                body = json.loads(data) if data else None
            except ValueError:
                body = None
            return exc.code, body
        except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError, OSError) as exc:
            raise CalendarUnavailable(f"Google Calendar could not be reached: {type(exc).__name__}") from exc

    def _refresh(self, creds: Credentials) -> None:
        values = creds.values
        form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": values["refreshToken"],
                                       "client_id": values["clientId"], "client_secret": values["clientSecret"]})
        request = urllib.request.Request(self.token_url, data=form.encode(), method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        status, body = self._send(request, self.timeout)
        if status != 200 or not body or "access_token" not in body:
            raise CalendarAuthError(f"token refresh refused ({status})")
        creds.update(accessToken=body["access_token"],
                     expiresAt=int(clock.epoch_seconds()) + int(body.get("expires_in", 3600)),
                     **({"refreshToken": body["refresh_token"]} if body.get("refresh_token") else {}))

    def _call(self, creds: Credentials, method: str, path: str, body: Any = None, query: dict[str, str] | None = None,
              timeout: float | None = None, ok: tuple[int, ...] = (200, 204)) -> tuple[int, Any]:
        if _expires_at(creds.values) <= clock.epoch_seconds() + 60:
            self._refresh(creds)
        url = self.base_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        for attempt in range(2):
            request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                             method=method, headers={"Authorization": f"Bearer {creds.values['accessToken']}",
                                                                     "Content-Type": "application/json"})
            status, data = self._send(request, timeout or self.timeout)
            if status == 401 and attempt == 0:
                self._refresh(creds)  # the token was revoked or expired early: refresh once and retry
                continue
            if status in ok:
                return status, data
            message = (data or {}).get("error", {}).get("message", "") if isinstance(data, dict) else ""
            if status in (401, 403):
                raise CalendarAuthError(f"Google refused {method} ({status}) {message}".strip())
            if status >= 500 or status == 429:
                raise CalendarUnavailable(f"Google failed {method} ({status})")
            raise CalendarError(f"Google refused {method} {path} ({status}) {message}".strip())
        raise CalendarAuthError("Google refused the refreshed token")

    # -- the interface --------------------------------------------------------------------------------------------
    def list_calendars(self, creds: Credentials) -> list[CalendarInfo]:
        _, data = self._call(creds, "GET", "/users/me/calendarList")
        items = data.get("items", []) if data else []
        return [CalendarInfo(external_id=item["id"], name=item.get("summaryOverride") or item.get("summary", item["id"]),
                             primary=bool(item.get("primary"))) for item in items
                if item.get("accessRole") in (None, "owner", "writer")]

    def busy_times(self, creds: Credentials, calendar_ids: list[str], start: datetime, end: datetime,
                   timeout: float = DEFAULT_TIMEOUT) -> list[BusyInterval]:
        body = {"timeMin": _rfc3339(start), "timeMax": _rfc3339(end), "items": [{"id": c} for c in calendar_ids]}
        _, data = self._call(creds, "POST", "/freeBusy", body, timeout=timeout)
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
            body["location"] = booking.location
        return body

    def create_event(self, creds: Credentials, calendar_id: str, booking: Booking, uid: str,
                     sequence: int) -> EventRef:
        """Insert, unless an event with this iCalUID exists already (a redelivered event): then it is updated."""
        calendar = urllib.parse.quote(calendar_id, safe="")
        _, found = self._call(creds, "GET", f"/calendars/{calendar}/events", query={"iCalUID": uid})
        existing = (found or {}).get("items", [])
        if existing:
            return self.update_event(creds, calendar_id, EventRef(existing[0]["id"], uid), booking, uid, sequence)
        _, data = self._call(creds, "POST", f"/calendars/{calendar}/events", self._event_body(booking, uid, sequence),
                             query={"sendUpdates": "none"})
        return EventRef(external_id=data["id"], uid=uid)

    def update_event(self, creds: Credentials, calendar_id: str, ref: EventRef, booking: Booking, uid: str,
                     sequence: int) -> EventRef:
        calendar = urllib.parse.quote(calendar_id, safe="")
        body = self._event_body(booking, uid, sequence)
        body.pop("iCalUID")
        self._call(creds, "PATCH", f"/calendars/{calendar}/events/{urllib.parse.quote(ref.external_id, safe='')}",
                   body, query={"sendUpdates": "none"})
        return ref

    def delete_event(self, creds: Credentials, calendar_id: str, ref: EventRef) -> None:
        calendar = urllib.parse.quote(calendar_id, safe="")
        self._call(creds, "DELETE", f"/calendars/{calendar}/events/{urllib.parse.quote(ref.external_id, safe='')}",
                   query={"sendUpdates": "none"}, ok=(200, 204, 404, 410))

