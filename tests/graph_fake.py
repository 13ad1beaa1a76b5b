"""A local fake of the Microsoft Graph v1.0 calendar endpoints and the Microsoft identity platform's v2.0 token
endpoint, as their public documentation describes them.

It checks what Graph checks (a Bearer token, JSON bodies with Content-Type, dateTimeTimeZone values without an
offset, getSchedule's schedules / startTime / endTime and its window under 42 days, an event's subject / start /
end, onlineMeetingProvider values, the refresh_token grant's form fields) and answers in Graph's shapes: `value`
collections with `@odata.nextLink` paging, events with `id`, `iCalUId` and `onlineMeeting.joinUrl`, errors as
`{"error": {"code", "message"}}`, 201 on create, 204 on delete. `transactionId` makes a retried create return the
first event, as Graph does. Faults (401, 429 with Retry-After, 5xx) are injected through `faults`.
"""

from __future__ import annotations

import re
import secrets
import threading
import urllib.parse
from datetime import datetime, timedelta
from typing import Any

from tests.fake_http import FakeHandler, FakeServer, Faults

GRAPH_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {"request-id": secrets.token_hex(8)}}}


class GraphState:
    def __init__(self) -> None:
        self.client_id = "ms-client"
        self.valid_tokens = {"ms-good-token"}
        self.refresh_tokens = {"ms-refresh-1"}
        self.mailbox = "host@contoso.example"
        self.calendars: list[dict[str, Any]] = [
            {"id": "AAMkCalendarWork=", "name": "Calendar", "isDefaultCalendar": True, "canEdit": True,
             "owner": {"name": "Host", "address": self.mailbox}},
            {"id": "AAMkCalendarSide=", "name": "Side projects", "isDefaultCalendar": False, "canEdit": True,
             "owner": {"name": "Host", "address": self.mailbox}},
            {"id": "AAMkCalendarTeam=", "name": "Team (shared)", "isDefaultCalendar": False, "canEdit": False,
             "owner": {"name": "Colleague", "address": "colleague@contoso.example"}},
        ]
        self.page_size = 2  # a small page, so listing has to follow @odata.nextLink
        self.next_link_origin: str | None = None  # where next links point (None: this server)
        self.schedule: dict[str, list[dict[str, Any]]] = {}  # mailbox -> scheduleItems (UTC)
        self.events: dict[str, dict[str, Any]] = {}  # id -> event (with "calendarId")
        self.transactions: dict[str, str] = {}  # transactionId -> event id
        self.online_meeting_later = False  # create answers onlineMeeting null; a GET then has it
        self.requests: list[dict[str, Any]] = []
        self.faults = Faults()
        self.lock = threading.Lock()


