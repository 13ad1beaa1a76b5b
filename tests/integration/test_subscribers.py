"""The feature subscribers through the real event path (outbox -> publisher -> bus -> rule -> queue -> function),
against moto: webhooks with retries and dedupe, emails and reminders, private-link usage, routing reasons."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

import boto3
import pytest

from tests.support import WebhookReceiver, weekday_ahead

DAY = weekday_ahead(50)


def _answer(path: str, call: int) -> int:
    """/ok answers 200, /flaky fails twice then 200, /down always 500, /moved redirects."""
    if path == "/flaky":
        return 503 if call <= 2 else 200
    return {"/down": 500, "/moved": 302}.get(path, 200)


RECEIVER = WebhookReceiver(_answer)


@pytest.fixture(scope="module")
def receiver():
    with RECEIVER.running() as url:
        yield url


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setenv("WEBHOOK_BACKOFF_SECONDS", "0")
    RECEIVER.clear()


def cal_signature_ok(raw: bytes, header: str, secret: str) -> bool:
    """How a cal.com consumer checks X-Cal-Signature-256 (written here independently of the service's code)."""
    return hmac.compare_digest(hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest(), header)


def at(hour: int, minute: int = 0, day=DAY) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def webhook(api, url: str, triggers: list[str], **scope) -> dict:
    reply = api.call("POST", "/v2/webhooks", {"subscriberUrl": url, "triggers": triggers, "secret": "s3cr3t", **scope},
                     admin=True)
    assert reply.status == 201, reply.body
    return reply.data


def deliveries(api, webhook_id: int) -> list[dict]:
    return api.call("GET", f"/v2/webhooks/{webhook_id}/deliveries", admin=True).data


def test_webhook_is_delivered_signed_and_cal_compatible(api, bus, receiver):
    host = api.host("Hook Host")
    event_type = api.event_type(ownerId=host["id"], slug="hooked")
    hook = webhook(api, f"{receiver}/ok", ["BOOKING_CREATED", "BOOKING_CANCELLED"], eventTypeId=event_type["id"])
    booking = api.book(event_type["id"], at(10), email="hooked@example.org").data
    bus.pump()
    [request] = [r for r in RECEIVER.received if r.body["payload"]["uid"] == booking["uid"]]
    assert cal_signature_ok(request.raw, request.headers["X-Cal-Signature-256"], "s3cr3t")
    assert request.headers["X-Cal-Webhook-Version"] == "2021-10-20"
    assert request.headers["Content-Type"] == "application/json"
    body = request.body
    assert body["triggerEvent"] == "BOOKING_CREATED"
    payload = body["payload"]
    assert payload["type"] == "hooked" and payload["status"] == "ACCEPTED" and payload["length"] == 30
    assert payload["organizer"]["email"] == host["email"] and payload["organizer"]["language"] == {"locale": "en"}
    assert payload["attendees"][0]["email"] == "hooked@example.org" and payload["bookingId"] == booking["id"]
    assert payload["startTime"] == booking["start"] and payload["eventTypeId"] == event_type["id"]
    [delivery] = deliveries(api, hook["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1 and delivery["lastResponseStatus"] == 200

    api.call("POST", f"/v2/bookings/{booking['uid']}/cancel", {"cancellationReason": "ill"})
    bus.pump()
    cancelled = RECEIVER.bodies("BOOKING_CANCELLED")
    assert cancelled and cancelled[0]["payload"]["cancellationReason"] == "ill"
    assert cancelled[0]["payload"]["status"] == "CANCELLED"


def test_flaky_subscriber_gets_one_delivery_and_a_dead_one_ends_failed(api, bus, receiver):
    host = api.host("Retry Host")
    event_type = api.event_type(ownerId=host["id"], slug="retries")
    flaky = webhook(api, f"{receiver}/flaky", ["BOOKING_CREATED"], userId=host["id"])
    down = webhook(api, f"{receiver}/down", ["BOOKING_CREATED"], userId=host["id"])
    moved = webhook(api, f"{receiver}/moved", ["BOOKING_CREATED"], userId=host["id"])
    booking = api.book(event_type["id"], at(11), email="retry@example.org")
    assert booking.status == 201  # the booking never waits for webhooks
    bus.pump(rounds=200)
    assert RECEIVER.calls["/flaky"] == 3
    assert [r.path for r in RECEIVER.received].count("/flaky") == 1
    [ok] = deliveries(api, flaky["id"])
    assert ok["status"] == "delivered" and ok["attempts"] == 3
    [failed] = deliveries(api, down["id"])
    assert failed["status"] == "failed" and failed["attempts"] == 5 and failed["lastResponseStatus"] == 500
    assert [(a["attempt"], a["responseStatus"]) for a in failed["history"]] == [(n, 500) for n in range(1, 6)]
    assert [a["responseStatus"] for a in ok["history"]] == [503, 503, 200]
    assert RECEIVER.calls["/down"] == 5
    [redirected] = deliveries(api, moved["id"])
    assert redirected["status"] == "failed" and redirected["lastResponseStatus"] == 302
    assert [r.path for r in RECEIVER.received].count("/ok") == 0  # the redirect was not followed


def test_the_same_event_twice_makes_one_webhook_one_email_set_one_usage(api, bus, receiver, aws):
    from local.mailbox import sent_emails
    from local.pollers import sqs_record

    host = api.host("Twice Host")
    event_type = api.event_type(ownerId=host["id"], slug="twice")
    link = api.call("POST", f"/v2/event-types/{event_type['id']}/private-links", {"maxUsageCount": 5}, admin=True).data
    hook = webhook(api, f"{receiver}/ok", ["BOOKING_CREATED"], eventTypeId=event_type["id"])
    tap_url = boto3.client("sqs").create_queue(QueueName="test-twice-tap")["QueueUrl"]
    tap_arn = "arn:aws:sqs:us-east-1:123456789012:test-twice-tap"
    events = boto3.client("events")
    events.put_rule(Name="test-twice-tap", EventBusName=aws.resolver.refs["EventBus"],
                    EventPattern=json.dumps({"source": ["booking-service"], "detail-type": ["bookingCreated"]}))
    events.put_targets(Rule="test-twice-tap", EventBusName=aws.resolver.refs["EventBus"],
                       Targets=[{"Id": "tap", "Arn": tap_arn}])
    emails_before = len(sent_emails())
    booking = api.book(event_type["id"], at(12), email="twice@example.org", privateLink=link["linkId"]).data
    bus.pump()
    [message] = [m for m in boto3.client("sqs").receive_message(QueueUrl=tap_url, MaxNumberOfMessages=10)["Messages"]
                 if booking["uid"] in m["Body"]]
    for feature in ("WebhooksFunction", "NotificationsFunction", "PrivateLinksFunction"):  # delivered once more
        result = bus.pools[feature].invoke({"Records": [sqs_record(message, tap_arn)]})
        assert result == {"batchItemFailures": []}
    bus.pump()
    assert [b["payload"]["uid"] for b in RECEIVER.bodies()].count(booking["uid"]) == 1
    assert len(deliveries(api, hook["id"])) == 1
    mine = [e for e in sent_emails()[emails_before:] if "twice@example.org" in e["to"]]
    assert len(mine) == 1
    links = api.call("GET", f"/v2/event-types/{event_type['id']}/private-links", admin=True).data
    assert links[0]["usageCount"] == 1


def test_used_up_private_link_refuses_further_bookings(api, bus):
    host = api.host("Link Host")
    event_type = api.event_type(ownerId=host["id"], slug="once", hidden=True)
    link = api.call("POST", f"/v2/event-types/{event_type['id']}/private-links", {"maxUsageCount": 1}, admin=True).data
    timed = api.call("POST", f"/v2/event-types/{event_type['id']}/private-links",
                     {"expiresAt": "2099-01-01T00:00:00Z"}, admin=True).data
    assert api.book(event_type["id"], at(9), email="a@example.org", privateLink=link["linkId"]).status == 201
    assert api.book(event_type["id"], at(10), email="b@example.org", privateLink=timed["linkId"]).status == 201
    bus.pump()
    listed = {item["linkId"]: item for item in
              api.call("GET", f"/v2/event-types/{event_type['id']}/private-links", admin=True).data}
    assert listed[link["linkId"]]["usageCount"] == 1 and listed[link["linkId"]]["isExpired"] is True
    assert listed[timed["linkId"]]["usageCount"] == 0  # time-limited links are not counted
    refused = api.book(event_type["id"], at(11), email="c@example.org", privateLink=link["linkId"])
    assert refused.status == 403 and refused.code == "private_link_expired"


def test_emails_and_reminders_follow_the_booking(api, bus):
    from local.mailbox import sent_emails

    scheduler = boto3.client("scheduler")
    group = scheduler.list_schedule_groups()["ScheduleGroups"][-1]["Name"]
    host = api.host("Mail Host", time_zone="America/New_York")
    event_type = api.event_type(ownerId=host["id"], slug="mailed", reminders=[{"minutesBefore": 60}])
    before = len(sent_emails())
    booking = api.book(event_type["id"], at(15), email="mailed@example.org").data  # 10:00 in New York (winter)
    bus.pump()
    names = {s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]}
    assert f"reminderDue-{booking['uid']}-60" in names
    mails = sent_emails()[before:]
    to_attendee = next(m for m in mails if m["to"] == ["mailed@example.org"])
    to_host = next(m for m in mails if m["to"] == [host["email"]])
    assert to_attendee["subject"].startswith("Confirmed:") and to_host["subject"].startswith("New booking:")
    assert "(Europe/London)" in to_attendee["text"] and "(America/New_York)" in to_host["text"]
    ics = to_attendee["attachments"][0]
    assert ics["filename"] == "invite.ics" and "METHOD:REQUEST" in ics["content"] and "SEQUENCE:0" in ics["content"]

    moved = api.call("POST", f"/v2/bookings/{booking['uid']}/reschedule", {"start": at(16)}).data
    bus.pump()
    names = {s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]}
    assert f"reminderDue-{moved['uid']}-60" in names and f"reminderDue-{booking['uid']}-60" not in names
    rescheduled = next(m for m in sent_emails()[before:] if m["subject"].startswith("Rescheduled")
                       and m["to"] == ["mailed@example.org"])
    uid_line = next(line for line in ics["content"].splitlines() if line.startswith("UID:"))
    assert uid_line in rescheduled["attachments"][0]["content"] and "SEQUENCE:1" in rescheduled["attachments"][0]["content"]

    api.call("POST", f"/v2/bookings/{moved['uid']}/cancel", {"cancellationReason": "trip"})
    bus.pump()
    names = {s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]}
    assert f"reminderDue-{moved['uid']}-60" not in names
    cancelled = next(m for m in sent_emails()[before:] if m["subject"].startswith("Cancelled")
                     and m["to"] == ["mailed@example.org"])
    assert "METHOD:CANCEL" in cancelled["attachments"][0]["content"] and "STATUS:CANCELLED" in cancelled["attachments"][0]["content"]
    assert "trip" in cancelled["text"]


