"""Microsoft 365 calendars through Microsoft Graph v1.0: calendars, busy time with `calendar: getSchedule`, the
booking's event (create in the chosen calendar, move and delete by id) and Teams meetings as the event's online
meeting (`isOnlineMeeting`, `onlineMeetingProvider: teamsForBusiness` -> `onlineMeeting.joinUrl`).

- Busy time: getSchedule answers per mailbox, not per calendar folder. Each selected calendar counts through its
  owner's free/busy (`owner.address`, kept when the calendars are listed), all of them in one request per
  connection; Exchange computes a mailbox's free/busy from its default calendar. Statuses busy, tentative and oof
  count; free and workingElsewhere do not. Graph answers windows shorter than 42 days: longer ones are split (the
  caller asks for the pieces in the same concurrent round).
- Events carry no attendees: Exchange would send its own invitations beside the service's emails (with another
  UID). The attendees are listed in the event's body instead. A create carries `transactionId`, so Graph answers a
  retried create with the event it made the first time; moves PATCH the same event, which keeps its iCalUId.
- Token refresh at the Microsoft identity platform's v2.0 token endpoint (form-encoded, the scopes again; the
  answer may rotate the refresh token).
Base URLs: MICROSOFT_GRAPH_BASE_URL, MICROSOFT_OAUTH_URL.
"""

from __future__ import annotations

import hashlib
import urllib.parse
from datetime import datetime
from typing import Any

from booking_core.calendars.base import (
    BusyInterval,
    CalendarError,
    CalendarInfo,
    CalendarUnavailable,
    Credentials,
    EventRef,
)
from booking_core.calendars.oauth import DEFAULT_TIMEOUT, OAuthApi, TokenEndpoint
from booking_core.conferencing import describe_location
from booking_core.config import settings
from booking_core.domain.bookings import Booking
from booking_core.timeutil import UTC

DEFAULT_BASE_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_TOKEN_URL = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
SCOPES = "offline_access User.Read Calendars.ReadWrite"
BUSY_STATUSES = frozenset({"busy", "tentative", "oof"})
MAX_PAGES = 10  # calendars listing: 10 pages of 100 are plenty; a provider looping its next links stops here
UTC_PREFERENCE = {"Prefer": 'outlook.timezone="UTC"'}


