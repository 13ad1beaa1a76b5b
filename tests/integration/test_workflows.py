"""Workflows: the management routes on both stages, and the workflows subscriber through the real event path
(outbox -> publisher -> bus -> its rule -> its queue -> its function), with SES and SNS as moto records them."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta

import boto3
import pytest

from tests.support import weekday_ahead

DAY = weekday_ahead(49)
_names = itertools.count(1)


@pytest.fixture(scope="module")
def api(staged_api):
    """Every scenario here runs on `$default` and on the template's named stage."""
    return staged_api


def at(hour: int, minute: int = 0, day=DAY) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def unique(label: str, api) -> str:
    return f"{label}-{next(_names)}-{api.stage.strip('$')}"


def new_type(api, **fields) -> tuple[dict, dict]:
    host = api.host(unique("Flow Host", api).replace("-", " "), time_zone="Europe/London")
    return host, api.event_type(ownerId=host["id"], slug=unique("flow", api), **fields)


def create(api, event_type_id: int | None, trigger: str, steps: list[dict], **extra) -> dict:
    active_on = {"eventTypeIds": [event_type_id]} if event_type_id else {"all": True}
    reply = api.call("POST", "/v2/workflows", {"name": unique("wf", api), "activeOn": active_on, "trigger": trigger,
                                               "steps": steps, **extra}, admin=True)
    assert reply.status == 201, reply.body
    return reply.data


def book(api, event_type_id: int, start: str, email: str, phone: str | None = None, zone: str = "Europe/Paris"):
    attendee = {"name": "Jane Booker", "email": email, "timeZone": zone, **({"phoneNumber": phone} if phone else {})}
    reply = api.call("POST", "/v2/bookings", {"start": start, "eventTypeId": event_type_id, "attendee": attendee})
    assert reply.status == 201, reply.body
    return reply.data


def texts() -> list[dict]:
    from local.sms import sent_texts

    return sent_texts()


def emails() -> list[dict]:
    from local.mailbox import sent_emails

    return sent_emails()


def schedule_names() -> set[str]:
    scheduler = boto3.client("scheduler")
    return {s["Name"] for group in scheduler.list_schedule_groups()["ScheduleGroups"]
            for s in scheduler.list_schedules(GroupName=group["Name"])["Schedules"]}


# -- management ---------------------------------------------------------------------------------------------------
def test_workflow_routes_need_the_admin_key(api):
    for method, path in [("POST", "/v2/workflows"), ("GET", "/v2/workflows"), ("GET", "/v2/workflows/1"),
                         ("PATCH", "/v2/workflows/1"), ("DELETE", "/v2/workflows/1")]:
        reply = api.call(method, path, {"name": "x"} if method in ("POST", "PATCH") else None)
        assert reply.status == 401 and reply.code == "unauthorized_error"


def test_workflow_lifecycle(api):
    _, kind = new_type(api)
    created = create(api, kind["id"], "beforeEvent", [{"action": "smsAttendee", "body": "See you at {EVENT_TIME}"}],
                     offset={"value": 2, "unit": "hours"})
    assert created["activeOn"] == {"eventTypeIds": [kind["id"]], "all": None}
    assert created["offset"] == {"value": 2, "unit": "hours"} and created["steps"][0]["to"] is None
    assert api.call("GET", f"/v2/workflows/{created['id']}", admin=True).data == created
    assert created in api.call("GET", "/v2/workflows", admin=True).data

    renamed = api.call("PATCH", f"/v2/workflows/{created['id']}", {"name": "Renamed", "activeOn": {"all": True}},
                       admin=True)
    assert renamed.status == 200 and renamed.data["name"] == "Renamed" and renamed.data["activeOn"]["all"] is True
    untimed = api.call("PATCH", f"/v2/workflows/{created['id']}", {"trigger": "newEvent"}, admin=True)
    assert untimed.status == 400 and untimed.body["error"]["details"]["errors"][0]["field"] == "offset"
    fixed = api.call("PATCH", f"/v2/workflows/{created['id']}", {"trigger": "newEvent", "offset": None}, admin=True)
    assert fixed.status == 200 and fixed.data["offset"] is None

    assert api.call("DELETE", f"/v2/workflows/{created['id']}", admin=True).status == 200
    for method in ("GET", "PATCH", "DELETE"):
        gone = api.call(method, f"/v2/workflows/{created['id']}", {"name": "x"} if method == "PATCH" else None,
                        admin=True)
        assert gone.status == 404 and gone.code == "not_found_error"


