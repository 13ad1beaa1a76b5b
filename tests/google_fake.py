"""A local fake of the Google Calendar v3 and OAuth token endpoints the adapter uses.

It checks request shapes against Google's documented formats (RFC 3339 times, freeBusy items, event bodies with
start.dateTime / end.dateTime and attendees[].email, Bearer tokens, the refresh_token grant; Meet conferences:
`conferenceData.createRequest` with a `requestId` and `conferenceSolutionKey.type: hangoutsMeet`, honoured only with
`conferenceDataVersion=1` as Google does) and answers like Google. A request that does not match is answered 400
with the reason, so a malformed call fails the test. Faults (401, 429 with Retry-After, 5xx) are injected through
`faults`.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fake_http import Faults

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _meet_code() -> str:
    """A Meet code as Google shows it: abc-defg-hij."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return "-".join("".join(secrets.choice(letters) for _ in range(n)) for n in (3, 4, 3))


class GoogleState:
    def __init__(self) -> None:
        self.valid_tokens = {"good-token"}
        self.refresh_tokens = {"refresh-1": "client-1"}
        self.calendars = [{"id": "primary-cal@example.com", "summary": "Work", "primary": True, "accessRole": "owner"},
                          {"id": "family@group.calendar.google.com", "summary": "Family", "accessRole": "reader"},
                          {"id": "side@group.calendar.google.com", "summary": "Side", "accessRole": "writer"}]
        self.busy: dict[str, list[dict[str, str]]] = {}
        self.events: dict[str, dict[str, dict[str, Any]]] = {}
        self.requests: list[dict[str, Any]] = []
        self.latency = 0.0
        self.fail_freebusy = False
        self.conferences: dict[str, str] = {}  # requestId -> conference id (a repeated request makes none)
        self.faults = Faults()
        self.lock = threading.Lock()