def graph_time(moment: datetime) -> dict[str, str]:
    """Graph's dateTimeTimeZone: a wall time without offset and the zone it is in."""
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def parse_graph_time(value: dict[str, Any]) -> datetime:
    """Graph's dateTimeTimeZone back to an instant ("2027-12-01T10:00:00.0000000" with timeZone "UTC")."""
    text = str(value.get("dateTime", ""))
    if str(value.get("timeZone", "UTC")).upper() not in {"UTC", "ETC/UTC"}:
        raise CalendarError(f"unexpected time zone {value.get('timeZone')!r} (asked for UTC)")
    head, _, fraction = text.partition(".")
    moment = datetime.fromisoformat(head + (f".{fraction[:6]}" if fraction else ""))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Office365CalendarProvider:
    name = "office365"
    max_busy_days: int | None = 41

    def __init__(self, base_url: str | None = None, token_url: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.api = OAuthApi(
            "Microsoft Graph",
            base_url or settings().microsoft_graph_base_url or DEFAULT_BASE_URL,
            TokenEndpoint(token_url or settings().microsoft_oauth_url or DEFAULT_TOKEN_URL, scope=SCOPES),
            timeout=timeout,
        )

    # -- calendars ------------------------------------------------------------------------------------------------
    def list_calendars(self, creds: Credentials) -> list[CalendarInfo]:
        found: list[CalendarInfo] = []
        path: str | None = "/me/calendars"
        query: dict[str, str] | None = {"$select": "id,name,isDefaultCalendar,canEdit,owner", "$top": "100"}
        for _ in range(MAX_PAGES):
            if path is None:
                break
            _, data = self.api.call(creds, "GET", path, query=query)
            for item in (data or {}).get("value", []):
                if not item.get("canEdit", True):
                    continue  # read-only calendars can be neither written nor chosen as destination
                owner = (item.get("owner") or {}).get("address")
                found.append(CalendarInfo(external_id=item["id"], name=item.get("name") or item["id"],
                                          primary=bool(item.get("isDefaultCalendar")), owner=owner))
            path, query = (data or {}).get("@odata.nextLink"), None  # already carries its query
        return found

    def busy_times(self, creds: Credentials, calendar_ids: list[str], start: datetime, end: datetime,
                   timeout: float = DEFAULT_TIMEOUT, owners: dict[str, str] | None = None) -> list[BusyInterval]:
        schedules = sorted({owners[c] for c in calendar_ids if owners and owners.get(c)})
        if not schedules:
            return []
        body = {"schedules": schedules, "startTime": graph_time(start), "endTime": graph_time(end),
                "availabilityViewInterval": 15}
        _, data = self.api.call(creds, "POST", "/me/calendar/getSchedule", body=body, headers=UTC_PREFERENCE,
                                timeout=timeout, max_wait=0)
        busy: list[BusyInterval] = []
        for schedule in (data or {}).get("value", []):
            if schedule.get("error"):
                raise CalendarUnavailable(f"getSchedule error: {schedule['error'].get('responseCode', '')}")
            for item in schedule.get("scheduleItems", []):
                if str(item.get("status", "")).lower() in BUSY_STATUSES:
                    busy.append(BusyInterval(parse_graph_time(item["start"]), parse_graph_time(item["end"])))
        return sorted(busy, key=lambda interval: interval.start)

    # -- the booking's event --------------------------------------------------------------------------------------
    @staticmethod
    def _event_body(booking: Booking) -> dict[str, Any]:
        lines = [booking.description] if booking.description else []
        if booking.meeting_url:
            lines.append(f"Join: {booking.meeting_url}")
        people = [f"{a.name} <{a.email}>" for a in booking.attendees] + list(booking.guests)
        people += [f"{h.name} <{h.email}>" for h in booking.hosts[1:]]
        if people:
            lines.append("Attendees: " + ", ".join(people))
        body: dict[str, Any] = {
            "subject": booking.title,
            "body": {"contentType": "text", "content": "\n\n".join(lines)},
            "start": graph_time(booking.start),
            "end": graph_time(booking.end),
            "showAs": "busy",
        }
        if booking.location and booking.location != booking.meeting_url:
            body["location"] = {"displayName": describe_location(booking.location)}
        return body

    @staticmethod
    def _ref(event: dict[str, Any], uid: str) -> EventRef:
        meeting = event.get("onlineMeeting") or {}
        return EventRef(external_id=event["id"], uid=uid, meeting_url=meeting.get("joinUrl") or None)

    def create_event(self, creds: Credentials, calendar_id: str, booking: Booking, uid: str,
                     sequence: int, online_meeting: bool = False) -> EventRef:
        body = self._event_body(booking)
        body["transactionId"] = hashlib.sha256(f"event:{uid}".encode()).hexdigest()[:32]
        if online_meeting:
            body.update(isOnlineMeeting=True, onlineMeetingProvider="teamsForBusiness")
        calendar = urllib.parse.quote(calendar_id, safe="")
        _, event = self.api.call(creds, "POST", f"/me/calendars/{calendar}/events", body=body)
        ref = self._ref(event or {}, uid)
        if online_meeting and ref.meeting_url is None:
            # Graph initialises onlineMeeting with the event; if it is not there yet, read it once more
            _, again = self.api.call(creds, "GET", f"/me/events/{urllib.parse.quote(ref.external_id, safe='')}",
                                     query={"$select": "id,iCalUId,onlineMeeting"})
            ref = self._ref(again or {"id": ref.external_id}, uid)
            if ref.meeting_url is None:
                raise CalendarUnavailable("the Teams meeting of the event is not ready yet")
        return ref

    def update_event(self, creds: Credentials, calendar_id: str, ref: EventRef, booking: Booking, uid: str,
                     sequence: int) -> EventRef:
        body = self._event_body(booking)
        _, event = self.api.call(creds, "PATCH", f"/me/events/{urllib.parse.quote(ref.external_id, safe='')}",
                                 body=body)
        return self._ref(event, uid) if isinstance(event, dict) and event.get("id") else ref

    def delete_event(self, creds: Credentials, calendar_id: str, ref: EventRef) -> None:
        self.api.call(creds, "DELETE", f"/me/events/{urllib.parse.quote(ref.external_id, safe='')}",
                      ok=(200, 204, 404, 410))