@pytest.mark.parametrize("body, field", [
    ({"activeOn": {"eventTypeIds": [999999]}}, "activeOn.eventTypeIds"),
    ({"steps": [{"action": "emailHost", "body": "Hello {ATTENDEE}"}]}, "steps.0.body"),
    ({"steps": [{"action": "smsNumber", "to": "12345", "body": "x"}]}, "steps.0.to"),
    ({"trigger": "afterEvent"}, "offset"),
    ({"surprise": 1}, "surprise"),
])
def test_invalid_workflows_name_the_field(api, body, field):
    base = {"name": "Bad", "activeOn": {"all": True}, "trigger": "newEvent",
            "steps": [{"action": "emailHost", "body": "ok"}]}
    reply = api.call("POST", "/v2/workflows", {**base, **body}, admin=True)
    assert reply.status == 400 and reply.code == "request_body_invalid_error", reply.body
    assert field in [error["field"] for error in reply.body["error"]["details"]["errors"]]


# -- the subscriber -----------------------------------------------------------------------------------------------
def test_new_booking_steps_send_rendered_emails_and_texts_once(api, bus, aws):
    from local.pollers import sqs_record

    host, kind = new_type(api)
    _, other_kind = new_type(api)
    workflow = create(api, kind["id"], "newEvent", [
        {"action": "emailAttendee", "subject": "See you {EVENT_DATE}",
         "body": "Hi {ATTENDEE_NAME}, {EVENT_NAME} at {EVENT_TIME} {TIMEZONE} with {ORGANIZER_NAME}."},
        {"action": "smsAttendee", "body": "{ATTENDEE_NAME}: {EVENT_TIME} ({TIMEZONE}) " + "x" * 600},
        {"action": "emailHost", "body": "New: {ATTENDEE_NAME}"},
    ])
    texts_before, emails_before = len(texts()), len(emails())
    tap_url = boto3.client("sqs").create_queue(QueueName="test-workflows-tap")["QueueUrl"]
    events = boto3.client("events")
    events.put_rule(Name="test-workflows-tap", EventBusName=aws.resolver.refs["EventBus"],
                    EventPattern=json.dumps({"source": ["booking-service"], "detail-type": ["bookingCreated"]}))
    events.put_targets(Rule="test-workflows-tap", EventBusName=aws.resolver.refs["EventBus"],
                       Targets=[{"Id": "tap", "Arn": "arn:aws:sqs:us-east-1:123456789012:test-workflows-tap"}])
    booking = book(api, kind["id"], at(10), "flow@example.org", phone="+33 6 12 34 56 78")
    book(api, other_kind["id"], at(10), "elsewhere@example.org", phone="+33 6 12 34 56 79")
    bus.pump()

    mine = [t for t in texts()[texts_before:] if t["to"] == "+33612345678"]
    assert len(mine) == 1 and not [t for t in texts()[texts_before:] if t["to"] == "+33612345679"]
    assert mine[0]["body"].startswith("Jane Booker: 11:00 (Europe/Paris) xxx")
    assert len(mine[0]["body"]) == 480 and mine[0]["body"].endswith("...")
    to_attendee = [e for e in emails()[emails_before:] if e["to"] == ["flow@example.org"]
                   and e["subject"].startswith("See you")]
    assert len(to_attendee) == 1
    assert to_attendee[0]["subject"] == f"See you {datetime.fromisoformat(at(10)).strftime('%A %d %B %Y')}"
    assert to_attendee[0]["text"].strip() == (f"Hi Jane Booker, {booking['title']} at 11:00 Europe/Paris with "
                                              f"{host['name']}.")
    assert "Jane Booker" in to_attendee[0]["html"]
    assert [e for e in emails()[emails_before:] if e["to"] == [host["email"]] and "New: Jane Booker" in e["text"]]

    # the same bookingCreated delivered again: nothing more is sent
    [message] = [m for m in boto3.client("sqs").receive_message(QueueUrl=tap_url, MaxNumberOfMessages=10)["Messages"]
                 if booking["uid"] in m["Body"]]
    result = bus.pools["WorkflowsFunction"].invoke({"Records": [sqs_record(
        message, "arn:aws:sqs:us-east-1:123456789012:test-workflows-tap")]})
    assert result == {"batchItemFailures": []}
    bus.pump()
    assert len([t for t in texts()[texts_before:] if t["to"] == "+33612345678"]) == 1
    assert len([e for e in emails()[emails_before:] if e["to"] == ["flow@example.org"]
                and e["subject"].startswith("See you")]) == 1
    api.call("DELETE", f"/v2/workflows/{workflow['id']}", admin=True)


