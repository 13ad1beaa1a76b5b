"""Meeting apps and Microsoft 365 through the API and the real event path (outbox -> bus -> calendar_sync,
notifications, webhooks) against request-checking fakes of Google, Microsoft Graph and Zoom: the link reaches the
booking, its references, the confirmation email and BOOKING_CREATED; the meeting moves and goes with the booking;
a provider that is down leaves the booking standing and the messages go out without the link after the wait."""

from __future__ import annotations

import json
import time
import urllib.parse
from datetime import timedelta

import boto3
import pytest

from tests.google_fake import FakeGoogle
from tests.graph_fake import FakeGraph
from tests.support import WebhookReceiver, weekday_ahead
from tests.zoom_fake import FakeZoom

DAY = weekday_ahead(70)
FAR = 4102444800  # tokens that do not expire during the tests


def at(hour: int, minute: int = 0) -> str:
    return f"{DAY.isoformat()}T{hour:02d}:{minute:02d}:00Z"


RECEIVER = WebhookReceiver()


@pytest.fixture(scope="module")
def fakes():
    google, graph, zoom = FakeGoogle().start(), FakeGraph().start(), FakeZoom().start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GOOGLE_CALENDAR_BASE_URL", google.base_url)
        patch.setenv("GOOGLE_OAUTH_URL", google.token_url)
        patch.setenv("MICROSOFT_GRAPH_BASE_URL", graph.base_url)
        patch.setenv("MICROSOFT_OAUTH_URL", graph.token_url)
        patch.setenv("ZOOM_API_BASE_URL", zoom.base_url)
        patch.setenv("ZOOM_OAUTH_URL", zoom.token_url)
        _forget_providers()
        with RECEIVER.running() as receiver:
            yield {"google": google, "graph": graph, "zoom": zoom, "receiver": receiver}
    _forget_providers()
    for fake in (google, graph, zoom):
        fake.stop()


def _forget_providers() -> None:
    """Providers read their base URLs when first made: make them again from the environment."""
    from booking_core.calendars.providers import provider_for
    from booking_core.conferencing import meeting_app

    provider_for.cache_clear()
    meeting_app.cache_clear()


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setenv("WEBHOOK_BACKOFF_SECONDS", "0")
    RECEIVER.clear()


def oauth(access: str, refresh: str, client: str, secret: str = "shh") -> dict:
    return {"accessToken": access, "refreshToken": refresh, "expiresAt": FAR, "clientId": client,
            "clientSecret": secret}


def connect(api, host: dict, body: dict, path: str = "calendars") -> dict:
    reply = api.call("POST", f"/v2/users/{host['id']}/{path}", body, admin=True)
    assert reply.status == 201, reply.body
    return reply.data


def google_calendar(api, host):
    return connect(api, host, {"type": "google", "credentials": oauth("good-token", "refresh-1", "client-1")})


def office365(api, host):
    return connect(api, host, {"type": "office365", "credentials": oauth("ms-good-token", "ms-refresh-1",
                                                                         "ms-client")})


def zoom_account(api, host):
    return connect(api, host, {"type": "zoom", "credentials": oauth("zoom-good-token", "zoom-refresh-1",
                                                                    "zoom-client", "zoom-secret")}, "conferencing")


def subscribe(api, host: dict, url: str) -> None:
    reply = api.call("POST", "/v2/webhooks", {"subscriberUrl": url, "userId": host["id"],
                                              "triggers": ["BOOKING_CREATED", "BOOKING_RESCHEDULED"]}, admin=True)
    assert reply.status == 201, reply.body


def stored(api, uid: str) -> dict:
    return api.call("GET", f"/v2/bookings/{uid}").data


def emails_to(address: str, subject: str) -> list[dict]:
    from local.mailbox import sent_emails

    return [m for m in sent_emails() if m["to"] == [address] and m["subject"].startswith(subject)]


def deliveries(uid: str, trigger: str) -> list[dict]:
    return [b for b in RECEIVER.bodies() if b["payload"]["uid"] == uid and b["triggerEvent"] == trigger]


