"""The calendar adapters against real parts: Radicale (a real CalDAV server) and a fake of Google's API that checks
request shapes."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from booking_core.calendars.base import CalendarAuthError, CalendarUnavailable, Credentials, EventRef
from booking_core.calendars.caldav import CalDAVProvider
from booking_core.calendars.google import GoogleCalendarProvider
from booking_core.domain.bookings import Booking
from tests.caldav_server import RadicaleServer, event_ics
from tests.google_fake import FakeGoogle

UTC = timezone.utc


@pytest.fixture(scope="module")
def radicale():
    server = RadicaleServer()
    server.add_user("alice")
    server.start()
    server.work = server.make_calendar("alice", "work")
    server.private = server.make_calendar("alice", "private")
    yield server
    server.stop()


def alice(server: RadicaleServer, url: str | None = None, password: str = "secret") -> Credentials:
    return Credentials({"url": url or server.url, "username": "alice", "password": password})


def booking(start: datetime, minutes: int = 30, title: str = "Intro call", status: str = "accepted") -> Booking:
    from datetime import timedelta

    return Booking.model_validate({
        "id": 1, "uid": "b-uid", "title": title, "status": status, "start": start,
        "end": start + timedelta(minutes=minutes), "duration": minutes, "eventTypeId": 1,
        "eventType": {"id": 1, "slug": "intro"}, "description": "Notes, with; commas",
        "hosts": [{"id": 1, "name": "Alice", "email": "alice@example.com", "timeZone": "UTC"}],
        "attendees": [{"name": "Jane", "email": "jane@example.org", "timeZone": "UTC"}],
        "guests": ["guest@example.org"], "location": "Office", "meetingUrl": None,
        "createdAt": start, "updatedAt": start})


def test_caldav_discovery_from_server_or_principal(radicale):
    provider = CalDAVProvider()
    for url in (radicale.url, f"{radicale.url}alice/"):
        calendars = provider.list_calendars(alice(radicale, url))
        assert {c.external_id for c in calendars} == {radicale.work, radicale.private}
        assert sum(c.primary for c in calendars) == 1
        assert {c.name for c in calendars} == {"Work", "Private"}


def test_caldav_busy_times_expand_recurrences_and_skip_transparent(radicale):
    radicale.put_event(radicale.work, "alice", "busy-1", event_ics("busy-1", "20271201T100000Z", "20271201T110000Z"))
    radicale.put_event(radicale.work, "alice", "weekly", event_ics("weekly", "20271129T140000Z", "20271129T150000Z",
                                                                   "RRULE:FREQ=WEEKLY;COUNT=3"))
    radicale.put_event(radicale.work, "alice", "free", event_ics("free", "20271201T120000Z", "20271201T130000Z",
                                                                 "TRANSP:TRANSPARENT"))
    radicale.put_event(radicale.private, "alice", "berlin", event_ics(
        "berlin", "20271202T090000", "20271202T093000", "").replace("DTSTART:20271202T090000",
                                                                   "DTSTART;TZID=Europe/Berlin:20271202T090000")
        .replace("DTEND:20271202T093000", "DTEND;TZID=Europe/Berlin:20271202T093000"))
    busy = CalDAVProvider().busy_times(alice(radicale), [radicale.work, radicale.private],
                                       datetime(2027, 12, 1, tzinfo=UTC), datetime(2027, 12, 20, tzinfo=UTC), 5)
    got = [(b.start.isoformat(), b.end.isoformat()) for b in busy]
    assert got == [
        ("2027-12-01T10:00:00+00:00", "2027-12-01T11:00:00+00:00"),
        ("2027-12-02T08:00:00+00:00", "2027-12-02T08:30:00+00:00"),  # 09:00 Berlin
        ("2027-12-06T14:00:00+00:00", "2027-12-06T15:00:00+00:00"),  # the weekly series, expanded by the server
        ("2027-12-13T14:00:00+00:00", "2027-12-13T15:00:00+00:00"),
    ]


def test_caldav_event_created_updated_deleted_on_the_server(radicale):
    provider = CalDAVProvider()
    creds = alice(radicale)
    start = datetime(2027, 12, 3, 10, 0, tzinfo=UTC)
    ref = provider.create_event(creds, radicale.work, booking(start), "sync-uid@booking-service", 0)
    stored = radicale.read(ref.external_id, "alice")
    assert "UID:sync-uid@booking-service" in stored and "DTSTART:20271203T100000Z" in stored and "SEQUENCE:0" in stored
    again = provider.create_event(creds, radicale.work, booking(start), "sync-uid@booking-service", 0)
    assert again.external_id == ref.external_id  # a redelivered event: still one event
    moved = booking(datetime(2027, 12, 3, 15, 0, tzinfo=UTC))
    provider.update_event(creds, radicale.work, ref, moved, "sync-uid@booking-service", 1)
    stored = radicale.read(ref.external_id, "alice")
    assert "DTSTART:20271203T150000Z" in stored and "SEQUENCE:1" in stored and stored.count("BEGIN:VEVENT") == 1
    provider.delete_event(creds, radicale.work, ref)
    assert radicale.read(ref.external_id, "alice") is None
    provider.delete_event(creds, radicale.work, ref)  # deleting twice is fine


def test_caldav_failures(radicale):
    with pytest.raises(CalendarAuthError):
        CalDAVProvider().list_calendars(alice(radicale, password="wrong"))
    started = time.monotonic()
    with pytest.raises(CalendarUnavailable):
        CalDAVProvider(timeout=0.5).list_calendars(alice(radicale, url="http://127.0.0.1:9/"))
    assert time.monotonic() - started < 3


@pytest.fixture
def google():
    fake = FakeGoogle().start()
    yield fake
    fake.stop()


def google_creds(token: str = "good-token", expires_in: int = 3600) -> Credentials:
    return Credentials({"accessToken": token, "refreshToken": "refresh-1", "expiresAt": int(time.time()) + expires_in,
                        "clientId": "client-1", "clientSecret": "shh"})


def test_google_calendars_and_busy_times(google):
    provider = GoogleCalendarProvider(google.base_url, google.token_url)
    calendars = provider.list_calendars(google_creds())
    assert [(c.external_id, c.primary) for c in calendars] == [("primary-cal@example.com", True),
                                                               ("side@group.calendar.google.com", False)]
    google.state.busy["primary-cal@example.com"] = [{"start": "2027-12-01T10:00:00Z", "end": "2027-12-01T11:00:00Z"}]
    busy = provider.busy_times(google_creds(), ["primary-cal@example.com"], datetime(2027, 12, 1, tzinfo=UTC),
                               datetime(2027, 12, 2, tzinfo=UTC), 5)
    assert [(b.start.hour, b.end.hour) for b in busy] == [(10, 11)]
    request = next(r for r in google.state.requests if r["path"].endswith("/freeBusy"))
    assert request["body"] == {"timeMin": "2027-12-01T00:00:00Z", "timeMax": "2027-12-02T00:00:00Z",
                               "items": [{"id": "primary-cal@example.com"}]}


def test_google_token_refresh_on_expiry_and_after_a_401(google):
    provider = GoogleCalendarProvider(google.base_url, google.token_url)
    expired = google_creds(expires_in=-10)
    provider.list_calendars(expired)
    assert expired.changed and expired.values["accessToken"].startswith("fresh-")
    revoked = google_creds(token="revoked-token")
    provider.list_calendars(revoked)
    assert revoked.changed and revoked.values["accessToken"].startswith("fresh-")
    bad = Credentials({**google_creds(token="revoked").values, "refreshToken": "unknown"})
    with pytest.raises(CalendarAuthError):
        provider.list_calendars(bad)


def test_google_event_lifecycle_is_idempotent(google):
    provider = GoogleCalendarProvider(google.base_url, google.token_url)
    creds = google_creds()
    start = datetime(2027, 12, 3, 10, 0, tzinfo=UTC)
    ref = provider.create_event(creds, "primary-cal@example.com", booking(start), "g-uid@booking-service", 0)
    again = provider.create_event(creds, "primary-cal@example.com", booking(start), "g-uid@booking-service", 0)
    assert again.external_id == ref.external_id and len(google.state.events["primary-cal@example.com"]) == 1
    event = google.state.events["primary-cal@example.com"][ref.external_id]
    assert event["start"]["dateTime"] == "2027-12-03T10:00:00Z" and event["iCalUID"] == "g-uid@booking-service"
    assert {a["email"] for a in event["attendees"]} == {"jane@example.org", "guest@example.org"}
    provider.update_event(creds, "primary-cal@example.com", ref, booking(datetime(2027, 12, 4, 9, 0, tzinfo=UTC)),
                          "g-uid@booking-service", 1)
    assert event["start"]["dateTime"] == "2027-12-04T09:00:00Z" and event["sequence"] == 1
    provider.delete_event(creds, "primary-cal@example.com", ref)
    assert google.state.events["primary-cal@example.com"] == {}
    provider.delete_event(creds, "primary-cal@example.com", EventRef(ref.external_id, "g-uid@booking-service"))


def test_google_outage_is_reported_as_unavailable(google):
    google.state.fail_freebusy = True
    with pytest.raises(CalendarUnavailable):
        GoogleCalendarProvider(google.base_url, google.token_url).busy_times(
            google_creds(), ["primary-cal@example.com"], datetime(2027, 12, 1, tzinfo=UTC),
            datetime(2027, 12, 2, tzinfo=UTC), 5)