def test_timed_steps_move_with_the_booking_fire_once_and_go_with_it(api, bus):
    from local.moments import run_schedules
    from local.pollers import sqs_record

    _, kind = new_type(api)
    workflow = create(api, kind["id"], "beforeEvent",
                      [{"action": "smsNumber", "to": "+44 20 7183 8750", "body": "{ATTENDEE_NAME} at {EVENT_TIME}"}],
                      offset={"value": 30, "unit": "minutes"})
    booking = book(api, kind["id"], at(9), "timed@example.org")
    bus.pump()
    first = f"wf-{workflow['id']}-0-{booking['uid']}"
    assert first in schedule_names()
    moved = api.call("POST", f"/v2/bookings/{booking['uid']}/reschedule", {"start": at(14)}).data
    bus.pump()
    names = schedule_names()
    second = f"wf-{workflow['id']}-0-{moved['uid']}"
    assert first not in names and second in names

    before = len(texts())
    session = boto3.session.Session()
    fired = run_schedules(session.client("scheduler"), session.client("events"), session.client("sqs"),
                          until=datetime.fromisoformat(at(13, 31)))
    assert second in {f["name"] for f in fired}
    bus.pump()
    sent = [t for t in texts()[before:] if t["to"] == "+442071838750"]
    assert [t["body"] for t in sent] == ["Jane Booker at 14:00"]  # the organizer's zone: London, winter

    step_due = {"version": "0", "id": "again", "detail-type": "workflowStepDue",
                "source": "booking-service.scheduler", "time": at(13, 30), "region": "us-east-1", "resources": [],
                "detail": {"eventId": f"{second}@{at(13, 30)[:-1]}.000Z", "version": 1, "bookingUid": moved["uid"],
                           "scheduledFor": at(13, 30), "workflowId": workflow["id"], "step": 0}}
    message = {"MessageId": "m-again", "ReceiptHandle": "r", "Body": json.dumps(step_due), "Attributes": {}}
    assert bus.pools["WorkflowsFunction"].invoke({"Records": [sqs_record(message, "arn:aws:sqs:x:1:q")]}) == {
        "batchItemFailures": []}
    assert len([t for t in texts()[before:] if t["to"] == "+442071838750"]) == 1  # fired twice, sent once

    api.call("POST", f"/v2/bookings/{moved['uid']}/cancel", {})
    other = book(api, kind["id"], at(16), "gone@example.org")
    bus.pump()
    assert f"wf-{workflow['id']}-0-{other['uid']}" in schedule_names()
    api.call("POST", f"/v2/bookings/{other['uid']}/cancel", {})
    bus.pump()
    assert f"wf-{workflow['id']}-0-{other['uid']}" not in schedule_names()
    api.call("DELETE", f"/v2/workflows/{workflow['id']}", admin=True)


def test_a_step_due_for_a_booking_no_longer_on_sends_nothing(api, bus):
    from local.pollers import sqs_record

    _, kind = new_type(api)
    workflow = create(api, kind["id"], "afterEvent", [{"action": "smsNumber", "to": "+44 20 7183 8751",
                                                       "body": "How was it?"}], offset={"value": 1, "unit": "days"})
    booking = book(api, kind["id"], at(11), "after@example.org")
    bus.pump()
    api.call("POST", f"/v2/bookings/{booking['uid']}/cancel", {})
    bus.pump()
    before = len(texts())
    due = {"version": "0", "id": "late", "detail-type": "workflowStepDue", "source": "booking-service.scheduler",
           "time": at(11), "region": "us-east-1", "resources": [],
           "detail": {"eventId": f"wf-{workflow['id']}-0-{booking['uid']}@late", "version": 1,
                      "bookingUid": booking["uid"], "scheduledFor": "2030-01-01T00:00:00.000Z",
                      "workflowId": workflow["id"], "step": 0}}
    message = {"MessageId": "m-late", "ReceiptHandle": "r", "Body": json.dumps(due), "Attributes": {}}
    assert bus.pools["WorkflowsFunction"].invoke({"Records": [sqs_record(message, "arn:aws:sqs:x:1:q")]}) == {
        "batchItemFailures": []}
    assert len(texts()) == before
    api.call("DELETE", f"/v2/workflows/{workflow['id']}", admin=True)