def test_routing_reason_is_recorded_on_the_booking(api, bus):
    hosts = [api.host(f"Routed {i}") for i in range(2)]
    event_type = api.event_type(schedulingType="roundRobin", slug="reasons", hosts=[{"userId": h["id"]} for h in hosts])
    response = api.call("POST", "/v2/routing-form-responses", {"formId": "lead-form", "response": {"size": "xl"}},
                        admin=True).data
    booking = api.book(event_type["id"], at(13), routing={"responseId": response["id"],
                                                          "teamMemberIds": [hosts[1]["id"]]}).data
    bus.pump()
    reason = api.call("GET", f"/v2/bookings/{booking['uid']}").data["assignmentReason"]
    assert reason["routingFormResponseId"] == response["id"]
    assert "lead-form" in reason["reason"] and str(hosts[1]["id"]) in reason["reason"]


def schedule_names() -> set[str]:
    scheduler = boto3.client("scheduler")
    names: set[str] = set()
    for group in scheduler.list_schedule_groups()["ScheduleGroups"]:
        names |= {s["Name"] for s in scheduler.list_schedules(GroupName=group["Name"])["Schedules"]}
    return names


def test_meeting_moments_follow_the_booking_and_fire_webhooks(api, bus, receiver):
    from local.moments import run_schedules

    host = api.host("Moment Host")
    event_type = api.event_type(ownerId=host["id"], slug="moments")
    webhook(api, f"{receiver}/ok", ["MEETING_STARTED", "MEETING_ENDED"], eventTypeId=event_type["id"])
    booking = api.book(event_type["id"], at(14), email="moment@example.org").data
    bus.pump()
    assert {f"meetingStarted-{booking['uid']}", f"meetingEnded-{booking['uid']}"} <= schedule_names()
    moved = api.call("POST", f"/v2/bookings/{booking['uid']}/reschedule", {"start": at(15)}).data
    bus.pump()
    names = schedule_names()
    assert f"meetingStarted-{booking['uid']}" not in names and f"meetingStarted-{moved['uid']}" in names
    session = boto3.session.Session()
    fired = run_schedules(session.client("scheduler"), session.client("events"), session.client("sqs"),
                          until=datetime.fromisoformat(f"{DAY.isoformat()}T15:30:00+00:00"))
    assert {f"meetingStarted-{moved['uid']}", f"meetingEnded-{moved['uid']}"} <= {f["name"] for f in fired}
    bus.pump()
    triggers = [b["triggerEvent"] for b in RECEIVER.bodies() if b["payload"]["uid"] == moved["uid"]]
    assert sorted(triggers) == ["MEETING_ENDED", "MEETING_STARTED"]

    other = api.book(event_type["id"], at(16), email="gone@example.org").data
    bus.pump()
    api.call("POST", f"/v2/bookings/{other['uid']}/cancel", {})
    bus.pump()
    assert not {f"meetingStarted-{other['uid']}", f"meetingEnded-{other['uid']}"} & schedule_names()


