"""Sample events for every function (`sam local invoke -e events/...` where Docker exists).

`python -m tests.samples` rewrites events/ from the definitions below; tests/integration/test_samples.py checks the
committed files match and runs every one of them through its handler, so they never rot.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from local.apigw import http_api_event
from local.cfn import load_template

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
# Samples are what API Gateway sends on the stage template.yaml deploys (its Stage parameter's default): rawPath
# /<stage>/v2/..., requestContext.stage naming it.
TEMPLATE_STAGE = load_template()["Parameters"]["Stage"]["Default"]
SAMPLE_ADMIN_KEY = "local-admin-key"  # the local stack's default; the test swaps in its own key
SAMPLE_TIME = datetime(2030, 1, 2, 9, 0, tzinfo=timezone.utc)
FUTURE_WEDNESDAY = "2030-01-09"

# (file name, method, path, body, admin, statuses the test accepts). Creates run first so ids 1 exist.
API_SAMPLES: list[tuple[str, str, str, Any, bool, set[int]]] = [
    ("health", "GET", "/health", None, False, {200}),
    ("openapi", "GET", "/v2/openapi.json", None, False, {200}),
    ("docs", "GET", "/v2/docs", None, False, {200}),
    ("create-user", "POST", "/v2/users",
     {"name": "Alice Host", "email": "alice@example.com", "timeZone": "Europe/London"}, True, {201}),
    ("get-user", "GET", "/v2/users/1", None, True, {200}),
    ("patch-user", "PATCH", "/v2/users/1", {"locale": "en"}, True, {200}),
    ("create-schedule", "POST", "/v2/schedules",
     {"userId": 1, "name": "Working hours", "timeZone": "Europe/London",
      "availability": [{"days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
                        "startTime": "09:00", "endTime": "17:00"}],
      "overrides": [{"date": "2030-12-24", "startTime": "00:00", "endTime": "00:00"}]}, True, {201}),
    ("get-schedule", "GET", "/v2/schedules/1", None, True, {200}),
    ("patch-schedule", "PATCH", "/v2/schedules/1", {"name": "Office hours"}, True, {200}),
    ("create-event-type", "POST", "/v2/event-types",
     {"title": "Intro call", "slug": "intro-call", "lengthInMinutes": 30, "ownerId": 1,
      "locations": [{"type": "integration", "integration": "jitsi"}],
      "bookingFields": [{"slug": "company", "label": "Company", "type": "text", "maxLength": 100},
                        {"slug": "topic", "label": "What would you like to discuss?", "type": "select",
                         "options": ["pricing", "integration", "other"]}]}, True, {201}),
    ("get-event-type", "GET", "/v2/event-types/1", None, True, {200}),
    ("patch-event-type", "PATCH", "/v2/event-types/1", {"description": "A first chat"}, True, {200}),
    ("delete-event-type", "DELETE", "/v2/event-types/999999", None, True, {404}),
    ("get-slots", "GET", f"/v2/slots?eventTypeId=1&start={FUTURE_WEDNESDAY}&end={FUTURE_WEDNESDAY}&timeZone=Europe/London",
     None, False, {200}),
    ("create-booking", "POST", "/v2/bookings",
     {"start": f"{FUTURE_WEDNESDAY}T10:00:00Z", "eventTypeId": 1,
      "attendee": {"name": "Jane Booker", "email": "jane@example.com", "timeZone": "Europe/Paris",
                   "phoneNumber": "+44 20 7183 8750"},
      "guests": ["friend@example.com"], "metadata": {"source": "sample"},
      "bookingFieldsResponses": {"company": "Acme Ltd", "topic": "pricing"}}, False, {200, 201, 409}),
    ("get-booking", "GET", "/v2/bookings/sample-booking-uid-0000000", None, False, {404}),
    ("create-booking-signed-in", "POST", "/v2/me/bookings",
     {"start": f"{FUTURE_WEDNESDAY}T11:00:00Z", "eventTypeId": 1,
      "attendee": {"name": "Sam Signed", "email": "sam@example.com", "timeZone": "UTC"}}, False, {200, 201, 409}),
    ("reschedule-booking", "POST", "/v2/bookings/sample-booking-uid-0000000/reschedule",
     {"start": f"{FUTURE_WEDNESDAY}T14:00:00Z", "reschedulingReason": "clash"}, False, {404}),
    ("cancel-booking", "POST", "/v2/bookings/sample-booking-uid-0000000/cancel",
     {"cancellationReason": "cannot make it"}, False, {404}),
    ("cancel-series", "POST", "/v2/bookings/sample-booking-uid-0000000/cancel",
     {"cancellationReason": "the course ends", "cancelSubsequentBookings": True}, False, {404}),
    ("get-series", "GET", "/v2/bookings/7d1c2b1e-5a4f-4c3b-9d2e-1f0a9b8c7d6e", None, False, {404}),
    ("list-bookings", "GET", "/v2/bookings?status=upcoming,unconfirmed&userId=1&sortStart=asc&take=20", None, True,
     {200}),
    ("list-my-bookings", "GET", "/v2/me/bookings?status=upcoming&take=20", None, False, {200}),
    ("mark-absent", "POST", "/v2/bookings/sample-booking-uid-0000000/mark-absent",
     {"host": False, "attendees": [{"email": "jane@example.com", "absent": True}]}, True, {404}),
    ("reassign-booking", "POST", "/v2/bookings/sample-booking-uid-0000000/reassign", {"reason": "Alice is away"},
     True, {404}),
    ("request-reschedule", "POST", "/v2/bookings/sample-booking-uid-0000000/request-reschedule",
     {"reason": "I have to travel that day"}, True, {404}),
    ("add-guests", "POST", "/v2/bookings/sample-booking-uid-0000000/guests",
     {"guests": [{"email": "colleague@example.com", "name": "A colleague"}]}, True, {404}),
    ("change-location", "PATCH", "/v2/bookings/sample-booking-uid-0000000/location",
     {"location": "Main office, room 4"}, True, {404}),
    ("confirm-booking", "POST", "/v2/bookings/sample-booking-uid-0000000/confirm", None, True, {404}),
    ("decline-booking", "POST", "/v2/bookings/sample-booking-uid-0000000/decline", {"reason": "busy"}, True, {404}),
    ("create-blocklist-entry", "POST", "/v2/blocklist",
     {"type": "domain", "value": "spam-sample.test", "action": "block"}, True, {201, 409}),
    ("list-blocklist", "GET", "/v2/blocklist", None, True, {200}),
    ("delete-blocklist-entry", "DELETE", "/v2/blocklist/999999", None, True, {404}),
    ("create-private-link", "POST", "/v2/event-types/1/private-links",
     {"expiresAt": "2031-01-01T00:00:00Z", "maxUsageCount": 10}, True, {201}),
    ("list-private-links", "GET", "/v2/event-types/1/private-links", None, True, {200}),
    ("create-routing-form-response", "POST", "/v2/routing-form-responses",
     {"formId": "sales-form", "response": {"companySize": "50-200"}}, True, {201}),
    ("create-webhook", "POST", "/v2/webhooks",
     {"subscriberUrl": "https://hooks.example.com/cal", "triggers": ["BOOKING_CREATED", "BOOKING_CANCELLED"],
      "secret": "whsec-sample"}, True, {201, 400}),
    ("list-webhooks", "GET", "/v2/webhooks", None, True, {200}),
    ("get-webhook", "GET", "/v2/webhooks/999999", None, True, {404}),
    ("patch-webhook", "PATCH", "/v2/webhooks/999999", {"active": False}, True, {404}),
    ("delete-webhook", "DELETE", "/v2/webhooks/999999", None, True, {404}),
    ("webhook-deliveries", "GET", "/v2/webhooks/999999/deliveries", None, True, {404}),
    ("connect-calendar", "POST", "/v2/users/1/calendars",
     {"type": "caldav", "url": "http://127.0.0.1:9/dav/", "username": "alice", "password": "app-password"},
     True, {400}),
    ("list-calendars", "GET", "/v2/users/1/calendars", None, True, {200}),
    ("update-calendar", "PATCH", "/v2/users/1/calendars/999999",
     {"selectedCalendars": ["http://127.0.0.1:9/dav/alice/work/"]}, True, {404}),
    ("disconnect-calendar", "DELETE", "/v2/users/1/calendars/999999", None, True, {404}),
    ("connect-conferencing", "POST", "/v2/users/999999/conferencing",  # no such user: answered before Zoom is asked
     {"type": "zoom", "credentials": {"accessToken": "zoom-access-token", "refreshToken": "zoom-refresh-token",
                                      "expiresAt": 1893574800, "clientId": "zoom-client-id",
                                      "clientSecret": "zoom-client-secret"}}, True, {404}),
    ("list-conferencing", "GET", "/v2/users/1/conferencing", None, True, {200}),
    ("disconnect-conferencing", "DELETE", "/v2/users/1/conferencing/999999", None, True, {404}),
    ("create-out-of-office", "POST", "/v2/users/1/ooo",
     {"start": "2031-08-01T00:00:00Z", "end": "2031-08-15T00:00:00Z", "reason": "Summer holiday"}, True, {201}),
    ("list-out-of-office", "GET", "/v2/users/1/ooo", None, True, {200}),
    ("delete-out-of-office", "DELETE", "/v2/users/1/ooo/999999", None, True, {404}),
    ("create-workflow", "POST", "/v2/workflows",
     {"name": "Text an hour before", "activeOn": {"eventTypeIds": [1]}, "trigger": "beforeEvent",
      "offset": {"value": 1, "unit": "hours"},
      "steps": [{"action": "smsAttendee", "body": "Hi {ATTENDEE_NAME}, {EVENT_NAME} starts at {EVENT_TIME} "
                                                  "({TIMEZONE}): {MEETING_URL}"}]}, True, {201}),
    ("list-workflows", "GET", "/v2/workflows", None, True, {200}),
    ("get-workflow", "GET", "/v2/workflows/999999", None, True, {404}),
    ("patch-workflow", "PATCH", "/v2/workflows/999999", {"name": "Renamed"}, True, {404}),
    ("delete-workflow", "DELETE", "/v2/workflows/999999", None, True, {404}),
    ("reserve-slot", "POST", "/v2/slots/reservations",
     {"eventTypeId": 1, "slotStart": f"{FUTURE_WEDNESDAY}T15:00:00Z", "reservationDuration": 10}, False,
     {201, 409}),
    ("get-slot-reservation", "GET", "/v2/slots/reservations/sample-reservation-uid00", None, False, {404}),
    ("move-slot-reservation", "PATCH", "/v2/slots/reservations/sample-reservation-uid00",
     {"slotStart": f"{FUTURE_WEDNESDAY}T15:30:00Z"}, False, {404}),
    ("release-slot-reservation", "DELETE", "/v2/slots/reservations/sample-reservation-uid00", None, False, {404}),
    ("get-payment", "GET", "/v2/payments/sample-payment-uid", None, False, {404}),
    ("stripe-webhook", "POST", "/v2/payments/stripe/webhook",
     {"id": "evt_sample", "type": "payment_intent.succeeded",
      "data": {"object": {"id": "pi_sample", "metadata": {"paymentUid": "sample-payment-uid"}}}}, False, {401, 404}),
]
# The signed-in route sits behind API Gateway's JWT authorizer: its sample carries the verified claims.
SAMPLE_CLAIMS = {name: {"email": "sam@example.com", "sub": "sample-user", "iss": "https://auth.example.com/",
                        "aud": "booking-service"} for name in ("create-booking-signed-in", "list-my-bookings")}


def api_sample(method: str, path: str, body: Any, admin: bool, claims: dict[str, Any] | None = None) -> dict[str, Any]:
    headers = {"content-type": "application/json", "user-agent": "curl/8.5.0", "host": "api.example.com"}
    if admin:
        headers["authorization"] = f"Bearer {SAMPLE_ADMIN_KEY}"
    if claims:
        headers["authorization"] = "Bearer <the booker's JWT, verified by API Gateway>"
    event = http_api_event(method, path, headers, json.dumps(body) if body is not None else None, jwt_claims=claims,
                           stage=TEMPLATE_STAGE)
    event["requestContext"]["requestId"] = "sample-request-id"
    event["requestContext"]["time"] = SAMPLE_TIME.strftime("%d/%b/%Y:%H:%M:%S +0000")
    event["requestContext"]["timeEpoch"] = int(SAMPLE_TIME.timestamp() * 1000)
    return event


def booking_detail(detail_type: str = "bookingCreated",
                   event_id: str = "00000000-0000-4000-8000-000000000001") -> dict[str, Any]:
    """The event detail as the publisher puts it on the bus, with the booking in the state that event leaves it."""
    host = {"id": 1, "name": "Alice Host", "email": "alice@example.com", "timeZone": "Europe/London", "locale": "en"}
    booking = {
        "id": 1, "uid": "sample-booking-uid-0000000", "title": "Intro call between Alice Host and Jane Booker",
        "description": None, "status": "accepted", "start": f"{FUTURE_WEDNESDAY}T10:00:00.000Z",
        "end": f"{FUTURE_WEDNESDAY}T10:30:00.000Z", "duration": 30, "eventTypeId": 1,
        "eventType": {"id": 1, "slug": "intro-call"}, "hosts": [host],
        "attendees": [{"name": "Jane Booker", "email": "jane@example.com", "timeZone": "Europe/Paris",
                       "language": "en", "phoneNumber": "+442071838750"}],
        "guests": ["friend@example.com"], "location": "https://meet.jit.si/intro-call-sample",
        "meetingUrl": "https://meet.jit.si/intro-call-sample", "metadata": {}, "bookingFieldsResponses": {},
        "createdAt": "2030-01-02T09:00:00.000Z", "updatedAt": "2030-01-02T09:00:00.000Z",
        "cancellationReason": None, "reschedulingReason": None, "rescheduledFromUid": None,
        "rescheduledToUid": None, "organizer": host,
    }
    previous = None
    if detail_type in {"bookingRequested", "bookingPaymentInitiated"}:
        booking["status"] = "pending"
    elif detail_type == "bookingRejected":
        booking.update(status="rejected", cancellationReason="I am away that week")
    elif detail_type == "bookingCancelled":
        booking.update(status="cancelled", cancellationReason="Something came up")
    elif detail_type == "bookingRescheduled":  # the new booking; the one it replaced is cancelled and points to it
        previous = {**booking, "id": 0, "uid": "sample-previous-booking-uid", "status": "cancelled",
                    "start": f"{FUTURE_WEDNESDAY}T09:00:00.000Z", "end": f"{FUTURE_WEDNESDAY}T09:30:00.000Z",
                    "rescheduledToUid": booking["uid"]}
        booking.update(rescheduledFromUid=previous["uid"], reschedulingReason="Earlier meeting ran over")
    context: dict[str, Any] = {"privateLink": None, "routingFormResponseId": None, "seatUid": None,
                               "triggeredBy": "booker"}
    if detail_type in {"bookingNoShowUpdated", "bookingReassigned", "bookingUpdated"}:  # the host's operations
        context["triggeredBy"] = "host"
    if detail_type == "bookingNoShowUpdated":
        booking["attendees"][0]["absent"] = True
        context["noShow"] = {"host": None, "attendees": [{"email": "jane@example.com", "noShow": True}]}
    elif detail_type == "bookingReassigned":  # the round-robin booking goes from Alice to Bob
        bob = {"id": 2, "name": "Bob Host", "email": "bob@example.com", "timeZone": "Europe/London", "locale": "en"}
        previous = {**booking, "iCalSequence": 0}
        booking.update(hosts=[bob], organizer=bob, title="Intro call between Bob Host and Jane Booker",
                       iCalSequence=1)
        context["reassignReason"] = "Alice is away"
    elif detail_type == "bookingUpdated":  # a guest added by the host
        previous = {**booking, "iCalSequence": 0}
        booking.update(guests=["friend@example.com", "colleague@example.com"], iCalSequence=1)
    if detail_type == "bookingMeetingCreated":  # the app-sync step made the Zoom meeting of a bookingCreated
        link = "https://us05web.zoom.us/j/85012345678?pwd=sample"
        booking.update(location=link, meetingUrl=link,
                       references=[{"type": "zoom", "uid": "85012345678", "meetingUrl": link}])
        context.update(causeEventId="00000000-0000-4000-8000-000000000002", causeDetailType="bookingCreated")
    return {"eventId": event_id, "version": 1, "occurredAt": "2030-01-02T09:00:00.000Z", "booking": booking,
            "previousBooking": previous, "context": context}


SCHEDULED = {"meetingStarted", "meetingEnded", "reminderDue", "workflowStepDue"}


def moment_detail(detail_type: str) -> dict[str, Any]:
    """What an EventBridge Scheduler one-time schedule puts on the bus at a booking's moment."""
    at = {"reminderDue": "2030-01-08T10:00:00.000Z", "workflowStepDue": f"{FUTURE_WEDNESDAY}T09:00:00.000Z"}.get(
        detail_type, f"{FUTURE_WEDNESDAY}T10:00:00.000Z")
    name = {"reminderDue": "reminderDue-sample-booking-uid-0000000-1440",
            "workflowStepDue": "wf-1-0-sample-booking-uid-0000000"}.get(
        detail_type, f"{detail_type}-sample-booking-uid-0000000")
    detail: dict[str, Any] = {"eventId": f"{name}@{at}", "version": 1, "bookingUid": "sample-booking-uid-0000000",
                              "scheduledFor": at}
    if detail_type == "reminderDue":
        detail["minutesBefore"] = 1440
    if detail_type == "workflowStepDue":  # a step of a workflow one hour before the start
        detail.update(workflowId=1, step=0)
    return detail