def test_cancellation_and_reschedule_steps_and_opted_out_numbers(api, bus):
    _, kind = new_type(api)
    cancelled = create(api, kind["id"], "eventCancelled", [
        {"action": "emailAddress", "to": "desk@example.com", "subject": "Cancelled: {EVENT_NAME}",
         "body": "Reason: {CANCELLATION_REASON}"},
        {"action": "smsAttendee", "body": "Cancelled, sorry"}])
    moved = create(api, kind["id"], "rescheduleEvent", [{"action": "emailAttendee", "body": "Now {EVENT_TIME}"}])
    emails_before, texts_before = len(emails()), len(texts())
    booking = book(api, kind["id"], at(12), "cancel@example.org", phone="+1 202 555 0199", zone="America/New_York")
    bus.pump()
    new = api.call("POST", f"/v2/bookings/{booking['uid']}/reschedule", {"start": at(15)}).data
    bus.pump()
    api.call("POST", f"/v2/bookings/{new['uid']}/cancel", {"cancellationReason": "double booked"})
    bus.pump()
    desk = [e for e in emails()[emails_before:] if e["to"] == ["desk@example.com"]]
    assert len(desk) == 1 and desk[0]["text"].strip() == "Reason: double booked"
    assert desk[0]["subject"] == f"Cancelled: {new['title']}"
    rescheduled = [e for e in emails()[emails_before:] if e["to"] == ["cancel@example.org"]
                   and e["text"].startswith("Now ")]
    assert [e["text"].strip() for e in rescheduled] == ["Now 10:00"]  # New York
    assert not [t for t in texts()[texts_before:] if t["to"] == "+12025550199"]  # ends in 99: opted out
    for workflow in (cancelled, moved):
        api.call("DELETE", f"/v2/workflows/{workflow['id']}", admin=True)


def test_a_failing_step_is_retried_then_dead_lettered_while_the_others_go_out_once(api, bus, aws, monkeypatch):
    from booking_core import sms

    def refuse(self, to: str, body: str) -> bool:
        raise RuntimeError("SNS is down")

    _, kind = new_type(api)
    workflow = create(api, kind["id"], "newEvent", [
        {"action": "smsNumber", "to": "+44 20 7183 8752", "body": "never"},
        {"action": "emailAddress", "to": "still@example.com", "body": "sent anyway"}])
    emails_before = len(emails())
    monkeypatch.setattr(sms.Texter, "send", refuse)
    booking = book(api, kind["id"], at(13), "retry@example.org")
    bus.pump(rounds=100)
    monkeypatch.undo()
    assert len([e for e in emails()[emails_before:] if e["to"] == ["still@example.com"]]) == 1
    dlq = aws.queue_urls[aws.resolver.attrs[("WorkflowsDLQ", "Arn")]]
    parked = [m for m in bus.dead_letters(dlq) if m["detail"]["booking"]["uid"] == booking["uid"]]
    assert [m["detail-type"] for m in parked] == ["bookingCreated"]
    api.call("DELETE", f"/v2/workflows/{workflow['id']}", admin=True)


def test_a_step_whose_workflow_moved_its_time_is_rescheduled_not_sent(api, bus):
    from local.moments import run_schedules

    _, kind = new_type(api)
    workflow = create(api, kind["id"], "beforeEvent", [{"action": "smsNumber", "to": "+44 20 7183 8753",
                                                        "body": "soon"}], offset={"value": 1, "unit": "days"})
    booking = book(api, kind["id"], at(10), "shifted@example.org")
    bus.pump()
    api.call("PATCH", f"/v2/workflows/{workflow['id']}", {"offset": {"value": 1, "unit": "hours"}}, admin=True)
    before = len(texts())
    session = boto3.session.Session()
    run_schedules(session.client("scheduler"), session.client("events"), session.client("sqs"),
                  until=datetime.fromisoformat(at(10)) - timedelta(hours=23))
    bus.pump()
    assert not [t for t in texts()[before:] if t["to"] == "+442071838753"]
    name = f"wf-{workflow['id']}-0-{booking['uid']}"
    schedule = boto3.client("scheduler").get_schedule(
        Name=name, GroupName=aws_group())["ScheduleExpression"]
    assert schedule == f"at({at(9)[:-1]})"
    api.call("DELETE", f"/v2/workflows/{workflow['id']}", admin=True)


def aws_group() -> str:
    return boto3.client("scheduler").list_schedule_groups()["ScheduleGroups"][-1]["Name"]