def make_handler(state: GoogleState) -> type[BaseHTTPRequestHandler]:
    class Fake(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _reply(self, status: int, body: Any = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _authorized(self) -> bool:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Bearer ") or header[7:] not in state.valid_tokens:
                self._reply(401, {"error": {"code": 401, "message": "Invalid Credentials"}})
                return False
            return True

        def _record(self, body: Any) -> None:
            entry = {"method": self.command, "path": self.path, "body": body, "start": time.perf_counter(),
                     "headers": dict(self.headers)}
            with state.lock:
                state.requests.append(entry)
            if state.latency:
                time.sleep(state.latency)
            entry["end"] = time.perf_counter()

        def _fault(self) -> bool:
            rule = state.faults.take(self.command, self.path)
            if rule is None:
                return False
            data = json.dumps(rule.body).encode() if rule.body is not None else b""
            self.send_response(rule.status)
            for key, value in rule.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return True

        def _conference(self, event: dict[str, Any], query: dict[str, str]) -> str | None:
            """Google's handling of conferenceData on insert / patch: a problem, or None."""
            data = event.get("conferenceData")
            if data is None:
                return None
            if query.get("conferenceDataVersion") != "1":
                event.pop("conferenceData")  # without conferenceDataVersion=1 Google ignores it
                return None
            request = data.get("createRequest") or {}
            solution = (request.get("conferenceSolutionKey") or {}).get("type")
            if not request.get("requestId") or solution != "hangoutsMeet":
                return "conferenceData.createRequest needs requestId and conferenceSolutionKey.type hangoutsMeet"
            with state.lock:
                conference_id = state.conferences.setdefault(request["requestId"], _meet_code())
            uri = f"https://meet.google.com/{conference_id}"
            event["conferenceData"] = {
                "createRequest": {**request, "status": {"statusCode": "success"}},
                "entryPoints": [{"entryPointType": "video", "uri": uri, "label": uri[8:]}],
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
                "conferenceId": conference_id,
            }
            event["hangoutLink"] = uri
            return None

        def do_POST(self) -> None:  # noqa: N802
            raw = self._body()
            parts = urllib.parse.urlsplit(self.path)
            if parts.path == "/token":
                form = dict(urllib.parse.parse_qsl(raw.decode()))
                self._record(form)
                if (self.headers.get("Content-Type") != "application/x-www-form-urlencoded"
                        or form.get("grant_type") != "refresh_token"
                        or state.refresh_tokens.get(form.get("refresh_token", "")) != form.get("client_id")
                        or not form.get("client_secret")):
                    return self._reply(400, {"error": "invalid_grant"})
                token = f"fresh-{len(state.valid_tokens)}"
                state.valid_tokens.add(token)
                return self._reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})
            body = json.loads(raw or b"null")
            self._record(body)
            if self._fault() or not self._authorized():
                return None
            if parts.path == "/calendar/v3/freeBusy":
                if state.fail_freebusy:
                    return self._reply(503, {"error": {"code": 503, "message": "backend error"}})
                if not (isinstance(body, dict) and RFC3339.match(body.get("timeMin", ""))
                        and RFC3339.match(body.get("timeMax", "")) and isinstance(body.get("items"), list)
                        and all("id" in item for item in body["items"])):
                    return self._reply(400, {"error": {"message": "bad freeBusy request"}})
                return self._reply(200, {"kind": "calendar#freeBusy", "timeMin": body["timeMin"],
                                         "timeMax": body["timeMax"],
                                         "calendars": {item["id"]: {"busy": state.busy.get(item["id"], [])}
                                                       for item in body["items"]}})
            match = re.fullmatch(r"/calendar/v3/calendars/([^/]+)/events", parts.path)
            if match:
                calendar = urllib.parse.unquote(match.group(1))
                problems = [f for f in ("summary", "start", "end", "iCalUID") if f not in body]
                if not RFC3339.match(body.get("start", {}).get("dateTime", "")) or not RFC3339.match(
                        body.get("end", {}).get("dateTime", "")):
                    problems.append("start/end dateTime")
                if any("email" not in attendee for attendee in body.get("attendees", [])):
                    problems.append("attendees[].email")
                event = {**body}
                problem = self._conference(event, dict(urllib.parse.parse_qsl(parts.query)))
                if problem:
                    problems.append(problem)
                if problems:
                    return self._reply(400, {"error": {"message": f"invalid event: {problems}"}})
                event_id = f"evt{len(state.events.get(calendar, {})) + 1}"
                state.events.setdefault(calendar, {})[event_id] = {**event, "id": event_id}
                return self._reply(200, state.events[calendar][event_id])
            return self._reply(404, {"error": {"message": "not found"}})

        def do_GET(self) -> None:  # noqa: N802
            parts = urllib.parse.urlsplit(self.path)
            self._record(None)
            if self._fault() or not self._authorized():
                return None
            if parts.path == "/calendar/v3/users/me/calendarList":
                return self._reply(200, {"kind": "calendar#calendarList", "items": state.calendars})
            match = re.fullmatch(r"/calendar/v3/calendars/([^/]+)/events", parts.path)
            if match:
                query = dict(urllib.parse.parse_qsl(parts.query))
                calendar = urllib.parse.unquote(match.group(1))
                items = [e for e in state.events.get(calendar, {}).values() if e.get("iCalUID") == query.get("iCalUID")]
                return self._reply(200, {"kind": "calendar#events", "items": items})
            return self._reply(404, {"error": {"message": "not found"}})

        def do_PATCH(self) -> None:  # noqa: N802
            body = json.loads(self._body() or b"null")
            self._record(body)
            if self._fault() or not self._authorized():
                return None
            parts = urllib.parse.urlsplit(self.path)
            match = re.fullmatch(r"/calendar/v3/calendars/([^/]+)/events/([^/]+)", parts.path)
            calendar, event_id = (urllib.parse.unquote(g) for g in match.groups()) if match else ("", "")
            event = state.events.get(calendar, {}).get(event_id)
            if event is None:
                return self._reply(404, {"error": {"message": "not found"}})
            if "conferenceData" not in body:
                event.update(body)  # a patch without conferenceData keeps the event's conference
                return self._reply(200, event)
            problem = self._conference(body, dict(urllib.parse.parse_qsl(parts.query)))
            if problem:
                return self._reply(400, {"error": {"message": problem}})
            event.update(body)
            return self._reply(200, event)

        def do_DELETE(self) -> None:  # noqa: N802
            self._record(None)
            if self._fault() or not self._authorized():
                return None
            match = re.fullmatch(r"/calendar/v3/calendars/([^/]+)/events/([^/]+)", urllib.parse.urlsplit(self.path).path)
            calendar, event_id = (urllib.parse.unquote(g) for g in match.groups()) if match else ("", "")
            if state.events.get(calendar, {}).pop(event_id, None) is None:
                return self._reply(410, {"error": {"message": "gone"}})
            return self._reply(204)

    return Fake


class FakeGoogle:
    def __init__(self) -> None:
        self.state = GoogleState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.state))
        self.server.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/calendar/v3"

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/token"

    def start(self) -> FakeGoogle:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