def test_zoom_meeting_reaches_booking_email_webhook_and_calendar_then_moves_and_goes(api, bus, fakes):
    zoom, google = fakes["zoom"], fakes["google"]
    host = api.host("Zoom Host")
    google_calendar(api, host)
    zoom_account(api, host)
    subscribe(api, host, fakes["receiver"])
    event_type = api.event_type(ownerId=host["id"], slug="zoomed", locations=[{"type": "integration",
                                                                                "integration": "zoom"}])
    made = api.book(event_type["id"], at(10), email="zoomer@example.org")
    assert made.status == 201
    assert (made.data["location"], made.data["meetingUrl"]) == ("integrations:zoom", None)  # made after the commit
    bus.pump()

    booking = stored(api, made.data["uid"])
    [meeting] = [m for m in zoom.state.meetings.values() if m["start_time"] == at(10)]
    link = meeting["join_url"]
    assert booking["meetingUrl"] == link and booking["location"] == link
    assert booking["references"][0] == {"type": "zoom", "uid": str(meeting["id"]), "meetingUrl": link}
    assert [r["type"] for r in booking["references"]] == ["zoom", "google_calendar"]
    assert meeting["topic"] == booking["title"] and meeting["duration"] == 30
    google_event = google.state.events["primary-cal@example.com"][booking["references"][1]["uid"]]
    assert f"Join: {link}" in google_event["description"]  # the calendar event was written after the meeting

    [confirmation] = emails_to("zoomer@example.org", "Confirmed")
    assert link in confirmation["text"] and link in confirmation["attachments"][0]["content"]
    [created] = deliveries(booking["uid"], "BOOKING_CREATED")
    assert created["payload"]["metadata"]["videoCallUrl"] == link and created["payload"]["location"] == link

    moved = api.call("POST", f"/v2/bookings/{booking['uid']}/reschedule", {"start": at(14)}).data
    assert moved["meetingUrl"] == link  # the same meeting: its link is on the new booking at once
    bus.pump()
    assert zoom.state.meetings[str(meeting["id"])]["start_time"] == at(14)
    assert [r["type"] for r in stored(api, moved["uid"])["references"]] == ["zoom", "google_calendar"]
    [rescheduled] = emails_to("zoomer@example.org", "Rescheduled")
    assert link in rescheduled["text"]
    assert deliveries(moved["uid"], "BOOKING_RESCHEDULED")[0]["payload"]["metadata"]["videoCallUrl"] == link

    api.call("POST", f"/v2/bookings/{moved['uid']}/cancel", {})
    bus.pump()
    assert str(meeting["id"]) not in zoom.state.meetings
    assert booking["references"][1]["uid"] not in google.state.events["primary-cal@example.com"]


