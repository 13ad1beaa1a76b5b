"""CalDAV (RFC 4791): discovery, busy times, and the booking's event.

Discovery accepts a server, principal or calendar-home URL (or a calendar's own URL): it follows
current-user-principal and calendar-home-set, then lists the calendar collections that hold events. The primary
calendar is the principal's schedule-default-calendar-URL when the server names one, else the first calendar.
Busy times come from a calendar-query REPORT with a time-range filter and <C:expand>, so the server expands
recurring events; transparent and cancelled events do not count.

The server is whatever the user typed, so it is treated as hostile:
- every request goes through `booking_core.outbound.request` (the SSRF rules of `webhooks.ssrf`, checked afresh per
  request, the connection pinned to a vetted address, no redirects, no proxies, a deadline per request, bodies up to
  5 MiB);
- every URL the server hands back (hrefs) is resolved against the connection URL and must stay on its origin
  (scheme, host, port), and every request is checked for that origin again, including stored calendar and event URLs;
- XML is parsed with defusedxml with DTDs refused, so entity expansion (billion laughs) and external entities fail.
"""

from __future__ import annotations

import base64
import http.client
import re
import socket
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element  # the type only: parsing goes through defusedxml
from zoneinfo import ZoneInfo

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as _defused_fromstring

from booking_core import outbound
from booking_core.calendars.base import (
    BusyInterval,
    CalendarAuthError,
    CalendarError,
    CalendarInfo,
    CalendarUnavailable,
    Credentials,
    EventRef,
)
from booking_core.calendars.ical import busy_events
from booking_core.domain.bookings import Booking
from booking_core.ics import build_ics
from booking_core.webhooks.ssrf import UnsafeUrl, allow_private_targets

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
NAMESPACES = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"'
DEFAULT_TIMEOUT = 5.0
MAX_RESPONSE_BYTES = 5 * 1024 * 1024
MAX_DISCOVERY_HOPS = 3  # server URL -> principal -> ... : a server cannot keep one request walking forever


def parse_xml(data: bytes) -> Element:
    """A server's XML answer; DTDs (and so entity expansion and external entities) are refused."""
    try:
        return _defused_fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise CalendarError(f"the server sent XML this service does not parse ({type(exc).__name__})") from exc
    except ParseError as exc:
        raise CalendarError("the server sent malformed XML") from exc


def _origin(url: str) -> tuple[str, str, int]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise CalendarError("malformed URL") from exc
    return scheme, (parts.hostname or "").lower().rstrip("."), port


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