def test_a_reminder_for_a_booking_no_longer_accepted_sends_nothing(api, bus):
    from local.mailbox import sent_emails
    from local.pollers import sqs_record

    host = api.host("Stale Reminder Host")
    event_type = api.event_type(ownerId=host["id"], slug="stale-reminder")
    booking = api.book(event_type["id"], at(9, 30), email="stale@example.org").data
    bus.pump()
    api.call("POST", f"/v2/bookings/{booking['uid']}/cancel", {})
    bus.pump()
    before = len(sent_emails())
    reminder = {"version": "0", "id": "r-1", "detail-type": "reminderDue", "source": "booking-service.scheduler",
                "time": "2030-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
                "detail": {"eventId": f"reminderDue-{booking['uid']}-1440@x", "version": 1,
                           "bookingUid": booking["uid"], "scheduledFor": "2030-01-01T00:00:00.000Z",
                           "minutesBefore": 1440}}
    message = {"MessageId": "m-1", "ReceiptHandle": "r", "Body": json.dumps(reminder), "Attributes": {}}
    result = bus.pools["NotificationsFunction"].invoke({"Records": [sqs_record(message, "arn:aws:sqs:x:1:q")]})
    assert result == {"batchItemFailures": []}
    assert len(sent_emails()) == before


def test_calendar_failures_retry_then_park_in_the_dlq_and_redelivery_does_not_duplicate(api, bus, aws):
    from tests.caldav_server import RadicaleServer

    radicale = RadicaleServer()
    radicale.add_user("frank")
    radicale.start()
    try:
        calendar = radicale.make_calendar("frank", "work")
        host = api.host("Cal Retry Host")
        event_type = api.event_type(ownerId=host["id"], slug="cal-retry")
        assert api.call("POST", f"/v2/users/{host['id']}/calendars", {"type": "caldav", "url": radicale.url,
                                                                      "username": "frank", "password": "secret"},
                        admin=True).status == 201
        booking = api.book(event_type["id"], at(10, 30), email="retry@example.org").data
        bus.pump()
        events_in_calendar = [line for line in (radicale.read(calendar, "frank") or "").splitlines()
                              if line.startswith("BEGIN:VEVENT")]
        assert len(events_in_calendar) == 1
        from booking_core.repositories.bookings import DynamoBookingStore
        from booking_core.services.calendars import CalendarSync

        assert CalendarSync(DynamoBookingStore()).created(booking["uid"]) is False  # already written: no second
    finally:
        radicale.stop()
    dlq = aws.queue_urls["arn:aws:sqs:us-east-1:123456789012:local-CalendarSyncDLQ"]
    bus._drain(dlq)
    doomed = api.book(event_type["id"], at(11, 30), email="doomed@example.org").data  # the calendar server is gone
    bus.pump(rounds=300)
    parked = [json.loads(message["Body"])
              for message in boto3.client("sqs").receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])]
    assert [m["detail"]["booking"]["uid"] for m in parked] == [doomed["uid"]]