def test_teams_meeting_is_the_event_in_the_microsoft_365_destination_calendar(api, bus, fakes):
    graph = fakes["graph"]
    host = api.host("Teams Host")
    connection = office365(api, host)
    assert [c["externalId"] for c in connection["calendars"]] == ["AAMkCalendarWork=", "AAMkCalendarSide="]
    assert connection["destinationCalendar"] == "AAMkCalendarWork=" and "owner" not in json.dumps(connection)
    event_type = api.event_type(ownerId=host["id"], slug="teamed", locations=[{"type": "integration",
                                                                                "integration": "office365-video"}])
    graph.busy("host@contoso.example", f"{DAY.isoformat()}T09:00:00", f"{DAY.isoformat()}T10:00:00")
    starts = [s["start"][11:16] for s in api.slots(event_type["id"], DAY.isoformat(), DAY.isoformat())[DAY.isoformat()]]
    assert "09:00" not in starts and "09:30" not in starts and "10:00" in starts  # getSchedule's busy time counts
    assert api.book(event_type["id"], at(9, 30)).code == "no_available_users_found_error"
    later, last = DAY + timedelta(days=49), DAY + timedelta(days=55)
    graph.busy("host@contoso.example", f"{later.isoformat()}T13:00:00", f"{later.isoformat()}T14:00:00")
    asked = len([r for r in graph.state.requests if r["path"].endswith("/getSchedule")])
    slots = api.slots(event_type["id"], DAY.isoformat(), last.isoformat())
    windows = [r["body"] for r in graph.state.requests if r["path"].endswith("/getSchedule")][asked:]
    assert len(windows) == 2  # 56 days: two windows under Graph's 42, asked in the same round
    assert "13:00" not in [s["start"][11:16] for s in slots[later.isoformat()]]
    assert "13:00" in [s["start"][11:16] for s in slots[(later + timedelta(days=1)).isoformat()]]

    made = api.book(event_type["id"], at(11), email="teams@example.org").data
    bus.pump()
    booking = stored(api, made["uid"])
    [event] = [e for e in graph.state.events.values() if e["start"]["dateTime"] == f"{DAY.isoformat()}T11:00:00"]
    link = event["onlineMeeting"]["joinUrl"]
    assert event["calendarId"] == "AAMkCalendarWork=" and event["onlineMeetingProvider"] == "teamsForBusiness"
    assert booking["meetingUrl"] == link and booking["location"] == link
    assert booking["references"] == [{"type": "office365_video", "uid": event["id"], "meetingUrl": link},
                                     {"type": "office365_calendar", "uid": event["id"], "meetingUrl": None}]
    assert link in emails_to("teams@example.org", "Confirmed")[0]["text"]
    ical_uid = event["iCalUId"]

    moved = api.call("POST", f"/v2/bookings/{made['uid']}/reschedule", {"start": at(15)}).data
    bus.pump()
    assert graph.state.events[event["id"]]["start"]["dateTime"] == f"{DAY.isoformat()}T15:00:00"
    assert graph.state.events[event["id"]]["iCalUId"] == ical_uid
    assert stored(api, moved["uid"])["references"] == booking["references"]
    api.call("POST", f"/v2/bookings/{moved['uid']}/cancel", {})
    bus.pump()
    assert event["id"] not in graph.state.events
    this_event = f"/me/events/{urllib.parse.quote(event['id'], safe='')}"
    writes = [r["method"] for r in graph.state.requests
              if r["method"] == "POST" and r["path"].endswith("/events") and r["body"]["subject"] == booking["title"]
              or r["method"] in ("PATCH", "DELETE") and r["path"] == f"/v1.0{this_event}"]
    assert writes == ["POST", "PATCH", "DELETE"]  # one event: created, moved, deleted once each


def test_google_meet_link_comes_with_the_google_event(api, bus, fakes):
    google = fakes["google"]
    host = api.host("Meet Host")
    google_calendar(api, host)
    event_type = api.event_type(ownerId=host["id"], slug="meet", locations=[{"type": "integration",
                                                                             "integration": "google-meet"}])
    made = api.book(event_type["id"], at(12), email="meet@example.org").data
    bus.pump()
    booking = stored(api, made["uid"])
    [event] = [e for e in google.state.events["primary-cal@example.com"].values()
               if e["start"]["dateTime"] == at(12)]
    link = event["conferenceData"]["entryPoints"][0]["uri"]
    assert booking["meetingUrl"] == link and link.startswith("https://meet.google.com/")
    assert booking["references"] == [
        {"type": "google_meet", "uid": event["conferenceData"]["conferenceId"], "meetingUrl": link},
        {"type": "google_calendar", "uid": event["id"], "meetingUrl": None}]  # one event, both roles
    assert link in emails_to("meet@example.org", "Confirmed")[0]["text"]


