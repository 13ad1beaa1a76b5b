"""Read, copy, write (services/retry.py `until_written`) against a writer that keeps getting there first.

The other writer is real: just before each of the service's conditional writes, it writes the same document through
the same repository, so the service's condition (the version it read) is refused by the table. Running out of
attempts is never silent: the API answers 409 `conflict_error`; a subscriber's message fails, is retried by its
queue and is parked in the feature's DLQ, from which a redrive completes it once the contention is over.
"""

from __future__ import annotations

import json

import pytest

from booking_core.services.retry import ATTEMPTS
from tests.support import weekday_ahead

DAY = weekday_ahead(91)


class Interloper:
    """Writes the document first, `times` times (None: every time); counts the service's attempts."""

    def __init__(self, times: int | None) -> None:
        self.times = times
        self.attempts = 0

    def first(self) -> bool:
        self.attempts += 1
        return self.times is None or self.attempts <= self.times


def interfere_with_event_types(monkeypatch, interloper: Interloper) -> None:
    from booking_core.repositories.entities import EventTypeRepository

    real_save = EventTypeRepository.save

    def save(self, event_type, version):
        if interloper.first():
            current, current_version = self.get(event_type.id)
            real_save(self, current.model_copy(update={"description": f"theirs {interloper.attempts}"}),
                      current_version)
        return real_save(self, event_type, version)

    monkeypatch.setattr(EventTypeRepository, "save", save)


def test_an_api_change_that_never_gets_its_turn_is_a_409_and_changes_nothing_of_its_own(api, monkeypatch):
    host = api.host("Contended Host")
    event_type = api.event_type(ownerId=host["id"], slug="contended", title="Before")
    interloper = Interloper(times=None)
    interfere_with_event_types(monkeypatch, interloper)
    reply = api.call("PATCH", f"/v2/event-types/{event_type['id']}", {"title": "Mine"}, admin=True)
    assert reply.status == 409 and reply.code == "conflict_error"
    assert "changed concurrently" in reply.body["error"]["message"]
    assert interloper.attempts == ATTEMPTS
    monkeypatch.undo()
    stored = api.call("GET", f"/v2/event-types/{event_type['id']}", admin=True).data
    assert stored["title"] == "Before" and stored["description"] == f"theirs {ATTEMPTS}"


def test_an_api_change_that_loses_once_is_made_on_a_fresh_read(api, monkeypatch):
    host = api.host("Contended Host 2")
    event_type = api.event_type(ownerId=host["id"], slug="contended-once", title="Before")
    interloper = Interloper(times=1)
    interfere_with_event_types(monkeypatch, interloper)
    reply = api.call("PATCH", f"/v2/event-types/{event_type['id']}", {"title": "Mine"}, admin=True)
    assert reply.status == 200, reply.body
    assert interloper.attempts == 2
    assert reply.data["title"] == "Mine" and reply.data["description"] == "theirs 1"  # both changes kept


@pytest.fixture
def routed(api, bus):
    """A routed round-robin booking whose assignment reason the routing_forms subscriber is about to write."""
    hosts = [api.host(f"Routed Contended {i}") for i in range(2)]
    event_type = api.event_type(schedulingType="roundRobin", slug="reasons-contended",
                                hosts=[{"userId": h["id"]} for h in hosts])
    response = api.call("POST", "/v2/routing-form-responses", {"formId": "busy-form", "response": {"size": "s"}},
                        admin=True).data
    booking = api.book(event_type["id"], f"{DAY.isoformat()}T13:00:00Z", email="contended@example.org",
                       routing={"responseId": response["id"]})
    assert booking.status == 201, booking.body
    return booking.data, response


def interfere_with_bookings(monkeypatch, uid: str, interloper: Interloper) -> None:
    """Before the subscriber's write of the booking, another change of that booking is committed."""
    from booking_core.ports import BookingWrite, StatusChange
    from booking_core.repositories.bookings import DynamoBookingStore
    from booking_core.repositories.keys import booker_key_of

    real_write = DynamoBookingStore.write

    def write(self, plan):
        if any(change.record.uid == uid for change in plan.changes) and interloper.first():
            current = self.get_booking(uid)
            touched = current.model_copy(update={"metadata": {"touched": str(interloper.attempts)}})
            real_write(self, BookingWrite(changes=[StatusChange.of(current, touched, booker_key_of(current))]))
        return real_write(self, plan)

    monkeypatch.setattr(DynamoBookingStore, "write", write)


def test_a_subscriber_that_never_gets_its_turn_fails_the_message_into_the_dlq_then_a_redrive_completes_it(
        api, routed, bus, aws, monkeypatch):
    booking, response = routed
    dlq = aws.queue_urls["arn:aws:sqs:us-east-1:123456789012:local-RoutingFormsDLQ"]
    bus._drain(dlq)

    interloper = Interloper(times=None)
    interfere_with_bookings(monkeypatch, booking["uid"], interloper)
    bus.pump(rounds=300)
    parked = bus.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["detail"]["booking"]["uid"] for m in parked] == [booking["uid"]]
    receives = aws.template["Resources"]["RoutingFormsQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    assert interloper.attempts == receives * ATTEMPTS  # every delivery tried every attempt, then failed
    stored = api.call("GET", f"/v2/bookings/{booking['uid']}").data
    assert stored.get("assignmentReason") is None and stored["metadata"] == {"touched": str(interloper.attempts)}

    monkeypatch.undo()  # the contention is over: the parked message, redriven, does what it could not
    source = aws.queue_urls["arn:aws:sqs:us-east-1:123456789012:local-RoutingFormsQueue"]
    for message in parked:
        bus.sqs.send_message(QueueUrl=source, MessageBody=message["Body"])
        bus.sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
    bus.pump()
    reason = api.call("GET", f"/v2/bookings/{booking['uid']}").data["assignmentReason"]
    assert reason["routingFormResponseId"] == response["id"] and "busy-form" in reason["reason"]
