"""Issue 4 end to end on the local stack with a real CalDAV server: busy time hides and refuses the slot, and the
booking is written to, moved in and removed from the host's calendar."""

from __future__ import annotations

import pytest

from tests.caldav_server import RadicaleServer, event_ics
from tests.e2e.conftest import Http
from tests.support import wednesday_in_week

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def radicale():
    server = RadicaleServer()
    server.add_user("erin")
    server.start()
    yield server
    server.stop()


def test_caldav_calendar_end_to_end(stack: Http, radicale):
    day = wednesday_in_week(9)
    stamp = day.strftime("%Y%m%d")
    calendar = radicale.make_calendar("erin", "work")
    radicale.put_event(calendar, "erin", "standup", event_ics("standup", f"{stamp}T100000Z", f"{stamp}T110000Z"))
    host = stack.call("POST", "/v2/users", {"name": "Erin Host", "email": "erin@example.com",
                                            "timeZone": "Europe/London"}, admin=True).data
    stack.call("POST", "/v2/schedules", {"userId": host["id"], "name": "Work", "timeZone": "UTC", "availability": [
        {"days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], "startTime": "09:00", "endTime": "17:00"}]},
        admin=True)
    connection = stack.call("POST", f"/v2/users/{host['id']}/calendars", {
        "type": "caldav", "url": radicale.url, "username": "erin", "password": "secret"}, admin=True)
    assert connection.status == 201, connection.body
    event_type = stack.call("POST", "/v2/event-types", {"title": "Erin call", "slug": "erin", "lengthInMinutes": 30,
                                                        "ownerId": host["id"]}, admin=True).data

    slots = stack.call("GET", f"/v2/slots?eventTypeId={event_type['id']}&start={day}&end={day}").data[day.isoformat()]
    starts = [s["start"][11:16] for s in slots]
    assert "10:00" not in starts and "10:30" not in starts and "11:00" in starts
    busy = stack.call("POST", "/v2/bookings", {"start": f"{day}T10:30:00Z", "eventTypeId": event_type["id"],
                                               "attendee": {"name": "B", "email": "b@example.org", "timeZone": "UTC"}})
    assert busy.status == 409

    booking = stack.call("POST", "/v2/bookings", {"start": f"{day}T13:00:00Z", "eventTypeId": event_type["id"],
                                                  "attendee": {"name": "B", "email": "b@example.org",
                                                               "timeZone": "UTC"}}).data

    def reference():
        refs = stack.call("GET", f"/v2/bookings/{booking['uid']}").data.get("references") or []
        return next((r["uid"] for r in refs if r["type"] == "caldav"), None)

    event_url = stack.eventually(reference)
    assert f"DTSTART:{stamp}T130000Z" in radicale.read(event_url, "erin")

    moved = stack.call("POST", f"/v2/bookings/{booking['uid']}/reschedule", {"start": f"{day}T15:30:00Z"}).data
    stack.eventually(lambda: f"DTSTART:{stamp}T153000Z" in (radicale.read(event_url, "erin") or ""))
    cancelled = stack.call("POST", f"/v2/bookings/{moved['uid']}/cancel", {"cancellationReason": "done"})
    assert cancelled.status == 200 and cancelled.data["status"] == "cancelled", cancelled.body
    stack.eventually(lambda: radicale.read(event_url, "erin") is None)
