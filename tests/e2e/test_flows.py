"""Issue 3 flows end to end on the local stack (python -m local over HTTP), one scenario per flow."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import jwt
import pytest

from tests.e2e.conftest import Http
from tests.support import wednesday_in_week

pytestmark = pytest.mark.e2e
LOCAL_JWT_SECRET = "local-booker-secret-change-me-0123456789"


def at(day, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def make_type(stack: Http, **fields) -> dict:
    body = {"title": "Flow", "slug": "flow", "lengthInMinutes": 30, "ownerId": 2, **fields}
    reply = stack.call("POST", "/v2/event-types", body, admin=True)
    assert reply.status == 201, reply.body
    return reply.data


def book(stack: Http, type_id: int, start: str, email: str, **extra):
    return stack.call("POST", "/v2/bookings", {"start": start, "eventTypeId": type_id,
                                               "attendee": {"name": email.split("@")[0], "email": email,
                                                            "timeZone": "Europe/London"}, **extra})


def events_for(stack: Http, uid: str) -> list[str]:
    return [e["detailType"] for e in stack.call("GET", "/_local/events").data
            if e["detail"]["booking"]["uid"] == uid]


def test_confirmation_flow(stack: Http):
    day = wednesday_in_week(2)
    event_type = make_type(stack, slug="e2e-confirm", confirmationPolicy={"type": "always"})
    pending = book(stack, event_type["id"], at(day, 10), "c1@example.org").data
    assert pending["status"] == "pending"
    assert book(stack, event_type["id"], at(day, 10), "c2@example.org").code == "no_available_users_found_error"
    assert stack.call("POST", f"/v2/bookings/{pending['uid']}/confirm", admin=True).data["status"] == "accepted"
    stack.eventually(lambda: events_for(stack, pending["uid"]) == ["bookingRequested", "bookingConfirmed"])


def test_payment_flow(stack: Http):
    day = wednesday_in_week(2)
    event_type = make_type(stack, slug="e2e-paid", price={"amount": 1500, "currency": "usd"})
    booking = book(stack, event_type["id"], at(day, 11), "payer@example.org").data
    assert booking["status"] == "pending" and booking["paymentRequired"] is True
    payment = stack.call("GET", f"/v2/payments/{booking['paymentUid']}").data
    assert payment["provider"] == "test" and payment["amount"] == 1500 and payment["currency"] == "USD"
    paid = stack.call("POST", f"/_local/payments/{booking['paymentUid']}/succeed")
    assert paid.status == 200 and paid.data["status"] == "succeeded"
    assert stack.call("GET", f"/v2/bookings/{booking['uid']}").data["status"] == "accepted"
    stack.eventually(lambda: events_for(stack, booking["uid"]) ==
                     ["bookingPaymentInitiated", "bookingPaid", "bookingConfirmed"])


def test_seats_flow(stack: Http):
    day = wednesday_in_week(2)
    event_type = make_type(stack, slug="e2e-seats", seats={"seatsPerTimeSlot": 2})
    first = book(stack, event_type["id"], at(day, 12), "s1@example.org").data
    second = book(stack, event_type["id"], at(day, 12), "s2@example.org").data
    assert first["uid"] == second["uid"] and second["seatsRemaining"] == 0
    assert book(stack, event_type["id"], at(day, 12), "s3@example.org").code == "booking_seats_full_error"
    stack.eventually(lambda: events_for(stack, first["uid"]).count("bookingCreated") == 2)


def test_reschedule_and_cancel_flows(stack: Http):
    day = wednesday_in_week(3)
    event_type = make_type(stack, slug="e2e-move")
    original = book(stack, event_type["id"], at(day, 9), "mover@example.org").data
    moved = stack.call("POST", f"/v2/bookings/{original['uid']}/reschedule", {"start": at(day, 14)})
    assert moved.status == 201 and moved.data["rescheduledFromUid"] == original["uid"]
    assert book(stack, event_type["id"], at(day, 9), "taker@example.org").status == 201  # the old slot is free
    stack.eventually(lambda: "bookingRescheduled" in events_for(stack, moved.data["uid"]))
    cancelled = stack.call("POST", f"/v2/bookings/{moved.data['uid']}/cancel", {"cancellationReason": "ill"})
    assert cancelled.data["status"] == "cancelled"
    assert book(stack, event_type["id"], at(day, 14), "next@example.org").status == 201
    stack.eventually(lambda: "bookingCancelled" in events_for(stack, moved.data["uid"]))


def test_recurring_flow(stack: Http):
    day = wednesday_in_week(4)  # the series takes weeks 4 to 6
    event_type = make_type(stack, slug="e2e-weekly", recurrence={"frequency": "weekly", "interval": 1, "occurrences": 3})
    series = book(stack, event_type["id"], at(day, 15), "series@example.org")
    assert series.status == 201 and len(series.data) == 3
    starts = [b["start"] for b in series.data]
    london = ZoneInfo("Europe/London")  # the seeded host's schedule: the series keeps 15:00 wall-clock time there
    first = datetime.fromisoformat(at(day, 15).replace("Z", "+00:00")).astimezone(london)
    expected = [(first + timedelta(days=7 * week)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
                for week in range(3)]
    assert starts == expected
    assert len({b["recurringBookingUid"] for b in series.data}) == 1


def test_blocklist_private_link_and_signed_in_booker(stack: Http):
    day = wednesday_in_week(7)
    hidden = make_type(stack, slug="e2e-hidden", hidden=True)
    link = stack.call("POST", f"/v2/event-types/{hidden['id']}/private-links", {}, admin=True).data
    assert book(stack, hidden["id"], at(day, 10), "anon@example.org").code == "private_link_expired"
    assert book(stack, hidden["id"], at(day, 10), "anon@example.org", privateLink=link["linkId"]).status == 201

    open_type = make_type(stack, slug="e2e-login")
    stack.call("POST", "/v2/blocklist", {"type": "email", "value": "vip@example.org", "action": "requireLogin"},
               admin=True)
    assert book(stack, open_type["id"], at(day, 11), "vip@example.org").code == "booker_email_requires_login"
    token = jwt.encode({"email": "vip@example.org", "exp": int(time.time()) + 300},
                       os.environ.get("BOOKER_JWT_SECRET_E2E", LOCAL_JWT_SECRET), algorithm="HS256")
    signed = stack.call("POST", "/v2/bookings", {"start": at(day, 11), "eventTypeId": open_type["id"],
                                                 "attendee": {"name": "V", "email": "vip@example.org",
                                                              "timeZone": "UTC"}},
                        headers={"Authorization": f"Bearer {token}"})
    assert signed.status == 201
    me = stack.call("POST", "/v2/me/bookings", {"start": at(day, 12), "eventTypeId": open_type["id"],
                                                "attendee": {"name": "V", "email": "vip@example.org",
                                                             "timeZone": "UTC"}})
    assert me.status == 401  # the authorizer route needs the token
    bad = stack.call("POST", "/v2/bookings", {"start": at(day, 12), "eventTypeId": open_type["id"],
                                              "attendee": {"name": "V", "email": "vip@example.org",
                                                           "timeZone": "UTC"}},
                     headers={"Authorization": "Bearer not.a.jwt"})
    assert bad.status == 401 and bad.code == "unauthorized_error"
