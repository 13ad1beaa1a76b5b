"""The OAuth providers against request-checking fakes of their public APIs: Microsoft 365 (Graph calendars,
getSchedule, events with Teams meetings), Zoom meetings, Google Meet through conferenceData; token refresh
(rotation kept at once), throttling with Retry-After (bounded), 5xx."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from booking_core.calendars import oauth
from booking_core.calendars.base import CalendarAuthError, CalendarError, CalendarUnavailable, Credentials
from booking_core.calendars.google import GoogleCalendarProvider
from booking_core.calendars.office365 import Office365CalendarProvider
from booking_core.conferencing.base import Meeting
from booking_core.conferencing.zoom import ZoomMeetings
from booking_core.domain.bookings import Booking
from tests.google_fake import FakeGoogle
from tests.graph_fake import FakeGraph
from tests.zoom_fake import FakeZoom

UTC = timezone.utc
WORK, SIDE, TEAM = "AAMkCalendarWork=", "AAMkCalendarSide=", "AAMkCalendarTeam="


def booking(start: datetime, minutes: int = 30, meeting_url: str | None = None) -> Booking:
    return Booking.model_validate({
        "id": 7, "uid": "b-uid", "title": "Intro call", "status": "accepted", "start": start,
        "end": start + timedelta(minutes=minutes), "duration": minutes, "eventTypeId": 1,
        "eventType": {"id": 1, "slug": "intro"}, "description": "About the project",
        "hosts": [{"id": 1, "name": "Host", "email": "host@contoso.example", "timeZone": "UTC"}],
        "attendees": [{"name": "Jane", "email": "jane@example.org", "timeZone": "UTC"}],
        "guests": ["guest@example.org"], "location": meeting_url, "meetingUrl": meeting_url,
        "createdAt": start, "updatedAt": start})


class Saved:
    """What Credentials.on_change stored, in order."""

    def __init__(self) -> None:
        self.values: list[dict] = []

    def __call__(self, values: dict) -> None:
        self.values.append(values)


def creds(access: str, refresh: str, client: str, secret: str = "shh", expires_in: int = 3600,
          saved: Saved | None = None) -> Credentials:
    return Credentials({"accessToken": access, "refreshToken": refresh, "expiresAt": int(time.time()) + expires_in,
                        "clientId": client, "clientSecret": secret}, on_change=saved)


@pytest.fixture
def sleeps(monkeypatch):
    """The waits the providers would sleep (recorded instead of slept: a test measures behaviour, not time)."""
    waited: list[float] = []
    monkeypatch.setattr(oauth.time, "sleep", waited.append)
    return waited


# -- Microsoft 365 -------------------------------------------------------------------------------------------------
@pytest.fixture
def graph():
    fake = FakeGraph().start()
    yield fake
    fake.stop()


def ms(graph: FakeGraph, **kwargs) -> Credentials:
    return creds(kwargs.pop("access", "ms-good-token"), kwargs.pop("refresh", "ms-refresh-1"), "ms-client", **kwargs)


def test_office365_lists_editable_calendars_across_pages_with_their_owners(graph):
    calendars = Office365CalendarProvider(graph.base_url, graph.token_url).list_calendars(ms(graph))
    assert [(c.external_id, c.primary, c.owner) for c in calendars] == [
        (WORK, True, "host@contoso.example"), (SIDE, False, "host@contoso.example")]  # the shared one is read-only
    listings = [r for r in graph.state.requests if r["path"].startswith("/v1.0/me/calendars")]
    assert len(listings) == 2 and "%24skip=2" in listings[1]["path"]  # the second page came from @odata.nextLink
    assert "$select=id" in listings[0]["path"].replace("%24", "$").replace("%2C", ",")


def test_office365_busy_time_is_one_getschedule_per_connection_over_the_owners(graph):
    graph.busy("host@contoso.example", "2027-12-01T10:00:00", "2027-12-01T11:00:00")
    graph.busy("host@contoso.example", "2027-12-01T12:00:00", "2027-12-01T12:30:00", status="oof")
    graph.busy("host@contoso.example", "2027-12-01T13:00:00", "2027-12-01T14:00:00", status="free")
    graph.busy("host@contoso.example", "2027-12-01T15:00:00", "2027-12-01T16:00:00", status="workingElsewhere")
    graph.busy("colleague@contoso.example", "2027-12-01T08:00:00", "2027-12-01T09:00:00", status="tentative")
    owners = {WORK: "host@contoso.example", SIDE: "host@contoso.example", TEAM: "colleague@contoso.example"}
    busy = Office365CalendarProvider(graph.base_url, graph.token_url).busy_times(
        ms(graph), [WORK, SIDE, TEAM], datetime(2027, 12, 1, tzinfo=UTC), datetime(2027, 12, 2, tzinfo=UTC), 5,
        owners=owners)
    assert [(b.start.hour, b.end.hour, b.end.minute) for b in busy] == [(8, 9, 0), (10, 11, 0), (12, 12, 30)]
    [request] = [r for r in graph.state.requests if r["path"] == "/v1.0/me/calendar/getSchedule"]
    assert request["body"]["schedules"] == ["colleague@contoso.example", "host@contoso.example"]
    assert request["body"]["startTime"] == {"dateTime": "2027-12-01T00:00:00", "timeZone": "UTC"}
    assert request["headers"]["Prefer"] == 'outlook.timezone="UTC"'
    assert request["headers"]["Content-Type"] == "application/json"


def test_office365_refreshes_an_expired_token_with_the_scopes_and_keeps_the_rotated_one(graph):
    saved = Saved()
    expired = ms(graph, access="ms-old", expires_in=-5, saved=saved)
    Office365CalendarProvider(graph.base_url, graph.token_url).list_calendars(expired)
    [token_call] = [r for r in graph.state.requests if r["path"].endswith("/token")]
    assert token_call["body"]["grant_type"] == "refresh_token" and "offline_access" in token_call["body"]["scope"]
    assert token_call["body"]["client_id"] == "ms-client" and token_call["body"]["client_secret"] == "shh"
    assert saved.values and saved.values[0]["accessToken"].startswith("ms-fresh-")
    rotated = saved.values[0]["refreshToken"]
    assert rotated.startswith("ms-refresh-") and rotated != "ms-refresh-1"


def test_office365_refreshes_once_after_a_401_then_gives_up(graph):
    revoked = ms(graph, access="ms-revoked")
    Office365CalendarProvider(graph.base_url, graph.token_url).list_calendars(revoked)
    assert revoked.changed and revoked.values["accessToken"].startswith("ms-fresh-")
    with pytest.raises(CalendarAuthError):
        Office365CalendarProvider(graph.base_url, graph.token_url).list_calendars(
            ms(graph, access="ms-revoked", refresh="ms-unknown"))


def test_throttling_honours_a_short_retry_after_once_and_hands_a_long_one_to_the_queue(graph, sleeps):
    provider = Office365CalendarProvider(graph.base_url, graph.token_url)
    graph.state.faults.add("POST", r"/events$", 429, headers={"Retry-After": "2"},
                           body={"error": {"code": "TooManyRequests", "message": "throttled"}})
    ref = provider.create_event(ms(graph), WORK, booking(datetime(2027, 12, 3, 10, tzinfo=UTC)), "u1@svc", 0)
    assert sleeps == [2.0] and ref.external_id in graph.state.events
    graph.state.faults.add("POST", r"/events$", 429, headers={"Retry-After": "120"})
    with pytest.raises(CalendarUnavailable) as raised:
        provider.create_event(ms(graph), WORK, booking(datetime(2027, 12, 3, 11, tzinfo=UTC)), "u2@svc", 0)
    assert raised.value.retry_after == 120 and sleeps == [2.0]  # far too long to sleep in a Lambda: not slept
    graph.state.faults.add("POST", r"/events$", 503, times=2, headers={"Retry-After": "1"})
    with pytest.raises(CalendarUnavailable):  # a second refusal is not waited for again
        provider.create_event(ms(graph), WORK, booking(datetime(2027, 12, 3, 12, tzinfo=UTC)), "u3@svc", 0)
    assert sleeps == [2.0, 1.0]


def test_busy_time_never_sleeps_on_throttling(graph, sleeps):
    graph.state.faults.add("POST", r"getSchedule", 429, headers={"Retry-After": "1"})
    with pytest.raises(CalendarUnavailable):
        Office365CalendarProvider(graph.base_url, graph.token_url).busy_times(
            ms(graph), [WORK], datetime(2027, 12, 1, tzinfo=UTC), datetime(2027, 12, 2, tzinfo=UTC), 5,
            owners={WORK: "host@contoso.example"})
    assert sleeps == []


def test_office365_server_errors_are_unavailable(graph):
    graph.state.faults.add("GET", r"/me/calendars", 500, body={"error": {"code": "generalException"}})
    with pytest.raises(CalendarUnavailable):
        Office365CalendarProvider(graph.base_url, graph.token_url).list_calendars(ms(graph))


def test_office365_event_lifecycle_keeps_one_event_and_its_icaluid(graph):
    provider = Office365CalendarProvider(graph.base_url, graph.token_url)
    credentials = ms(graph)
    ref = provider.create_event(credentials, SIDE, booking(datetime(2027, 12, 3, 10, tzinfo=UTC),
                                                            meeting_url="https://zoom.example/j/1"), "g1@svc", 0)
    event = graph.state.events[ref.external_id]
    assert event["calendarId"] == SIDE and event["start"] == {"dateTime": "2027-12-03T10:00:00", "timeZone": "UTC"}
    assert "attendees" not in event  # Exchange would send its own invitations
    content = event["body"]["content"]
    assert "jane@example.org" in content and "Join: https://zoom.example/j/1" in content
    ical_uid = event["iCalUId"]
    again = provider.create_event(credentials, SIDE, booking(datetime(2027, 12, 3, 10, tzinfo=UTC)), "g1@svc", 0)
    assert again.external_id == ref.external_id and len(graph.state.events) == 1  # transactionId: the same event
    provider.update_event(credentials, SIDE, ref, booking(datetime(2027, 12, 4, 9, tzinfo=UTC)), "g1@svc", 1)
    moved = graph.state.events[ref.external_id]
    assert moved["start"]["dateTime"] == "2027-12-04T09:00:00" and moved["iCalUId"] == ical_uid
    patch = [r for r in graph.state.requests if r["method"] == "PATCH"][-1]
    assert patch["path"].startswith("/v1.0/me/events/") and "transactionId" not in patch["body"]
    provider.delete_event(credentials, SIDE, ref)
    assert graph.state.events == {}
    provider.delete_event(credentials, SIDE, ref)  # already gone: fine


def test_teams_meeting_is_the_event_online_meeting(graph):
    provider = Office365CalendarProvider(graph.base_url, graph.token_url)
    ref = provider.create_event(ms(graph), WORK, booking(datetime(2027, 12, 3, 10, tzinfo=UTC)), "t1@svc", 0,
                                online_meeting=True)
    event = graph.state.events[ref.external_id]
    assert event["isOnlineMeeting"] is True and event["onlineMeetingProvider"] == "teamsForBusiness"
    assert ref.meeting_url == event["onlineMeeting"]["joinUrl"]
    assert ref.meeting_url.startswith("https://teams.microsoft.com/l/meetup-join/")
    graph.state.online_meeting_later = True  # Graph may fill onlineMeeting in after the create's answer
    late = provider.create_event(ms(graph), WORK, booking(datetime(2027, 12, 3, 11, tzinfo=UTC)), "t2@svc", 0,
                                 online_meeting=True)
    assert late.meeting_url and late.meeting_url.startswith("https://teams.microsoft.com/")
    assert [r["method"] for r in graph.state.requests if "/me/events/" in r["path"]] == ["GET"]


# -- Zoom ------------------------------------------------------------------------------------------------------------
@pytest.fixture
def zoom():
    fake = FakeZoom().start()
    yield fake
    fake.stop()


def zoom_creds(**kwargs) -> Credentials:
    return creds(kwargs.pop("access", "zoom-good-token"), kwargs.pop("refresh", "zoom-refresh-1"), "zoom-client",
                 secret="zoom-secret", **kwargs)


def test_zoom_meeting_created_moved_and_deleted(zoom):
    meetings = ZoomMeetings(zoom.base_url, zoom.token_url)
    credentials = zoom_creds()
    meetings.verify(credentials)
    made = meetings.create_meeting(credentials, booking(datetime(2027, 12, 3, 10, tzinfo=UTC), minutes=45), "z@svc",
                                   0, None)
    stored = zoom.state.meetings[made.external_id]
    assert made.join_url == stored["join_url"] and made.join_url.startswith("https://us05web.zoom.us/j/")
    assert stored["type"] == 2 and stored["start_time"] == "2027-12-03T10:00:00Z" and stored["duration"] == 45
    assert stored["timezone"] == "UTC" and stored["topic"] == "Intro call"
    moved = meetings.update_meeting(credentials, made, booking(datetime(2027, 12, 5, 14, tzinfo=UTC)), "z@svc", 1,
                                    None)
    assert moved.join_url == made.join_url
    assert zoom.state.meetings[made.external_id]["start_time"] == "2027-12-05T14:00:00Z"
    meetings.delete_meeting(credentials, made, None)
    assert zoom.state.meetings == {}
    meetings.delete_meeting(credentials, made, None)  # 404 code 3001: already gone
    with pytest.raises(CalendarError):
        meetings.delete_meeting(credentials, Meeting("../users/me", "https://x.example/"), None)


def test_zoom_refresh_uses_basic_client_auth_and_the_rotated_token_is_kept_at_once(zoom):
    saved = Saved()
    meetings = ZoomMeetings(zoom.base_url, zoom.token_url)
    expired = zoom_creds(access="zoom-old", expires_in=-5, saved=saved)
    zoom.state.faults.add("POST", r"/users/me/meetings", 503)  # the call after the refresh fails...
    with pytest.raises(CalendarUnavailable):
        meetings.create_meeting(expired, booking(datetime(2027, 12, 3, 10, tzinfo=UTC)), "r@svc", 0, None)
    [token_call] = [r for r in zoom.state.requests if r["path"] == "/oauth/token"]
    assert token_call["headers"]["Authorization"].startswith("Basic ")
    assert "client_secret" not in token_call["body"] and token_call["body"]["grant_type"] == "refresh_token"
    [kept] = saved.values  # ...but the rotated refresh token was stored before it
    assert kept["refreshToken"] != "zoom-refresh-1" and "zoom-refresh-1" not in zoom.state.refresh_tokens
    again = Credentials({**kept, "expiresAt": 0}, on_change=saved)  # the next run starts from what was stored
    meetings.create_meeting(again, booking(datetime(2027, 12, 3, 10, tzinfo=UTC)), "r@svc", 0, None)
    assert len(zoom.state.meetings) == 1
    with pytest.raises(CalendarAuthError):
        meetings.verify(zoom_creds(access="zoom-old", expires_in=-5))  # the used refresh token no longer works


# -- Google Meet -----------------------------------------------------------------------------------------------------
@pytest.fixture
def google():
    fake = FakeGoogle().start()
    yield fake
    fake.stop()


def google_creds() -> Credentials:
    return creds("good-token", "refresh-1", "client-1")


def test_google_meet_through_conference_data_once_per_booking(google):
    provider = GoogleCalendarProvider(google.base_url, google.token_url)
    start = datetime(2027, 12, 3, 10, tzinfo=UTC)
    ref = provider.create_event(google_creds(), "primary-cal@example.com", booking(start), "m1@svc", 0,
                                online_meeting=True)
    insert = next(r for r in google.state.requests if r["method"] == "POST" and r["path"].startswith("/calendar"))
    assert "conferenceDataVersion=1" in insert["path"] and "sendUpdates=none" in insert["path"]
    request = insert["body"]["conferenceData"]["createRequest"]
    assert request["conferenceSolutionKey"] == {"type": "hangoutsMeet"} and request["requestId"]
    assert ref.meeting_url and ref.meeting_url.startswith("https://meet.google.com/")
    assert ref.meeting_id == ref.meeting_url.rsplit("/", 1)[1]
    again = provider.create_event(google_creds(), "primary-cal@example.com", booking(start), "m1@svc", 0,
                                  online_meeting=True)
    assert (again.external_id, again.meeting_url) == (ref.external_id, ref.meeting_url)
    assert len(google.state.conferences) == 1 and len(google.state.events["primary-cal@example.com"]) == 1
    moved = provider.update_event(google_creds(), "primary-cal@example.com", ref, booking(start + timedelta(days=1)),
                                  "m1@svc", 1)
    assert moved.meeting_url == ref.meeting_url


def test_google_rate_limit_403_is_throttling_not_a_refusal(google, sleeps):
    google.state.faults.add("GET", r"calendarList", 403, headers={"Retry-After": "1"}, body={"error": {
        "code": 403, "message": "Rate Limit Exceeded", "errors": [{"reason": "rateLimitExceeded"}]}})
    calendars = GoogleCalendarProvider(google.base_url, google.token_url).list_calendars(google_creds())
    assert calendars and sleeps == [1.0]
    google.state.faults.add("GET", r"calendarList", 403, body={"error": {"code": 403, "message": "Forbidden",
                                                                          "errors": [{"reason": "forbidden"}]}})
    with pytest.raises(CalendarAuthError):
        GoogleCalendarProvider(google.base_url, google.token_url).list_calendars(google_creds())


def test_a_provider_link_outside_its_configured_api_is_not_followed(graph):
    graph.state.next_link_origin = "http://169.254.169.254"  # a next page "elsewhere": never fetched
    with pytest.raises(CalendarError, match="outside its API"):
        Office365CalendarProvider(graph.base_url, graph.token_url).list_calendars(ms(graph))
    assert len([r for r in graph.state.requests if r["path"].startswith("/v1.0/me/calendars")]) == 1