class CalDAVProvider:
    name = "caldav"
    max_busy_days: int | None = None

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, allow_private: bool | None = None,
                 resolve: Callable[..., list[Any]] = socket.getaddrinfo) -> None:
        self.timeout = timeout
        self._allow_private = allow_private  # None: the deployment's setting (webhooks.ssrf.allow_private_targets)
        self._resolve = resolve

    # -- HTTP -----------------------------------------------------------------------------------------------------
    @staticmethod
    def _same_origin(creds: Credentials, url: str) -> str:
        """`url`, if it is on the connection URL's origin; a server cannot send us (with its password) elsewhere."""
        if _origin(url) != _origin(creds.values["url"]):
            raise CalendarError("the server pointed to a URL on another origin")
        return url

    def _request(self, creds: Credentials, method: str, url: str, body: str | None = None,
                 headers: dict[str, str] | None = None, timeout: float | None = None,
                 ok: tuple[int, ...] = (200, 201, 204, 207)) -> tuple[int, bytes, dict[str, str]]:
        self._same_origin(creds, url)
        token = base64.b64encode(f"{creds.values['username']}:{creds.values['password']}".encode()).decode()
        allow_private = allow_private_targets() if self._allow_private is None else self._allow_private
        try:
            response = outbound.request(
                method, url, body=body.encode() if body is not None else None,
                headers={"Authorization": f"Basic {token}", "Content-Type": "application/xml; charset=utf-8",
                         **(headers or {})},
                timeout=timeout or self.timeout, allow_private=allow_private, max_body=MAX_RESPONSE_BYTES,
                resolve=self._resolve)
        except UnsafeUrl as exc:
            raise CalendarError(f"refused server address: {exc.reason}") from exc
        except outbound.ResponseTooLarge as exc:
            raise CalendarError(f"{method} answer larger than {MAX_RESPONSE_BYTES} bytes") from exc
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            raise CalendarUnavailable(f"{method} could not reach the server: {type(exc).__name__}") from exc
        status = response.status
        if 200 <= status < 300 or status in ok:
            return status, response.body, response.headers
        if status in (401, 403):
            raise CalendarAuthError(f"{method} refused with {status}")
        if status >= 500:
            raise CalendarUnavailable(f"{method} failed with {status}")
        if 300 <= status < 400:
            raise CalendarError(f"{method} was redirected ({status}); redirects are not followed")
        raise CalendarError(f"{method} {urllib.parse.urlsplit(url).path} failed with {status}")

    def _propfind(self, creds: Credentials, url: str, props: str, depth: str) -> Element:
        body = f'<?xml version="1.0" encoding="utf-8"?><D:propfind {NAMESPACES}><D:prop>{props}</D:prop></D:propfind>'
        _, data, _ = self._request(creds, "PROPFIND", url, body, {"Depth": depth})
        return parse_xml(data)

    def _href(self, creds: Credentials, url: str, href: str) -> str:
        return self._same_origin(creds, urllib.parse.urljoin(url, href))

    # -- discovery ------------------------------------------------------------------------------------------------
    def _home(self, creds: Credentials, url: str, hops: int = 0) -> tuple[str, str | None]:
        """(calendar home URL, default calendar URL if the server names one)."""
        props = ("<D:current-user-principal/><C:calendar-home-set/><D:resourcetype/>"
                 "<C:schedule-default-calendar-URL/>")
        tree = self._propfind(creds, url, props, "0")
        home = tree.find(f".//{CALDAV}calendar-home-set/{DAV}href")
        if home is not None and home.text:
            default = tree.find(f".//{CALDAV}schedule-default-calendar-URL/{DAV}href")
            default_url = self._href(creds, url, default.text) if default is not None and default.text else None
            return self._href(creds, url, home.text), default_url
        principal = tree.find(f".//{DAV}current-user-principal/{DAV}href")
        if principal is not None and principal.text:
            principal_url = self._href(creds, url, principal.text)
            if principal_url.rstrip("/") != url.rstrip("/"):
                if hops >= MAX_DISCOVERY_HOPS:
                    raise CalendarError("the server kept pointing to other principals")
                return self._home(creds, principal_url, hops + 1)
        if tree.find(f".//{DAV}resourcetype/{CALDAV}calendar") is not None:
            return url, url  # the URL is a calendar itself
        raise CalendarError("no calendar home found at that URL")

    def list_calendars(self, creds: Credentials) -> list[CalendarInfo]:
        home, default = self._home(creds, creds.values["url"])
        props = "<D:resourcetype/><D:displayname/><C:supported-calendar-component-set/>"
        tree = self._propfind(creds, home, props, "1")
        found: list[tuple[str, str]] = []
        for response in tree.findall(f"{DAV}response"):
            href = response.findtext(f"{DAV}href")
            if not href or response.find(f".//{DAV}resourcetype/{CALDAV}calendar") is None:
                continue
            components = [c.get("name") for c in response.findall(f".//{CALDAV}supported-calendar-component-set/{CALDAV}comp")]
            if components and "VEVENT" not in components:
                continue
            url = self._href(creds, home, href)
            found.append((url, response.findtext(f".//{DAV}displayname") or href.rstrip("/").rsplit("/", 1)[-1]))
        if not found and default:
            found.append((default, default.rstrip("/").rsplit("/", 1)[-1]))
        found.sort()
        primary = default if default in {url for url, _ in found} else (found[0][0] if found else None)
        return [CalendarInfo(external_id=url, name=name, primary=url == primary) for url, name in found]

    # -- busy times -----------------------------------------------------------------------------------------------
    def busy_times(self, creds: Credentials, calendar_ids: list[str], start: datetime, end: datetime,
                   timeout: float = DEFAULT_TIMEOUT, owners: dict[str, str] | None = None) -> list[BusyInterval]:
        body = (f'<?xml version="1.0" encoding="utf-8"?><C:calendar-query {NAMESPACES}>'
                f'<D:prop><C:calendar-data><C:expand start="{_stamp(start)}" end="{_stamp(end)}"/></C:calendar-data>'
                f'</D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
                f'<C:time-range start="{_stamp(start)}" end="{_stamp(end)}"/></C:comp-filter></C:comp-filter>'
                f'</C:filter></C:calendar-query>')
        busy: list[BusyInterval] = []
        for calendar in calendar_ids:
            _, data, _ = self._request(creds, "REPORT", calendar, body, {"Depth": "1"}, timeout=timeout)
            for node in parse_xml(data).iter(f"{CALDAV}calendar-data"):
                for event_start, event_end in busy_events(node.text or "", ZoneInfo("UTC")):
                    if event_end > start and event_start < end:
                        busy.append(BusyInterval(event_start, event_end))
        return sorted(busy, key=lambda interval: interval.start)

    # -- the booking's event --------------------------------------------------------------------------------------
    @staticmethod
    def _event_url(calendar_id: str, uid: str) -> str:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", uid)
        return calendar_id.rstrip("/") + f"/{safe}.ics"

    def _put(self, creds: Credentials, url: str, booking: Booking, uid: str, sequence: int,
             headers: dict[str, str]) -> int:
        body = build_ics(booking, method=None, sequence=sequence, uid=uid)
        status, _, _ = self._request(creds, "PUT", url, body, {"Content-Type": "text/calendar; charset=utf-8",
                                                                **headers}, ok=(200, 201, 204, 412))
        return status

    def create_event(self, creds: Credentials, calendar_id: str, booking: Booking, uid: str,
                     sequence: int, online_meeting: bool = False) -> EventRef:
        """PUT <uid>.ics with If-None-Match: * ; if it exists already (a redelivered event), it is updated. CalDAV has
        no meetings of its own (`online_meeting` is never asked of it)."""
        url = self._event_url(calendar_id, uid)
        if self._put(creds, url, booking, uid, sequence, {"If-None-Match": "*"}) == 412:
            self._put(creds, url, booking, uid, sequence, {})
        return EventRef(external_id=url, uid=uid)

    def update_event(self, creds: Credentials, calendar_id: str, ref: EventRef, booking: Booking, uid: str,
                     sequence: int) -> EventRef:
        self._put(creds, ref.external_id, booking, uid, sequence, {})
        return EventRef(external_id=ref.external_id, uid=uid)

    def delete_event(self, creds: Credentials, calendar_id: str, ref: EventRef) -> None:
        self._request(creds, "DELETE", ref.external_id, ok=(200, 204, 404, 410))
