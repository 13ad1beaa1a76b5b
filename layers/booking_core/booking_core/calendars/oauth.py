"""JSON APIs behind OAuth 2.0 bearer tokens (Google Calendar, Microsoft Graph, Zoom): one request helper for all.

- The access token is refreshed when it is about to expire (60 s margin) and once after a 401. A refresh is stored
  the moment it happens (`Credentials.on_change`): Microsoft and Zoom rotate refresh tokens.
- Throttling (429) and 503 honour `Retry-After` within a bound: a wait of at most `max_wait` seconds (the whole
  request's budget, never more) is slept once and the request sent again; a longer wait, or a second refusal,
  raises CalendarUnavailable with `retry_after`, so the caller's queue retries later instead of a Lambda sleeping.
  Calls on the booking path pass `max_wait=0`: they never sleep.
- Other 5xx and network failures: CalendarUnavailable. 401/403 after a refresh: CalendarAuthError. Other 4xx:
  CalendarError with the provider's message.
- Base URLs come from the deployment (environment variables named by each provider), never from users or
  providers: a URL a provider answers with (a next-page link) is followed only when it is under the configured base.
- Transport: `booking_core.outbound` (one deadline per request, no redirects, no proxy from the environment).
"""

from __future__ import annotations

import base64
import email.utils
import http.client
import json
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from booking_core import clock
from booking_core.calendars.base import CalendarAuthError, CalendarError, CalendarUnavailable, Credentials
from booking_core.outbound import ResponseTooLarge, configured, send
from booking_core.timeutil import parse_instant

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_WAIT = 3.0
REFRESH_MARGIN_SECONDS = 60


@dataclass(frozen=True, slots=True)
class TokenEndpoint:
    url: str
    basic_auth: bool = False  # Zoom: client id and secret as HTTP Basic; Google, Microsoft: in the form
    scope: str | None = None  # Microsoft's token endpoint takes the scopes again on refresh


def expires_at(values: dict[str, Any]) -> float:
    """`expiresAt` as epoch seconds: seconds or milliseconds since the epoch, or an ISO instant."""
    expires = values.get("expiresAt")
    if expires is None:
        return 0.0
    if isinstance(expires, (int, float)):
        return float(expires) / (1000 if expires > 10**11 else 1)
    return parse_instant(str(expires)).timestamp()


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP-date (RFC 9110 section 10.2.3); None when absent or bad."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (clock.epoch_seconds() if now is None else now))


def _json(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _throttled(status: int, data: Any) -> bool:
    """429, or Google's 403 whose reason is a rate limit (usageLimits: rateLimitExceeded, userRateLimitExceeded)."""
    if status == 429:
        return True
    if status != 403 or not isinstance(data, dict) or not isinstance(data.get("error"), dict):
        return False
    reasons = [e.get("reason", "") for e in data["error"].get("errors", []) if isinstance(e, dict)]
    return any(str(reason).endswith("RateLimitExceeded") or reason == "rateLimitExceeded" for reason in reasons)


def _message(data: Any) -> str:
    """The provider's error message (Google / Graph: error.message; Zoom: message; OAuth: error_description)."""
    if not isinstance(data, dict):
        return ""
    error = data.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or "")[:200]
    return str(data.get("message") or data.get("error_description") or error or "")[:200]


class OAuthApi:
    def __init__(self, name: str, base_url: str, token: TokenEndpoint, timeout: float = DEFAULT_TIMEOUT,
                 max_wait: float = DEFAULT_MAX_WAIT) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.max_wait = max_wait

    # -- transport ------------------------------------------------------------------------------------------------
    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str],
              timeout: float) -> tuple[int, dict[str, str], Any]:
        try:
            response = send(method, configured(url), body=body, headers=headers, timeout=timeout)
        except (OSError, http.client.HTTPException, ResponseTooLarge) as exc:
            raise CalendarUnavailable(f"{self.name} could not be reached: {type(exc).__name__}") from exc
        return response.status, response.headers, _json(response.body)

    def refresh(self, creds: Credentials) -> None:
        values = creds.values
        form: dict[str, str] = {"grant_type": "refresh_token", "refresh_token": str(values.get("refreshToken", ""))}
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if self.token.basic_auth:
            pair = f"{values.get('clientId', '')}:{values.get('clientSecret', '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            form.update(client_id=str(values.get("clientId", "")), client_secret=str(values.get("clientSecret", "")))
        if self.token.scope:
            form["scope"] = self.token.scope
        status, _, data = self._send("POST", self.token.url, urllib.parse.urlencode(form).encode(), headers,
                                     self.timeout)
        if status == 429 or status >= 500:
            raise CalendarUnavailable(f"{self.name} token endpoint failed ({status})")
        if status != 200 or not isinstance(data, dict) or not data.get("access_token"):
            raise CalendarAuthError(f"{self.name} refused the token refresh ({status}) {_message(data)}".strip())
        fresh: dict[str, Any] = {"accessToken": data["access_token"],
                                 "expiresAt": int(clock.epoch_seconds()) + int(data.get("expires_in") or 3600)}
        if data.get("refresh_token"):
            fresh["refreshToken"] = data["refresh_token"]  # rotated: the old one may no longer work
        creds.update(**fresh)

    def url(self, path: str, query: dict[str, str] | None = None) -> str:
        if path.startswith(("http://", "https://")):
            if not path.startswith(self.base_url + "/"):
                raise CalendarError(f"{self.name} answered with a link outside its API")
            url = path
        else:
            url = self.base_url + path
        return url + (("&" if "?" in url else "?") + urllib.parse.urlencode(query) if query else "")

    def call(self, creds: Credentials, method: str, path: str, *, body: Any = None,
             query: dict[str, str] | None = None, headers: dict[str, str] | None = None,
             timeout: float | None = None, max_wait: float | None = None,
             ok: tuple[int, ...] = (200, 201, 204)) -> tuple[int, Any]:
        """(status, parsed JSON body) of a call whose status is in `ok`; raises the errors described above."""
        if expires_at(creds.values) <= clock.epoch_seconds() + REFRESH_MARGIN_SECONDS:
            self.refresh(creds)
        url = self.url(path, query)
        payload = json.dumps(body).encode() if body is not None else None
        budget = self.max_wait if max_wait is None else max_wait
        refreshed = waited = False
        while True:
            request_headers = {"Authorization": f"Bearer {creds.values.get('accessToken', '')}",
                               "Accept": "application/json", **(headers or {})}
            if payload is not None:
                request_headers["Content-Type"] = "application/json"
            status, response_headers, data = self._send(method, url, payload, request_headers,
                                                        timeout or self.timeout)
            if status in ok:
                return status, data
            if status == 401 and not refreshed:
                refreshed = True
                self.refresh(creds)  # revoked or expired early: refresh once and try again
                continue
            throttled = _throttled(status, data)
            if status in (401, 403) and not throttled:
                raise CalendarAuthError(f"{self.name} refused {method} ({status}) {_message(data)}".strip())
            if throttled or status >= 500:
                wait = retry_after_seconds(response_headers.get("retry-after"))
                if (throttled or status == 503) and not waited and wait is not None and wait <= budget:
                    waited = True
                    time.sleep(wait)
                    continue
                raise CalendarUnavailable(f"{self.name} failed {method} ({status})", retry_after=wait)
            raise CalendarError(f"{self.name} refused {method} ({status}) {_message(data)}".strip())


__all__ = ["OAuthApi", "TokenEndpoint", "expires_at", "retry_after_seconds"]