def out_of_office_detail() -> dict[str, Any]:
    """outOfOfficeCreated: the entry, its user and the user bookings go to meanwhile."""
    return {"eventId": "00000000-0000-4000-8000-000000000003", "version": 1, "occurredAt": "2030-01-02T09:00:00.000Z",
            "outOfOffice": {"id": 1, "userId": 1, "start": "2030-08-01T00:00:00.000Z",
                            "end": "2030-08-15T00:00:00.000Z", "reason": "Summer holiday", "redirectToUserId": 2,
                            "createdAt": "2030-01-02T09:00:00.000Z"},
            "user": {"id": 1, "name": "Alice Host", "email": "alice@example.com", "timeZone": "Europe/London"},
            "redirectToUser": {"id": 2, "name": "Bob Cover", "email": "bob@example.com", "timeZone": "Europe/London"}}


def sqs_wrapped(detail_type: str, feature: str) -> dict[str, Any]:
    """An EventBridge event delivered by the feature's rule to its queue, as the SQS event source hands it over."""
    scheduled = detail_type in SCHEDULED
    envelope = {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": detail_type,
                "source": "booking-service.scheduler" if scheduled else "booking-service",
                "account": "123456789012", "time": "2030-01-02T09:00:00Z", "region": "us-east-1",
                "resources": [], "detail": moment_detail(detail_type) if scheduled
                else out_of_office_detail() if detail_type == "outOfOfficeCreated" else booking_detail(detail_type)}
    body = json.dumps(envelope)
    return {"Records": [{
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d", "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1893574800000",
                       "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1893574800001"},
        "messageAttributes": {}, "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3", "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:booking-service-{feature}-queue",
        "awsRegion": "us-east-1"}]}


