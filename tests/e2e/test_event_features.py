"""Issue 5 end to end on the local stack: book -> signed webhook -> confirmation email -> reschedule -> reminder
moved -> cancel -> cancellation email and webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler

import pytest

from tests.e2e.conftest import Http
from tests.support import base_url, serving, wednesday_in_week

pytestmark = pytest.mark.e2e
SECRET = "e2e-webhook-secret"


class Consumer(BaseHTTPRequestHandler):
    """A cal.com webhook consumer: verifies X-Cal-Signature-256 the way cal.com documents it, then records."""

    verified: list[dict] = []
    rejected = 0

    def log_message(self, *args):  # noqa: D102
        return

    def do_POST(self):  # noqa: N802
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        expected = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, self.headers.get("X-Cal-Signature-256", "")):
            Consumer.verified.append(json.loads(raw))
            status = 200
        else:
            Consumer.rejected += 1
            status = 401
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def consumer():
    with serving(Consumer) as server:
        yield base_url(server) + "/cal"


def emails_to(stack: Http, address: str) -> list[dict]:
    return [e for e in stack.call("GET", "/_local/emails").data if address in e["to"]]


def test_booking_lifecycle_reaches_webhooks_emails_and_reminders(stack: Http, consumer):
    event_type = stack.call("POST", "/v2/event-types", {
        "title": "Lifecycle", "slug": "e2e-lifecycle", "lengthInMinutes": 30, "ownerId": 1,
        "reminders": [{"minutesBefore": 120}]}, admin=True).data
    hook = stack.call("POST", "/v2/webhooks", {"subscriberUrl": consumer, "secret": SECRET,
                                               "eventTypeId": event_type["id"],
                                               "triggers": ["BOOKING_CREATED", "BOOKING_RESCHEDULED",
                                                            "BOOKING_CANCELLED"]}, admin=True)
    assert hook.status == 201
    metadata = stack.call("POST", "/v2/webhooks", {"subscriberUrl": "http://169.254.169.254/latest",
                                                   "triggers": ["BOOKING_CREATED"]}, admin=True)
    assert metadata.status == 400 and metadata.code == "request_body_invalid_error"

    day = wednesday_in_week(8)
    attendee = "lifecycle@example.org"
    booking = stack.call("POST", "/v2/bookings", {"start": f"{day}T10:00:00Z", "eventTypeId": event_type["id"],
                                                  "attendee": {"name": "Life", "email": attendee,
                                                               "timeZone": "Europe/Paris"}}).data

    def webhook(trigger: str, uid: str):
        return next((w for w in Consumer.verified if w["triggerEvent"] == trigger and w["payload"]["uid"] == uid), None)

    created = stack.eventually(lambda: webhook("BOOKING_CREATED", booking["uid"]))
    assert created["payload"]["attendees"][0]["email"] == attendee and Consumer.rejected == 0
    confirmation = stack.eventually(lambda: [e for e in emails_to(stack, attendee) if e["subject"].startswith("Confirmed")])
    assert confirmation[0]["attachments"][0]["filename"] == "invite.ics"
    subject = confirmation[0]["subject"]
    assert "11:00 (Europe/Paris)" in subject and "\n" not in subject  # 10:00Z in the attendee's zone, unfolded

    moved = stack.call("POST", f"/v2/bookings/{booking['uid']}/reschedule", {"start": f"{day}T14:00:00Z"}).data
    rescheduled = stack.eventually(lambda: webhook("BOOKING_RESCHEDULED", moved["uid"]))
    assert rescheduled["payload"]["rescheduleUid"] == booking["uid"]
    stack.eventually(lambda: [e for e in emails_to(stack, attendee) if e["subject"].startswith("Rescheduled")])

    # the reminder moved with the booking: two hours before 14:00 it fires, nothing fires for 10:00
    old_reminder = datetime.fromisoformat(f"{day}T08:00:00+00:00")
    fired = stack.call("POST", "/_local/scheduler/run",
                       {"until": (old_reminder + timedelta(minutes=1)).isoformat()}).data["fired"]
    assert not [f for f in fired if booking["uid"] in f["name"]]
    fired = stack.call("POST", "/_local/scheduler/run", {"until": f"{day}T12:00:30Z"}).data["fired"]
    assert [f["name"] for f in fired if f["detailType"] == "reminderDue"] == [f"reminderDue-{moved['uid']}-120"]
    stack.eventually(lambda: [e for e in emails_to(stack, attendee) if e["subject"].startswith("Reminder")])

    stack.call("POST", f"/v2/bookings/{moved['uid']}/cancel", {"cancellationReason": "conflict"})
    cancelled = stack.eventually(lambda: webhook("BOOKING_CANCELLED", moved["uid"]))
    assert cancelled["payload"]["cancellationReason"] == "conflict"
    cancellation = stack.eventually(lambda: [e for e in emails_to(stack, attendee) if e["subject"].startswith("Cancelled")])
    assert "METHOD:CANCEL" in cancellation[0]["attachments"][0]["content"]
    deliveries = stack.call("GET", f"/v2/webhooks/{hook.data['id']}/deliveries", admin=True).data
    assert {d["status"] for d in deliveries} == {"delivered"} and len(deliveries) == 3
