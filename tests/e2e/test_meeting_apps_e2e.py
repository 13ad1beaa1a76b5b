"""Issue 14 end to end on the local stack, its provider endpoints pointed at request-checking fakes of Google,
Microsoft Graph and Zoom: a Google Meet, a Teams and a Zoom booking each get their meeting, and its link reaches
the booking, its references, the confirmation email and the BOOKING_CREATED webhook; the Zoom meeting moves with a
reschedule and goes with the cancellation."""

from __future__ import annotations


import pytest

from tests.e2e.conftest import Http
from tests.support import WebhookReceiver, wednesday_in_week

pytestmark = pytest.mark.e2e
FAR = 4102444800


HOOKS = WebhookReceiver()


@pytest.fixture(scope="module")
def hooks():
    with HOOKS.running() as url:
        yield url + "/hooks"


def oauth(access: str, refresh: str, client: str, secret: str = "shh") -> dict:
    return {"accessToken": access, "refreshToken": refresh, "expiresAt": FAR, "clientId": client,
            "clientSecret": secret}


def host_with(stack: Http, name: str, connections: list[tuple[str, dict]]) -> dict:
    host = stack.call("POST", "/v2/users", {"name": name, "email": f"{name.lower().replace(' ', '.')}@example.com",
                                            "timeZone": "UTC"}, admin=True).data
    stack.call("POST", "/v2/schedules", {"userId": host["id"], "name": "Work", "timeZone": "UTC", "availability": [
        {"days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], "startTime": "09:00", "endTime": "17:00"}]},
        admin=True)
    for path, body in connections:
        reply = stack.call("POST", f"/v2/users/{host['id']}/{path}", body, admin=True)
        assert reply.status == 201, reply.body
    return host


def book_with_app(stack: Http, hooks: str, host: dict, integration: str, start: str, attendee: str) -> tuple[dict, str]:
    """Book a type with the app; wait for the link on the booking. (booking as stored, link)"""
    event_type = stack.call("POST", "/v2/event-types", {
        "title": f"{integration} call", "slug": f"e2e-{integration}", "lengthInMinutes": 30, "ownerId": host["id"],
        "locations": [{"type": "integration", "integration": integration}]}, admin=True).data
    assert stack.call("POST", "/v2/webhooks", {"subscriberUrl": hooks, "eventTypeId": event_type["id"],
                                               "triggers": ["BOOKING_CREATED"]}, admin=True).status == 201
    made = stack.call("POST", "/v2/bookings", {"start": start, "eventTypeId": event_type["id"],
                                               "attendee": {"name": "E2E", "email": attendee, "timeZone": "UTC"}})
    assert made.status == 201 and made.data["meetingUrl"] is None
    booking = stack.eventually(lambda: (lambda b: b if b.get("meetingUrl") else None)(
        stack.call("GET", f"/v2/bookings/{made.data['uid']}").data))
    link = booking["meetingUrl"]
    assert booking["location"] == link

    confirmation = stack.eventually(lambda: [e for e in stack.call("GET", "/_local/emails").data
                                             if attendee in e["to"] and e["subject"].startswith("Confirmed")])
    assert len(confirmation) == 1 and link in confirmation[0]["text"]  # held for the link, then sent once
    created = stack.eventually(lambda: [h for h in HOOKS.bodies() if h["payload"]["uid"] == booking["uid"]])
    assert created[0]["triggerEvent"] == "BOOKING_CREATED" and created[0]["payload"]["metadata"]["videoCallUrl"] == link
    # the local event tap reads its own queue: it can see the event after the subscriber that sent the email did
    follow_ups = stack.eventually(lambda: [
        e for e in stack.call("GET", "/_local/events").data
        if e["detailType"] == "bookingMeetingCreated" and e["detail"]["booking"]["uid"] == booking["uid"]])
    assert len(follow_ups) == 1 and follow_ups[0]["detail"]["context"]["causeDetailType"] == "bookingCreated"
    return booking, link


def test_meet_teams_and_zoom_bookings_get_their_meetings(stack: Http, hooks, provider_fakes):
    day = wednesday_in_week(10)
    google, graph, zoom = provider_fakes["google"], provider_fakes["graph"], provider_fakes["zoom"]

    meet_host = host_with(stack, "Meet Host", [("calendars", {"type": "google", "credentials": oauth(
        "good-token", "refresh-1", "client-1")})])
    booking, link = book_with_app(stack, hooks, meet_host, "google-meet", f"{day}T10:00:00Z", "meet@example.org")
    assert link.startswith("https://meet.google.com/")
    [event] = [e for e in google.state.events["primary-cal@example.com"].values() if e.get("hangoutLink") == link]
    assert [r["type"] for r in booking["references"]] == ["google_meet", "google_calendar"]

    teams_host = host_with(stack, "Teams Host", [("calendars", {"type": "office365", "credentials": oauth(
        "ms-good-token", "ms-refresh-1", "ms-client")})])
    booking, link = book_with_app(stack, hooks, teams_host, "office365-video", f"{day}T11:00:00Z", "teams@example.org")
    assert link.startswith("https://teams.microsoft.com/l/meetup-join/")
    assert [r["type"] for r in booking["references"]] == ["office365_video", "office365_calendar"]
    assert any(e["onlineMeeting"] and e["onlineMeeting"]["joinUrl"] == link for e in graph.state.events.values())

    zoom_host = host_with(stack, "Zoom Host", [("conferencing", {"type": "zoom", "credentials": oauth(
        "zoom-good-token", "zoom-refresh-1", "zoom-client", "zoom-secret")})])
    booking, link = book_with_app(stack, hooks, zoom_host, "zoom", f"{day}T12:00:00Z", "zoom@example.org")
    meeting_id = booking["references"][0]["uid"]
    assert booking["references"][0] == {"type": "zoom", "uid": meeting_id, "meetingUrl": link}
    assert zoom.state.meetings[meeting_id]["join_url"] == link

    moved = stack.call("POST", f"/v2/bookings/{booking['uid']}/reschedule", {"start": f"{day}T15:00:00Z"}).data
    assert moved["meetingUrl"] == link
    stack.eventually(lambda: zoom.state.meetings[meeting_id]["start_time"] == f"{day}T15:00:00Z")
    cancelled = stack.call("POST", f"/v2/bookings/{moved['uid']}/cancel", {"cancellationReason": "done"})
    assert cancelled.status == 200 and cancelled.data["status"] == "cancelled", cancelled.body
    stack.eventually(lambda: meeting_id not in zoom.state.meetings)