def make_handler(state: GraphState) -> type[FakeHandler]:
    class Graph(FakeHandler):
        def _authorized(self) -> bool:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Bearer ") or header[7:] not in state.valid_tokens:
                self.reply(401, _error("InvalidAuthenticationToken", "Access token has expired or is not yet valid."))
                return False
            return True

        def _route(self) -> tuple[str, dict[str, str]]:
            parts = urllib.parse.urlsplit(self.path)
            return parts.path, dict(urllib.parse.parse_qsl(parts.query))

        # -- token --------------------------------------------------------------------------------------------
        def _token(self) -> None:
            raw = self.raw_body().decode()
            form = dict(urllib.parse.parse_qsl(raw))
            self.record(form)
            if self.fault():
                return
            if (self.headers.get("Content-Type") or "").split(";")[0] != "application/x-www-form-urlencoded":
                return self.reply(400, {"error": "invalid_request", "error_description": "AADSTS900144: form expected"})
            if form.get("grant_type") != "refresh_token" or not form.get("client_secret") \
                    or form.get("client_id") != state.client_id or "offline_access" not in form.get("scope", ""):
                return self.reply(400, {"error": "invalid_request",
                                        "error_description": "AADSTS90014: a required field is missing"})
            if form.get("refresh_token") not in state.refresh_tokens:
                return self.reply(400, {"error": "invalid_grant",
                                        "error_description": "AADSTS70000: the provided grant is invalid"})
            token = f"ms-fresh-{secrets.token_hex(4)}"
            rotated = f"ms-refresh-{secrets.token_hex(4)}"
            with state.lock:
                state.valid_tokens.add(token)
                state.refresh_tokens.add(rotated)  # Microsoft's earlier refresh tokens stay valid until they expire
            return self.reply(200, {"token_type": "Bearer", "scope": form["scope"], "expires_in": 3599,
                                    "ext_expires_in": 3599, "access_token": token, "refresh_token": rotated})

        # -- Graph --------------------------------------------------------------------------------------------
        def do_GET(self) -> None:  # noqa: N802
            self.record(None)
            if self.fault() or not self._authorized():
                return None
            path, query = self._route()
            if path == "/v1.0/me/calendars":
                skip = int(query.get("$skip", "0"))
                top = min(int(query.get("$top", "10")), state.page_size)
                page = state.calendars[skip:skip + top]
                body: dict[str, Any] = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#me/calendars",
                                        "value": page}
                if skip + top < len(state.calendars):
                    next_query = urllib.parse.urlencode({**query, "$skip": str(skip + top)})
                    origin = state.next_link_origin or f"http://{self.headers.get('Host')}"
                    body["@odata.nextLink"] = f"{origin}/v1.0/me/calendars?{next_query}"
                return self.reply(200, body)
            match = re.fullmatch(r"/v1\.0/me/events/([^/]+)", path)
            if match:
                event = state.events.get(urllib.parse.unquote(match.group(1)))
                if event is None:
                    return self.reply(404, _error("ErrorItemNotFound", "The specified object was not found."))
                if event.get("isOnlineMeeting") and event.get("onlineMeeting") is None:
                    event["onlineMeeting"] = {"joinUrl": self._join_url(event["id"])}
                return self.reply(200, event)
            return self.reply(404, _error("ResourceNotFound", "Resource not found for the segment."))

        def do_POST(self) -> None:  # noqa: N802
            path, _ = self._route()
            if path == "/common/oauth2/v2.0/token":
                return self._token()
            body, problem = self.json_body()
            self.record(body)
            if self.fault() or not self._authorized():
                return None
            if problem:
                return self.reply(400, _error("BadRequest", problem))
            if path == "/v1.0/me/calendar/getSchedule":
                return self._get_schedule(body)
            match = re.fullmatch(r"/v1\.0/me/calendars/([^/]+)/events", path)
            if match:
                return self._create_event(urllib.parse.unquote(match.group(1)), body)
            return self.reply(404, _error("ResourceNotFound", "Resource not found for the segment."))

        def do_PATCH(self) -> None:  # noqa: N802
            body, problem = self.json_body()
            self.record(body)
            if self.fault() or not self._authorized():
                return None
            if problem or not isinstance(body, dict):
                return self.reply(400, _error("BadRequest", problem or "a JSON object is expected"))
            path, _ = self._route()
            match = re.fullmatch(r"/v1\.0/me/events/([^/]+)", path)
            event = state.events.get(urllib.parse.unquote(match.group(1))) if match else None
            if event is None:
                return self.reply(404, _error("ErrorItemNotFound", "The specified object was not found."))
            problems = self._event_problems(body, required=())
            if problems:
                return self.reply(400, _error("ErrorInvalidRequest", "; ".join(problems)))
            for read_only in ("id", "iCalUId", "onlineMeeting"):
                body.pop(read_only, None)
            event.update(body)
            return self.reply(200, event)

        def do_DELETE(self) -> None:  # noqa: N802
            self.record(None)
            if self.fault() or not self._authorized():
                return None
            path, _ = self._route()
            match = re.fullmatch(r"/v1\.0/me/events/([^/]+)", path)
            if not match or state.events.pop(urllib.parse.unquote(match.group(1)), None) is None:
                return self.reply(404, _error("ErrorItemNotFound", "The specified object was not found."))
            return self.reply(204)

        # -- the endpoints ------------------------------------------------------------------------------------
        def _get_schedule(self, body: Any) -> None:
            problems = []
            schedules = body.get("schedules") if isinstance(body, dict) else None
            if not isinstance(schedules, list) or not schedules or len(schedules) > 100 \
                    or not all(isinstance(s, str) and EMAIL.match(s) for s in schedules):
                problems.append("schedules must be 1..100 SMTP addresses")
            times = []
            for name in ("startTime", "endTime"):
                value = body.get(name) if isinstance(body, dict) else None
                if not isinstance(value, dict) or not GRAPH_TIME.match(str(value.get("dateTime", ""))) \
                        or value.get("timeZone") != "UTC":
                    problems.append(f"{name} must be a dateTimeTimeZone")
                else:
                    times.append(datetime.fromisoformat(value["dateTime"][:19]))
            if len(times) == 2 and not (times[0] < times[1] < times[0] + timedelta(days=42)):
                problems.append("the time window must be positive and shorter than 42 days")
            interval = body.get("availabilityViewInterval", 30) if isinstance(body, dict) else 30
            if not isinstance(interval, int) or not 5 <= interval <= 1440:
                problems.append("availabilityViewInterval must be 5..1440")
            if problems:
                return self.reply(400, _error("ErrorInvalidParameter", "; ".join(problems)))
            if self.headers.get("Prefer") != 'outlook.timezone="UTC"':
                return self.reply(400, _error("ErrorInvalidParameter", "this fake answers in UTC only"))
            value = []
            for address in schedules:
                if address not in state.schedule and address != state.mailbox:
                    value.append({"scheduleId": address, "error": {
                        "message": "The user's mailbox was not found.", "responseCode": "ErrorMailRecipientNotFound"}})
                    continue
                items = [item for item in state.schedule.get(address, [])
                         if datetime.fromisoformat(item["start"]["dateTime"][:19]) < times[1]
                         and datetime.fromisoformat(item["end"]["dateTime"][:19]) > times[0]]
                value.append({"scheduleId": address, "availabilityView": "0" * 8, "scheduleItems": items,
                              "workingHours": {"daysOfWeek": ["monday"], "startTime": "08:00:00.0000000",
                                               "endTime": "17:00:00.0000000", "timeZone": {"name": "UTC"}}})
            return self.reply(200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection"
                                                      "(microsoft.graph.scheduleInformation)", "value": value})

        @staticmethod
        def _event_problems(body: dict[str, Any], required: tuple[str, ...]) -> list[str]:
            problems = [f"{name} is required" for name in required if name not in body]
            for name in ("start", "end"):
                if name in body and (not isinstance(body[name], dict)
                                     or not GRAPH_TIME.match(str(body[name].get("dateTime", "")))
                                     or not body[name].get("timeZone")):
                    problems.append(f"{name} must be a dateTimeTimeZone without an offset")
            if "body" in body and body["body"].get("contentType") not in ("text", "html"):
                problems.append("body.contentType must be text or html")
            for attendee in body.get("attendees", []):
                if not EMAIL.match(str((attendee.get("emailAddress") or {}).get("address", ""))):
                    problems.append("attendees[].emailAddress.address is required")
            if body.get("isOnlineMeeting") and body.get("onlineMeetingProvider") not in (
                    "teamsForBusiness", "skypeForBusiness", "skypeForConsumer"):
                problems.append("onlineMeetingProvider is not a known provider")
            return problems

        def _join_url(self, event_id: str) -> str:
            thread = urllib.parse.quote(f"19:meeting_{event_id[-12:]}@thread.v2", safe="")
            return f"https://teams.microsoft.com/l/meetup-join/{thread}/0?context=%7b%22Tid%22%3a%22t%22%7d"

        def _create_event(self, calendar_id: str, body: Any) -> None:
            if calendar_id not in {c["id"] for c in state.calendars}:
                return self.reply(404, _error("ErrorItemNotFound", "The specified calendar was not found."))
            if not isinstance(body, dict):
                return self.reply(400, _error("BadRequest", "a JSON object is expected"))
            problems = self._event_problems(body, required=("subject", "start", "end"))
            if problems:
                return self.reply(400, _error("ErrorInvalidRequest", "; ".join(problems)))
            with state.lock:
                existing = state.transactions.get(body.get("transactionId") or "")
                if existing and existing in state.events:
                    return self.reply(201, state.events[existing])
                event_id = f"AAMkEvent{secrets.token_hex(6)}="
                event = {**body, "id": event_id, "calendarId": calendar_id,
                         "iCalUId": "040000008200E00074C5B7101A82E008" + secrets.token_hex(16).upper(),
                         "webLink": f"https://outlook.office365.com/owa/?itemid={event_id}",
                         "onlineMeeting": None}
                if body.get("isOnlineMeeting") and not state.online_meeting_later:
                    event["onlineMeeting"] = {"joinUrl": self._join_url(event_id)}
                state.events[event_id] = event
                if body.get("transactionId"):
                    state.transactions[body["transactionId"]] = event_id
            return self.reply(201, event)

    Graph.state = state
    return Graph


class FakeGraph:
    def __init__(self) -> None:
        self.state = GraphState()
        self._server = FakeServer(make_handler(self.state))

    @property
    def base_url(self) -> str:
        return f"{self._server.origin}/v1.0"

    @property
    def token_url(self) -> str:
        return f"{self._server.origin}/common/oauth2/v2.0/token"

    def start(self) -> FakeGraph:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def busy(self, mailbox: str, start: str, end: str, status: str = "busy") -> None:
        """A scheduleItem for `mailbox` (times as Graph writes them: UTC wall time, 7 fraction digits)."""
        self.state.schedule.setdefault(mailbox, []).append({
            "isPrivate": False, "status": status, "subject": "Busy", "location": "",
            "start": {"dateTime": f"{start}.0000000", "timeZone": "UTC"},
            "end": {"dateTime": f"{end}.0000000", "timeZone": "UTC"}})