def outbox_stream_batch() -> dict[str, Any]:
    detail = booking_detail()
    image = {"eventId": {"S": detail["eventId"]}, "detailType": {"S": "bookingCreated"},
             "detail": {"S": json.dumps(detail, separators=(",", ":"))}, "createdAt": {"S": detail["occurredAt"]},
             "expiresAt": {"N": "1894179600"}}
    return {"Records": [{
        "eventID": "c4ca4238a0b923820dcc509a6f75849b", "eventName": "INSERT", "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "dynamodb": {"ApproximateCreationDateTime": 1893574800, "Keys": {"eventId": image["eventId"]},
                     "NewImage": image, "SequenceNumber": "111100000000000000000001", "SizeBytes": 1800,
                     "StreamViewType": "NEW_IMAGE"},
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/booking-service-outbox/stream/2030-01-01T00:00:00.000"}]}


def subscriber_events() -> dict[str, list[str]]:
    """{feature: [eventName, ...]} from functions/<feature>/events/<eventName>/handler.py."""
    found: dict[str, list[str]] = {}
    for handler in sorted((ROOT / "functions").glob("*/events/*/handler.py")):
        found.setdefault(handler.parent.parent.parent.name, []).append(handler.parent.name)
    return found


def generate() -> dict[Path, Any]:
    files: dict[Path, Any] = {}
    for name, method, path, body, admin, _ in API_SAMPLES:
        files[EVENTS / "booking_api" / f"{name}.json"] = api_sample(method, path, body, admin, SAMPLE_CLAIMS.get(name))
    files[EVENTS / "publisher" / "outbox-stream-batch.json"] = outbox_stream_batch()
    for feature, event_names in subscriber_events().items():
        for event_name in event_names:
            files[EVENTS / feature / f"{event_name}.json"] = sqs_wrapped(event_name, feature)
    return files


def render(content: Any) -> str:
    return json.dumps(content, indent=2, sort_keys=False) + "\n"


def main() -> None:
    for path, content in generate().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(content))
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
