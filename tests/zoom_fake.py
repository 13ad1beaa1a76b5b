"""A local fake of Zoom's REST API v2 (meetings, users/me) and its OAuth token endpoint, as Zoom's public
documentation describes them.

It checks what Zoom checks: a Bearer token (else 401 code 124), JSON bodies with Content-Type, a scheduled
meeting's (type 2) `start_time` in `yyyy-MM-ddTHH:mm:ssZ` and integer `duration`, `topic` at most 200 characters;
the token endpoint wants the client id and secret as HTTP Basic, a form body with the refresh_token grant, and it
rotates refresh tokens (the one used stops working). Answers: 201 with `id`, `join_url`... on create, 204 on
update and delete, 404 code 3001 for an unknown meeting. Faults (401, 429 with Retry-After, 5xx) are injected
through `faults`.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
import urllib.parse
from typing import Any

from tests.fake_http import FakeHandler, FakeServer, Faults

ZOOM_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class ZoomState:
    def __init__(self) -> None:
        self.client_id, self.client_secret = "zoom-client", "zoom-secret"
        self.valid_tokens = {"zoom-good-token"}
        self.refresh_tokens = {"zoom-refresh-1"}
        self.meetings: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.faults = Faults()
        self.lock = threading.Lock()


def make_handler(state: ZoomState) -> type[FakeHandler]:
    class Zoom(FakeHandler):
        def _authorized(self) -> bool:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Bearer ") or header[7:] not in state.valid_tokens:
                self.reply(401, {"code": 124, "message": "Invalid access token."})
                return False
            return True

        def _path(self) -> str:
            return urllib.parse.urlsplit(self.path).path

        def _token(self) -> None:
            form = dict(urllib.parse.parse_qsl(self.raw_body().decode()))
            self.record(form)
            if self.fault():
                return
            expected = "Basic " + base64.b64encode(f"{state.client_id}:{state.client_secret}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self.reply(401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"})
            if (self.headers.get("Content-Type") or "").split(";")[0] != "application/x-www-form-urlencoded" \
                    or form.get("grant_type") != "refresh_token":
                return self.reply(400, {"reason": "Unsupported grant type", "error": "unsupported_grant_type"})
            with state.lock:
                if form.get("refresh_token") not in state.refresh_tokens:
                    return self.reply(400, {"reason": "Invalid Token!", "error": "invalid_request"})
                state.refresh_tokens.discard(form["refresh_token"])  # rotated: the used one stops working
                token, rotated = f"zoom-fresh-{secrets.token_hex(4)}", f"zoom-refresh-{secrets.token_hex(4)}"
                state.valid_tokens.add(token)
                state.refresh_tokens.add(rotated)
            return self.reply(200, {"access_token": token, "token_type": "bearer", "refresh_token": rotated,
                                    "expires_in": 3599, "scope": "meeting:write meeting:read user:read"})

        @staticmethod
        def _meeting_problems(body: Any, creating: bool) -> list[str]:
            if not isinstance(body, dict):
                return ["a JSON object is expected"]
            problems = []
            if creating and not isinstance(body.get("topic"), str):
                problems.append("topic is required")
            if "topic" in body and len(str(body["topic"])) > 200:
                problems.append("topic is longer than 200 characters")
            if "type" in body and body["type"] not in (1, 2, 3, 8):
                problems.append("type must be 1, 2, 3 or 8")
            if (creating and body.get("type") == 2) or "start_time" in body:
                if not ZOOM_TIME.match(str(body.get("start_time", ""))):
                    problems.append("start_time must be yyyy-MM-ddTHH:mm:ssZ")
            if "duration" in body and (not isinstance(body["duration"], int) or body["duration"] <= 0):
                problems.append("duration must be a positive integer (minutes)")
            if "agenda" in body and len(str(body["agenda"])) > 2000:
                problems.append("agenda is longer than 2000 characters")
            return problems

        def do_GET(self) -> None:  # noqa: N802
            self.record(None)
            if self.fault() or not self._authorized():
                return None
            if self._path() == "/v2/users/me":
                return self.reply(200, {"id": "KDcuGIm1QgePTO8WbOqwIQ", "email": "host@zoom.example",
                                        "type": 2, "status": "active"})
            match = re.fullmatch(r"/v2/meetings/(\d+)", self._path())
            if match and match.group(1) in state.meetings:
                return self.reply(200, state.meetings[match.group(1)])
            return self.reply(404, {"code": 3001, "message": "Meeting does not exist."})

        def do_POST(self) -> None:  # noqa: N802
            if self._path() == "/oauth/token":
                return self._token()
            body, problem = self.json_body()
            self.record(body)
            if self.fault() or not self._authorized():
                return None
            if self._path() != "/v2/users/me/meetings":
                return self.reply(404, {"code": 404, "message": "Not found"})
            problems = [problem] if problem else self._meeting_problems(body, creating=True)
            if problems:
                return self.reply(400, {"code": 300, "message": "; ".join(problems)})
            meeting_id = str(80000000000 + secrets.randbelow(9999999999))
            password = secrets.token_urlsafe(8)
            meeting = {**body, "id": int(meeting_id), "uuid": secrets.token_urlsafe(16),
                       "host_id": "KDcuGIm1QgePTO8WbOqwIQ", "password": password,
                       "join_url": f"https://us05web.zoom.us/j/{meeting_id}?pwd={password}",
                       "start_url": f"https://us05web.zoom.us/s/{meeting_id}?zak=secret"}
            with state.lock:
                state.meetings[meeting_id] = meeting
            return self.reply(201, meeting)

        def do_PATCH(self) -> None:  # noqa: N802
            body, problem = self.json_body()
            self.record(body)
            if self.fault() or not self._authorized():
                return None
            match = re.fullmatch(r"/v2/meetings/(\d+)", self._path())
            meeting = state.meetings.get(match.group(1)) if match else None
            if meeting is None:
                return self.reply(404, {"code": 3001, "message": "Meeting does not exist."})
            problems = [problem] if problem else self._meeting_problems(body, creating=False)
            if problems:
                return self.reply(400, {"code": 300, "message": "; ".join(problems)})
            meeting.update(body)
            return self.reply(204)

        def do_DELETE(self) -> None:  # noqa: N802
            self.record(None)
            if self.fault() or not self._authorized():
                return None
            match = re.fullmatch(r"/v2/meetings/(\d+)", self._path())
            if not match or state.meetings.pop(match.group(1), None) is None:
                return self.reply(404, {"code": 3001, "message": "Meeting does not exist."})
            return self.reply(204)

    Zoom.state = state
    return Zoom


class FakeZoom:
    def __init__(self) -> None:
        self.state = ZoomState()
        self._server = FakeServer(make_handler(self.state))

    @property
    def base_url(self) -> str:
        return f"{self._server.origin}/v2"

    @property
    def token_url(self) -> str:
        return f"{self._server.origin}/oauth/token"

    def start(self) -> FakeZoom:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
