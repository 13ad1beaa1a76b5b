"""The foundation end to end on the local stack: seeded data, booking, events on the bus, a subscriber's effect."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Http, StackProcess
from tests.support import wednesday_in_week

pytestmark = pytest.mark.e2e


def test_health_and_seeded_demo_data(stack: Http):
    assert stack.call("GET", "/health").status == 200
    alice = stack.call("GET", "/v2/users/1", admin=True)
    assert alice.status == 200 and alice.data["name"] == "Alice Host"
    intro = stack.call("GET", "/v2/event-types/1", admin=True).data
    demo = stack.call("GET", "/v2/event-types/2", admin=True).data
    assert intro["ownerId"] == 1 and demo["schedulingType"] == "roundRobin" and len(demo["hosts"]) == 2
    assert stack.call("GET", "/v2/users/1").code == "unauthorized_error"


def test_booking_reaches_the_bus_and_the_hosts_subscriber(stack: Http):
    day = wednesday_in_week(0).isoformat()
    slots = stack.call("GET", f"/v2/slots?eventTypeId=1&start={day}&end={day}&timeZone=Europe/London")
    first = slots.data[day][0]["start"]
    booking = stack.call("POST", "/v2/bookings", {
        "start": first, "eventTypeId": 1,
        "attendee": {"name": "E2E Booker", "email": "e2e@example.org", "timeZone": "Europe/London"}})
    assert booking.status == 201, booking.body
    uid = booking.data["uid"]
    assert booking.data["meetingUrl"].startswith("https://meet.jit.si/intro-call-")

    def created_event():
        events = stack.call("GET", "/_local/events").data
        return [e for e in events if e["detailType"] == "bookingCreated" and e["detail"]["booking"]["uid"] == uid]

    [event] = stack.eventually(created_event)
    assert event["source"] == "booking-service"
    assert event["detail"]["booking"]["organizer"]["id"] == 1
    assert event["detail"]["version"] == 1

    def host_active():
        user = stack.call("GET", "/v2/users/1", admin=True).data
        return user["lastActiveAt"] == booking.data["createdAt"] and user

    stack.eventually(host_active)
    again = stack.call("GET", f"/v2/slots?eventTypeId=1&start={day}&end={day}&timeZone=Europe/London")
    assert first not in [slot["start"] for slot in again.data[day]]


def test_round_robin_booking_picks_a_free_host(stack: Http):
    day = wednesday_in_week(1).isoformat()
    first = stack.call("POST", "/v2/bookings", {
        "start": f"{day}T10:00:00Z", "eventTypeId": 2,
        "attendee": {"name": "R1", "email": "r1@example.org", "timeZone": "UTC"}})
    second = stack.call("POST", "/v2/bookings", {
        "start": f"{day}T10:00:00Z", "eventTypeId": 2,
        "attendee": {"name": "R2", "email": "r2@example.org", "timeZone": "UTC"}})
    third = stack.call("POST", "/v2/bookings", {
        "start": f"{day}T10:00:00Z", "eventTypeId": 2,
        "attendee": {"name": "R3", "email": "r3@example.org", "timeZone": "UTC"}})
    assert first.status == second.status == 201
    assert {first.data["hosts"][0]["id"], second.data["hosts"][0]["id"]} == {1, 2}
    assert third.status == 409 and third.code == "round_robin_host_unavailable_for_booking"


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["terminal", "background-job"])
def test_ctrl_c_stops_the_stack_cleanly(sigint_ignored: bool):
    stack = StackProcess(sigint_ignored=sigint_ignored).wait_healthy()
    assert stack.interrupt() == 0
    assert "stopped." in stack.output
    assert "Traceback" not in stack.output
