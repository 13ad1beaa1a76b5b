"""Issue 12 end to end on the local stack: a workflow's texts at GET /_local/sms (at once and by schedule), a slot
reservation taken by its booking, and an out-of-office host."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import Http
from tests.support import wednesday_in_week

pytestmark = pytest.mark.e2e


def texts_to(stack: Http, number: str) -> list[dict]:
    return [text for text in stack.call("GET", "/_local/sms").data if text["to"] == number]


def test_workflow_texts_reservations_and_out_of_office(stack: Http):
    day = wednesday_in_week(11)
    event_type = stack.call("POST", "/v2/event-types", {"title": "Texted", "slug": "e2e-texted",
                                                        "lengthInMinutes": 30, "ownerId": 1}, admin=True).data
    for body in ({"trigger": "newEvent", "steps": [{"action": "smsAttendee", "body": "Booked: {EVENT_TIME}"}]},
                 {"trigger": "beforeEvent", "offset": {"value": 1, "unit": "hours"},
                  "steps": [{"action": "smsNumber", "to": "+44 20 7946 0321", "body": "{ATTENDEE_NAME} in an hour"}]}):
        created = stack.call("POST", "/v2/workflows", {"name": "e2e", "activeOn": {"eventTypeIds": [event_type["id"]]},
                                                       **body}, admin=True)
        assert created.status == 201, created.body

    held = stack.call("POST", "/v2/slots/reservations", {"eventTypeId": event_type["id"],
                                                         "slotStart": f"{day}T10:00:00Z"})
    assert held.status == 201, held.body
    slots = stack.call("GET", f"/v2/slots?eventTypeId={event_type['id']}&start={day}&end={day}&timeZone=UTC").data
    assert f"{day}T10:00:00.000+00:00" not in [s["start"] for s in slots.get(str(day), [])]
    taken = stack.call("POST", "/v2/bookings", {"start": f"{day}T10:00:00Z", "eventTypeId": event_type["id"],
                                                "attendee": {"name": "Tess", "email": "tess@example.org",
                                                             "timeZone": "Europe/Paris",
                                                             "phoneNumber": "+33 6 98 76 54 32"}})
    assert taken.status == 409 and taken.code == "slot_reserved"
    booking = stack.call("POST", "/v2/bookings", {"start": f"{day}T10:00:00Z", "eventTypeId": event_type["id"],
                                                  "reservationUid": held.data["reservationUid"],
                                                  "attendee": {"name": "Tess", "email": "tess@example.org",
                                                               "timeZone": "Europe/Paris",
                                                               "phoneNumber": "+33 6 98 76 54 32"}})
    assert booking.status == 201, booking.body

    [booked] = stack.eventually(lambda: texts_to(stack, "+33698765432"))
    paris = datetime.fromisoformat(f"{day}T10:00:00+00:00").astimezone(ZoneInfo("Europe/Paris"))
    assert booked["body"] == f"Booked: {paris:%H:%M}"
    fired = stack.call("POST", "/_local/scheduler/run", {"until": f"{day}T09:00:30Z"}).data["fired"]
    assert [f["detailType"] for f in fired if booking.data["uid"] in f["name"] and f["name"].startswith("wf-")] == [
        "workflowStepDue"]
    [reminder] = stack.eventually(lambda: texts_to(stack, "+442079460321"))
    assert reminder["body"] == "Tess in an hour"

    away = stack.call("POST", "/v2/users/1/ooo", {"start": f"{day}T13:00:00Z", "end": f"{day}T15:00:00Z"}, admin=True)
    assert away.status == 201
    refused = stack.call("POST", "/v2/bookings", {"start": f"{day}T14:00:00Z", "eventTypeId": event_type["id"],
                                                  "attendee": {"name": "Ola", "email": "ola@example.org",
                                                               "timeZone": "UTC"}})
    assert refused.status == 409 and refused.code == "host_out_of_office"