def test_a_zoom_outage_leaves_the_booking_and_the_link_comes_with_the_next_change(api, bus, fakes, aws, monkeypatch):
    zoom = fakes["zoom"]
    monkeypatch.setenv("MEETING_LINK_WAIT_SECONDS", "0")  # the wait is over at once: nothing waits for Zoom here
    host = api.host("Outage Host")
    zoom_account(api, host)
    subscribe(api, host, fakes["receiver"])
    event_type = api.event_type(ownerId=host["id"], slug="outage", locations=[{"type": "integration",
                                                                                "integration": "zoom"}])
    zoom.state.faults.add("POST", r"/users/me/meetings$", 503, times=50, body={"code": 503, "message": "busy"})
    made = api.book(event_type["id"], at(16), email="outage@example.org")
    assert made.status == 201
    bus.pump(rounds=300)

    booking = stored(api, made.data["uid"])
    assert booking["status"] == "accepted" and booking["meetingUrl"] is None  # the booking stands
    [confirmation] = emails_to("outage@example.org", "Confirmed")
    assert "Zoom (the link follows)" in confirmation["text"]
    [created] = deliveries(booking["uid"], "BOOKING_CREATED")
    assert "videoCallUrl" not in created["payload"]["metadata"]
    dlq = aws.queue_urls["arn:aws:sqs:us-east-1:123456789012:local-CalendarSyncDLQ"]
    sqs = boto3.client("sqs")
    parked = [m for m in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
              if json.loads(m["Body"])["detail"]["booking"]["uid"] == booking["uid"]]
    assert len(parked) == 1  # retried, then dead-lettered

    zoom.state.faults.clear()  # Zoom is back; the operator redrives the dead letter
    queue = aws.queue_urls["arn:aws:sqs:us-east-1:123456789012:local-CalendarSyncQueue"]
    sqs.send_message(QueueUrl=queue, MessageBody=parked[0]["Body"])
    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=parked[0]["ReceiptHandle"])
    bus.pump()
    link = stored(api, booking["uid"])["meetingUrl"]
    assert link and link.startswith("https://us05web.zoom.us/j/")
    assert len(emails_to("outage@example.org", "Confirmed")) == 1  # not sent twice
    assert len(deliveries(booking["uid"], "BOOKING_CREATED")) == 1

    moved = api.call("POST", f"/v2/bookings/{booking['uid']}/reschedule", {"start": at(15, 30)}).data
    bus.pump()
    assert link in emails_to("outage@example.org", "Rescheduled")[0]["text"]  # the next change carries it
    assert deliveries(moved["uid"], "BOOKING_RESCHEDULED")[0]["payload"]["metadata"]["videoCallUrl"] == link


def test_without_the_apps_connection_the_booking_goes_on_without_a_meeting(api, bus, fakes, monkeypatch):
    monkeypatch.setenv("MEETING_LINK_WAIT_SECONDS", "0")
    host = api.host("No Zoom Host")
    event_type = api.event_type(ownerId=host["id"], slug="no-zoom", locations=[{"type": "integration",
                                                                                 "integration": "zoom"}])
    made = api.book(event_type["id"], at(13), email="nozoom@example.org").data
    started = time.monotonic()
    bus.pump()
    assert stored(api, made["uid"])["meetingUrl"] is None
    assert len(emails_to("nozoom@example.org", "Confirmed")) == 1 and time.monotonic() - started < 30


def test_conferencing_accounts_are_checked_kept_secret_and_removable(api, fakes):
    host = api.host("Conf Host")
    refused = api.call("POST", f"/v2/users/{host['id']}/conferencing", {
        "type": "zoom", "credentials": oauth("nope", "nope", "zoom-client", "zoom-secret")}, admin=True)
    assert refused.status == 400 and refused.body["error"]["details"]["errors"][0]["field"] == "credentials"
    unknown = api.call("POST", f"/v2/users/{host['id']}/conferencing", {"type": "webex", "credentials": {}},
                       admin=True)
    assert unknown.status == 400
    made = zoom_account(api, host)
    assert set(made) == {"id", "userId", "type", "createdAt"} and made["type"] == "zoom"
    assert api.call("GET", f"/v2/users/{host['id']}/conferencing", admin=True).data == [made]
    assert api.call("GET", f"/v2/users/{host['id']}/conferencing").status == 401
    assert api.call("DELETE", f"/v2/users/{host['id']}/conferencing/{made['id']}", admin=True).status == 200
    assert api.call("DELETE", f"/v2/users/{host['id']}/conferencing/{made['id']}", admin=True).status == 404
    assert api.call("GET", "/v2/users/999999/conferencing", admin=True).status == 404


