"""Host operations through the real event path (outbox -> publisher -> bus -> rules -> queues -> functions): the new
events reach webhooks (BOOKING_NO_SHOW_UPDATED, BOOKING_REASSIGNED, BOOKING_UPDATED, BOOKING_CANCELLED with
rescheduleRequested) and emails (reassigned, invitation and updates, please pick a new time), and booking-field
answers carry their labels."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.support import WebhookReceiver, weekday_ahead

DAY = weekday_ahead(200)


RECEIVER = WebhookReceiver()


@pytest.fixture(scope="module")
def receiver():
    with RECEIVER.running() as url:
        yield url


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setenv("WEBHOOK_BACKOFF_SECONDS", "0")
    RECEIVER.clear()


def at(hour: int, minute: int = 0, day=DAY) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def subscribe(api, url: str, triggers: list[str], **scope) -> None:
    reply = api.call("POST", "/v2/webhooks", {"subscriberUrl": url, "triggers": triggers, **scope}, admin=True)
    assert reply.status == 201, reply.body


def delivered(trigger: str) -> list[dict]:
    return [{**d.body, "path": d.path} for d in RECEIVER.received if d.body["triggerEvent"] == trigger]


def mail(since: int, address: str) -> list[dict]:
    from local.mailbox import sent_emails

    return [m for m in sent_emails()[since:] if m["to"] == [address]]


def mark() -> int:
    from local.mailbox import sent_emails

    return len(sent_emails())


def sequence(message: dict) -> int:
    ics = message["attachments"][0]["content"]
    return int(next(line for line in ics.splitlines() if line.startswith("SEQUENCE:")).split(":")[1])


def test_no_shows_reach_webhooks_as_cal_com_sends_them(api, bus, receiver, monkeypatch):
    from booking_core import clock

    host = api.host("No Show Host", email="noshow.host@hosts.test")
    event_type = api.event_type(ownerId=host["id"], slug="noshow")
    subscribe(api, receiver, ["BOOKING_NO_SHOW_UPDATED"], eventTypeId=event_type["id"])
    booking = api.book(event_type["id"], at(9), email="absentee@example.org").data
    monkeypatch.setattr(clock, "now", lambda: datetime.fromisoformat(at(9, 20).replace("Z", "+00:00")))
    api.call("POST", f"/v2/bookings/{booking['uid']}/mark-absent",
             {"host": False, "attendees": [{"email": "absentee@example.org", "absent": True}]}, admin=True)
    bus.pump()
    [body] = delivered("BOOKING_NO_SHOW_UPDATED")
    assert body["payload"] == {"bookingUid": booking["uid"], "bookingId": booking["id"],
                               "attendees": [{"email": "absentee@example.org", "noShow": True}],
                               "host": {"email": "noshow.host@hosts.test", "noShow": False},
                               "message": "host marked as present; absentee@example.org marked as no-show"}
    again = api.call("POST", f"/v2/bookings/{booking['uid']}/mark-absent",
                     {"attendees": [{"email": "absentee@example.org", "absent": True}]}, admin=True)
    assert again.status == 200
    bus.pump()
    assert len(delivered("BOOKING_NO_SHOW_UPDATED")) == 1  # nothing changed: no event


def test_reassign_tells_both_hosts_and_the_attendee(api, bus, receiver):
    hosts = [api.host(f"Handover {name}", email=f"handover.{name}@hosts.test") for name in ("a", "b")]
    event_type = api.event_type(slug="handover", schedulingType="roundRobin",
                                hosts=[{"userId": h["id"]} for h in hosts])
    subscribe(api, f"{receiver}/new", ["BOOKING_REASSIGNED"], userId=hosts[1]["id"])  # the new host's
    subscribe(api, f"{receiver}/old", ["BOOKING_REASSIGNED"], userId=hosts[0]["id"])  # and the one who left
    booking = api.book(event_type["id"], at(10), email="handed@example.org").data
    assert booking["hosts"][0]["id"] == hosts[0]["id"]
    bus.pump()
    since = mark()
    api.call("POST", f"/v2/bookings/{booking['uid']}/reassign", {"reason": "holiday"}, admin=True)
    bus.pump()
    bodies = delivered("BOOKING_REASSIGNED")
    assert sorted(body["path"] for body in bodies) == ["/new", "/old"]
    payload = bodies[0]["payload"]
    assert payload["uid"] == booking["uid"] and payload["organizer"]["email"] == "handover.b@hosts.test"
    assert payload["reassignReason"] == "holiday" and payload["iCalSequence"] == booking["iCalSequence"] + 1
    [new_host] = mail(since, "handover.b@hosts.test")
    [old_host] = mail(since, "handover.a@hosts.test")
    [attendee] = mail(since, "handed@example.org")
    assert new_host["subject"].startswith("New booking") and "METHOD:REQUEST" in new_host["attachments"][0]["content"]
    assert old_host["subject"].startswith("Reassigned") and "METHOD:CANCEL" in old_host["attachments"][0]["content"]
    assert attendee["subject"].startswith("Updated") and "Handover b" in attendee["text"]
    assert sequence(attendee) == sequence(old_host) == booking["iCalSequence"] + 1


def test_guests_get_the_invitation_and_everyone_the_update(api, bus, receiver):
    host = api.host("Guest Host", email="guest.host@hosts.test")
    event_type = api.event_type(ownerId=host["id"], slug="guesting")
    subscribe(api, receiver, ["BOOKING_UPDATED"], eventTypeId=event_type["id"])
    booking = api.book(event_type["id"], at(11), email="inviter@example.org", guests=["first@example.org"]).data
    bus.pump()
    since = mark()
    api.call("POST", f"/v2/bookings/{booking['uid']}/guests", {"guests": [{"email": "late@example.org"}]}, admin=True)
    bus.pump()
    [invitation] = mail(since, "late@example.org")
    assert invitation["subject"].startswith("Invitation") and sequence(invitation) == booking["iCalSequence"] + 1
    for address in ("first@example.org", "inviter@example.org", "guest.host@hosts.test"):
        [update] = mail(since, address)
        assert update["subject"].startswith("Updated") and sequence(update) == booking["iCalSequence"] + 1
    [body] = delivered("BOOKING_UPDATED")
    assert [a["email"] for a in body["payload"]["attendees"]] == ["inviter@example.org", "first@example.org",
                                                                  "late@example.org"]
    since = mark()
    api.call("PATCH", f"/v2/bookings/{booking['uid']}/location", {"location": "Cafe Central"}, admin=True)
    bus.pump()
    [moved] = mail(since, "late@example.org")
    assert moved["subject"].startswith("Updated") and "Cafe Central" in moved["text"]
    assert sequence(moved) == booking["iCalSequence"] + 2
    assert delivered("BOOKING_UPDATED")[-1]["payload"]["location"] == "Cafe Central"


def test_request_reschedule_asks_the_attendee_for_a_new_time(api, bus, receiver):
    host = api.host("Ask Host", email="ask.host@hosts.test")
    event_type = api.event_type(ownerId=host["id"], slug="asking")
    subscribe(api, receiver, ["BOOKING_CANCELLED"], eventTypeId=event_type["id"])
    booking = api.book(event_type["id"], at(12), email="askee@example.org").data
    bus.pump()
    since = mark()
    api.call("POST", f"/v2/bookings/{booking['uid']}/request-reschedule", {"reason": "double-booked"}, admin=True)
    bus.pump()
    [asked] = mail(since, "askee@example.org")
    assert asked["subject"].startswith("Please pick a new time") and "double-booked" in asked["text"]
    assert "METHOD:CANCEL" in asked["attachments"][0]["content"]
    [body] = delivered("BOOKING_CANCELLED")
    assert body["payload"]["rescheduleRequested"] is True and body["payload"]["cancellationReason"] == "double-booked"


def test_a_series_cancelled_from_an_occurrence_on_sends_one_cancellation_each(api, bus, receiver):
    host = api.host("Series Host", email="series.host@hosts.test")
    event_type = api.event_type(ownerId=host["id"], slug="course",
                                recurrence={"frequency": "weekly", "interval": 1, "occurrences": 3})
    subscribe(api, receiver, ["BOOKING_CANCELLED"], eventTypeId=event_type["id"])
    series = api.book(event_type["id"], at(13), email="student@example.org").data
    api.call("POST", f"/v2/bookings/{series[1]['uid']}/cancel", {"cancelSubsequentBookings": True})
    bus.pump()
    assert sorted(b["payload"]["uid"] for b in delivered("BOOKING_CANCELLED")) == sorted(
        b["uid"] for b in series[1:])


def test_booking_field_answers_carry_their_labels_to_webhooks_and_emails(api, bus, receiver):
    host = api.host("Form Host", email="form.host@hosts.test")
    event_type = api.event_type(ownerId=host["id"], slug="form", bookingFields=[
        {"slug": "company", "label": "Company name", "type": "text", "required": True},
        {"slug": "newsletter", "label": "Send me news", "type": "boolean"},
        {"slug": "utm", "label": "Campaign", "type": "text", "hidden": True}])
    subscribe(api, receiver, ["BOOKING_CREATED"], eventTypeId=event_type["id"])
    since = mark()
    api.book(event_type["id"], at(14, day=DAY + timedelta(days=1)), email="former@example.org",
             bookingFieldsResponses={"company": "Acme", "newsletter": True, "utm": "spring"})
    bus.pump()
    [body] = delivered("BOOKING_CREATED")
    assert body["payload"]["userFieldsResponses"] == {
        "company": {"label": "Company name", "value": "Acme"}, "newsletter": {"label": "Send me news", "value": True},
        "utm": {"label": "Campaign", "value": "spring", "isHidden": True}}
    assert body["payload"]["responses"]["company"] == {"label": "Company name", "value": "Acme"}
    [confirmation] = mail(since, "former@example.org")
    assert "Company name: Acme" in confirmation["text"] and "Send me news: Yes" in confirmation["text"]
    assert "spring" not in confirmation["text"] and "Campaign" not in confirmation["html"]
