"""Connected calendars through the API and the event path: busy time blocks slots and bookings, a failing provider
does not, and calendar_sync writes, moves and removes the booking's event (checked on the CalDAV server)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest

from tests.caldav_server import RadicaleServer, event_ics
from tests.google_fake import FakeGoogle
from tests.support import base_url, serving, weekday_ahead

DAY = weekday_ahead(60)
STAMP = DAY.strftime("%Y%m%d")


@pytest.fixture(scope="module")
def radicale():
    server = RadicaleServer()
    for user in ("bob", "carol"):
        server.add_user(user)
    server.start()
    yield server
    server.stop()


def connect(api, host_id: int, radicale: RadicaleServer, user: str) -> dict:
    reply = api.call("POST", f"/v2/users/{host_id}/calendars",
                     {"type": "caldav", "url": radicale.url, "username": user, "password": "secret"}, admin=True)
    assert reply.status == 201, reply.body
    return reply.data


def test_connection_management_keeps_secrets(api, radicale):
    host = api.host("Cal Manager")
    work = radicale.make_calendar("carol", "work")
    radicale.make_calendar("carol", "home")
    connection = connect(api, host["id"], radicale, "carol")
    assert connection["type"] == "caldav" and len(connection["calendars"]) == 2
    assert set(connection["selectedCalendars"]) == {c["externalId"] for c in connection["calendars"]}
    assert connection["destinationCalendar"] in connection["selectedCalendars"]
    assert "password" not in str(connection) and "secret" not in str(connection)
    listed = api.call("GET", f"/v2/users/{host['id']}/calendars", admin=True).data
    assert listed == [connection]
    patched = api.call("PATCH", f"/v2/users/{host['id']}/calendars/{connection['id']}",
                       {"selectedCalendars": [work], "destinationCalendar": work}, admin=True)
    assert patched.data["selectedCalendars"] == [work] and patched.data["destinationCalendar"] == work
    wrong = api.call("PATCH", f"/v2/users/{host['id']}/calendars/{connection['id']}",
                     {"selectedCalendars": ["http://elsewhere/"]}, admin=True)
    assert wrong.status == 400
    refused = api.call("POST", f"/v2/users/{host['id']}/calendars",
                       {"type": "caldav", "url": radicale.url, "username": "carol", "password": "nope"}, admin=True)
    assert refused.status == 400 and refused.body["error"]["details"]["errors"][0]["field"] == "password"


def test_busy_calendar_time_blocks_slots_and_bookings_until_disconnected(api, radicale):
    host = api.host("Cal Busy")
    event_type = api.event_type(ownerId=host["id"], slug="cal-busy")
    work = radicale.make_calendar("bob", "busywork")
    radicale.put_event(work, "bob", "dentist", event_ics("dentist", f"{STAMP}T100500Z", f"{STAMP}T104000Z"))
    connection = connect(api, host["id"], radicale, "bob")
    slots = [s["start"][11:16] for s in api.slots(event_type["id"], DAY.isoformat(), DAY.isoformat())[DAY.isoformat()]]
    assert "10:00" not in slots and "10:30" not in slots and "09:30" in slots and "11:00" in slots
    refused = api.book(event_type["id"], f"{DAY.isoformat()}T10:30:00Z")
    assert refused.status == 409 and refused.code == "no_available_users_found_error"
    api.call("DELETE", f"/v2/users/{host['id']}/calendars/{connection['id']}", admin=True)
    assert api.book(event_type["id"], f"{DAY.isoformat()}T10:30:00Z").status == 201


def test_a_failing_calendar_provider_does_not_block_bookings(api, monkeypatch):
    fake = FakeGoogle().start()
    try:
        monkeypatch.setenv("GOOGLE_CALENDAR_BASE_URL", fake.base_url)
        monkeypatch.setenv("GOOGLE_OAUTH_URL", fake.token_url)
        from booking_core.calendars.providers import provider_for

        provider_for.cache_clear()
        host = api.host("Cal Flaky")
        event_type = api.event_type(ownerId=host["id"], slug="cal-flaky")
        reply = api.call("POST", f"/v2/users/{host['id']}/calendars", {"type": "google", "credentials": {
            "accessToken": "good-token", "refreshToken": "refresh-1", "expiresAt": 4102444800,
            "clientId": "client-1", "clientSecret": "shh"}}, admin=True)
        assert reply.status == 201, reply.body
        fake.state.busy["primary-cal@example.com"] = [{"start": f"{DAY.isoformat()}T09:00:00Z",
                                                       "end": f"{DAY.isoformat()}T12:00:00Z"}]
        assert api.book(event_type["id"], f"{DAY.isoformat()}T10:00:00Z").code == "no_available_users_found_error"
        fake.state.fail_freebusy = True
        assert api.book(event_type["id"], f"{DAY.isoformat()}T10:00:00Z", email="x@example.org").status == 201
    finally:
        fake.stop()
        from booking_core.calendars.providers import provider_for

        provider_for.cache_clear()


def test_calendar_sync_writes_moves_and_removes_the_event(api, bus, radicale):
    host = api.host("Cal Sync")
    event_type = api.event_type(ownerId=host["id"], slug="cal-sync",
                                locations=[{"type": "integration", "integration": "jitsi"}])
    radicale.add_user("dave")
    destination = radicale.make_calendar("dave", "bookings")
    connect(api, host["id"], radicale, "dave")
    booking = api.book(event_type["id"], f"{DAY.isoformat()}T13:00:00Z", email="synced@example.org").data
    bus.pump()
    stored = api.call("GET", f"/v2/bookings/{booking['uid']}").data
    caldav_refs = [r for r in stored["references"] if r["type"] == "caldav"]
    assert [r["type"] for r in stored["references"]] == ["jitsi", "caldav"]
    event_url = caldav_refs[0]["uid"]
    assert event_url.startswith(destination)
    ics = radicale.read(event_url, "dave")
    assert f"DTSTART:{STAMP}T130000Z" in ics and "synced@example.org" in ics and booking["meetingUrl"] in ics

    moved = api.call("POST", f"/v2/bookings/{booking['uid']}/reschedule", {"start": f"{DAY.isoformat()}T15:00:00Z"}).data
    bus.pump()
    ics = radicale.read(event_url, "dave")
    assert f"DTSTART:{STAMP}T150000Z" in ics and "SEQUENCE:1" in ics
    assert [r["uid"] for r in api.call("GET", f"/v2/bookings/{moved['uid']}").data["references"]
            if r["type"] == "caldav"] == [event_url]

    api.call("POST", f"/v2/bookings/{moved['uid']}/cancel", {})
    bus.pump()
    assert radicale.read(event_url, "dave") is None


class _RedirectingDav(BaseHTTPRequestHandler):
    """A CalDAV server whose calendar home is said to be at the cloud metadata address."""

    def log_message(self, *args):  # noqa: D102
        return

    def do_PROPFIND(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = (b'<?xml version="1.0"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                b'<D:response><D:href>/</D:href><D:propstat><D:prop><C:calendar-home-set>'
                b'<D:href>http://169.254.169.254/latest/meta-data/</D:href></C:calendar-home-set></D:prop>'
                b'<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>')
        self.send_response(207)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_caldav_urls_from_the_user_or_the_server_pass_the_ssrf_rules(api):
    host = api.host("Cal SSRF")
    for url in ("http://169.254.169.254/latest/", "http://0xa9fea9fe/", "file:///etc/passwd"):
        refused = api.call("POST", f"/v2/users/{host['id']}/calendars",
                           {"type": "caldav", "url": url, "username": "u", "password": "p"}, admin=True)
        assert refused.status == 400, url
    with serving(_RedirectingDav) as server:
        refused = api.call("POST", f"/v2/users/{host['id']}/calendars",
                           {"type": "caldav", "url": base_url(server), "username": "u", "password": "p"}, admin=True)
    assert refused.status == 400
    [error] = refused.body["error"]["details"]["errors"]
    assert error["field"] == "url" and "another origin" in error["message"]  # never fetched (same-origin rule)