def test_zoom_credentials_are_sealed_for_conferencing_and_checked_before_zoom_is_asked(api, fakes):
    from cryptography.exceptions import InvalidTag

    from booking_core.crypto import CALENDAR_CREDENTIALS, CONFERENCING_CREDENTIALS, unseal
    from booking_core.repositories.entities import ConferencingConnectionRepository

    host = api.host("Sealed Zoom Host")
    zoom_account(api, host)
    _, sealed = ConferencingConnectionRepository().get(host["id"], "zoom")
    assert "zoom-good-token" not in sealed
    assert unseal(sealed, CONFERENCING_CREDENTIALS)["accessToken"] == "zoom-good-token"
    with pytest.raises(InvalidTag):  # a Zoom credential copied into a calendar connection does not open there
        unseal(sealed, CALENDAR_CREDENTIALS)
    asked = len(fakes["zoom"].state.requests)
    bad = api.call("POST", f"/v2/users/{host['id']}/conferencing", {
        "type": "zoom", "credentials": {**oauth("a", "r", "zoom-client"), "expiresAt": "soon"}}, admin=True)
    assert bad.status == 400 and bad.body["error"]["details"]["errors"][0]["field"].endswith("expiresAt")
    assert len(fakes["zoom"].state.requests) == asked


def test_reassign_moves_the_meeting_and_the_event_to_the_new_organizer(api, bus, fakes):
    zoom, google, graph = fakes["zoom"], fakes["google"], fakes["graph"]
    first, second = api.host("Handing Host"), api.host("Taking Host")
    google_calendar(api, first)
    zoom_account(api, first)
    office365(api, second)
    zoom_account(api, second)
    event_type = api.event_type(slug="handed-over", schedulingType="roundRobin",
                                hosts=[{"userId": first["id"]}, {"userId": second["id"]}],
                                locations=[{"type": "integration", "integration": "zoom"}])
    made = api.book(event_type["id"], at(10, 30), email="handover@example.org").data
    assert made["hosts"][0]["id"] == first["id"]
    bus.pump()
    before = stored(api, made["uid"])
    old_link, [zoom_ref, google_ref] = before["meetingUrl"], before["references"]
    assert google_ref["uid"] in google.state.events["primary-cal@example.com"]

    moved = api.call("POST", f"/v2/bookings/{made['uid']}/reassign", {"userId": second["id"]}, admin=True).data
    assert (moved["location"], moved["meetingUrl"]) == ("integrations:zoom", None)  # theirs is made after the commit
    bus.pump()
    after = stored(api, made["uid"])
    assert zoom_ref["uid"] not in zoom.state.meetings  # the first organizer's meeting is deleted
    assert google_ref["uid"] not in google.state.events["primary-cal@example.com"]  # and their calendar's event
    [event] = [e for e in graph.state.events.values() if e["start"]["dateTime"] == f"{DAY.isoformat()}T10:30:00"]
    assert after["meetingUrl"] and after["meetingUrl"] != old_link and f"{after['meetingUrl']}" in event["body"][
        "content"]
    assert [r["type"] for r in after["references"]] == ["zoom", "office365_calendar"]
    assert after["references"][1]["uid"] == event["id"]
    assert emails_to("handover@example.org", "Updated")[0]["text"].count(after["meetingUrl"]) >= 1

    api.call("PATCH", f"/v2/bookings/{made['uid']}/location", {"location": "Meeting room 2"}, admin=True)
    bus.pump()
    final = stored(api, made["uid"])
    assert final["meetingUrl"] is None and [r["type"] for r in final["references"]] == ["office365_calendar"]
    assert str(after["references"][0]["uid"]) not in zoom.state.meetings  # the meeting went with the location
    assert graph.state.events[event["id"]]["location"]["displayName"] == "Meeting room 2"
