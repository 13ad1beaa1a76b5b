"""Host operations end to end on the local stack over HTTP: a host lists the bookings they host, hands one to a
colleague, asks the booker for another time; the booker, signed in, lists their own and moves it."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.e2e.conftest import Http
from tests.support import wednesday_in_week

pytestmark = pytest.mark.e2e
LOCAL_JWT_SECRET = "local-booker-secret-change-me-0123456789"


def at(day, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def host(stack: Http, name: str) -> dict:
    user = stack.call("POST", "/v2/users", {"name": name, "email": f"{name.lower().replace(' ', '.')}@hosts.test",
                                            "timeZone": "UTC"}, admin=True).data
    schedule = stack.call("POST", "/v2/schedules", {
        "userId": user["id"], "name": "Work", "timeZone": "UTC",
        "availability": [{"days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
                          "startTime": "08:00", "endTime": "18:00"}]}, admin=True)
    assert schedule.status == 201, schedule.body
    return user


def detail_types(stack: Http, uid: str) -> list[str]:
    return [e["detailType"] for e in stack.call("GET", "/_local/events").data
            if e["detail"].get("booking", {}).get("uid") == uid]


def test_list_reassign_and_request_reschedule(stack: Http):
    day = wednesday_in_week(9)
    first, second = host(stack, "E2E Lister One"), host(stack, "E2E Lister Two")
    event_type = stack.call("POST", "/v2/event-types", {
        "title": "Team call", "slug": "e2e-team-call", "lengthInMinutes": 30, "schedulingType": "roundRobin",
        "hosts": [{"userId": first["id"]}, {"userId": second["id"]}]}, admin=True).data
    booked = stack.call("POST", "/v2/bookings", {"start": at(day, 10), "eventTypeId": event_type["id"],
                                                 "attendee": {"name": "Lee", "email": "lee@example.org",
                                                              "timeZone": "UTC"}}).data
    current = booked["hosts"][0]["id"]
    other = second["id"] if current == first["id"] else first["id"]
    listed = stack.call("GET", f"/v2/bookings?userId={current}&status=upcoming", admin=True)
    assert [b["uid"] for b in listed.data] == [booked["uid"]] and listed.body["pagination"]["hasNextPage"] is False

    moved = stack.call("POST", f"/v2/bookings/{booked['uid']}/reassign", {}, admin=True)
    assert moved.status == 200 and moved.data["hosts"][0]["id"] == other
    assert stack.call("GET", f"/v2/bookings?userId={current}", admin=True).data == []
    stack.eventually(lambda: "bookingReassigned" in detail_types(stack, booked["uid"]))

    asked = stack.call("POST", f"/v2/bookings/{booked['uid']}/request-reschedule", {"reason": "clash"}, admin=True)
    assert asked.data["status"] == "cancelled" and asked.data["rescheduleRequested"] is True
    token = jwt.encode({"email": "lee@example.org", "exp": int(time.time()) + 300}, LOCAL_JWT_SECRET,
                       algorithm="HS256")
    mine = stack.call("GET", f"/v2/me/bookings?status=cancelled&eventTypeId={event_type['id']}",
                      headers={"Authorization": f"Bearer {token}"})
    assert [b["uid"] for b in mine.data] == [booked["uid"]]
    again = stack.call("POST", f"/v2/bookings/{booked['uid']}/reschedule", {"start": at(day, 11)})
    assert again.status == 201 and again.data["rescheduledFromUid"] == booked["uid"]
    emails = stack.eventually(lambda: [m for m in stack.call("GET", "/_local/emails").data
                                       if m["to"] == ["lee@example.org"]
                                       and m["subject"].startswith("Please pick a new time")])
    assert "clash" in emails[0]["text"]
