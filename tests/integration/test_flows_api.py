"""Issue 3 rules and flows through the real handler against moto: routes, envelopes, persistence."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import jwt
import pytest

from local.apigw import http_api_event
from tests.support import weekday_ahead

DAY = weekday_ahead(45)


def at(hour: int, minute: int = 0, day=DAY) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def booker_token(email: str, secret: str | None = None, **claims) -> str:
    return jwt.encode({"email": email, "exp": int(time.time()) + 600, **claims},
                      secret or os.environ["BOOKER_JWT_SECRET"], algorithm="HS256")


@pytest.fixture(scope="module")
def owner(api):
    return api.host("Flows Owner", email="flows.owner@hosts.test")


def test_blocklist_routes_and_booker_rules(api, owner):
    event_type = api.event_type(ownerId=owner["id"], slug="bl")
    blocked = api.call("POST", "/v2/blocklist", {"type": "email", "value": "Bad+x@Blocked.test", "action": "block"},
                       admin=True)
    assert blocked.status == 201 and blocked.data["value"] == "bad@blocked.test"
    login = api.call("POST", "/v2/blocklist", {"type": "domain", "value": "@needs-login.test",
                                                "action": "requireLogin"}, admin=True).data
    assert api.call("POST", "/v2/blocklist", {"type": "domain", "value": "needs-login.test",
                                               "action": "block"}, admin=True).status == 409
    ids = [entry["id"] for entry in api.call("GET", "/v2/blocklist", admin=True).data]
    assert blocked.data["id"] in ids and login["id"] in ids

    assert api.book(event_type["id"], at(9), email="BAD@blocked.test").code == "booker_email_blocked"
    assert api.book(event_type["id"], at(9), email="amy@needs-login.test").code == "booker_email_requires_login"
    signed = api.call("POST", "/v2/bookings", {"start": at(9), "eventTypeId": event_type["id"],
                                               "attendee": {"name": "Amy", "email": "amy@needs-login.test",
                                                            "timeZone": "UTC"}},
                      headers={"authorization": f"Bearer {booker_token('amy@needs-login.test')}"})
    assert signed.status == 201, signed.body
    forged = api.call("POST", "/v2/bookings", {"start": at(10), "eventTypeId": event_type["id"],
                                               "attendee": {"name": "Amy", "email": "amy@needs-login.test",
                                                            "timeZone": "UTC"}},
                      headers={"authorization": f"Bearer {booker_token('amy@needs-login.test', 'wrong-secret-xxxxxxxxxxxxxxxxxxxxxx')}"})
    assert forged.status == 401 and forged.code == "unauthorized_error"
    expired = api.call("POST", "/v2/bookings", {"start": at(10), "eventTypeId": event_type["id"],
                                                "attendee": {"name": "Amy", "email": "amy@needs-login.test",
                                                             "timeZone": "UTC"}},
                       headers={"authorization": f"Bearer {booker_token('amy@needs-login.test', exp=int(time.time()) - 5)}"})
    assert expired.status == 401
    assert api.call("DELETE", f"/v2/blocklist/{login['id']}", admin=True).status == 200
    assert api.book(event_type["id"], at(10), email="amy@needs-login.test").status == 201
    assert api.call("DELETE", f"/v2/blocklist/{login['id']}", admin=True).code == "not_found_error"
    assert api.call("DELETE", f"/v2/blocklist/{blocked.data['id']}", admin=True).status == 200


def test_signed_in_route_takes_the_identity_from_the_authorizer(api, owner):
    event_type = api.event_type(ownerId=owner["id"], slug="me")
    entry = api.call("POST", "/v2/blocklist", {"type": "email", "value": "me@signed.test", "action": "requireLogin"},
                     admin=True).data
    body = {"start": at(11), "eventTypeId": event_type["id"],
            "attendee": {"name": "Me", "email": "me@signed.test", "timeZone": "UTC"}}
    import json

    event = http_api_event("POST", "/v2/me/bookings", {"content-type": "application/json"}, json.dumps(body),
                           jwt_claims={"email": "me@signed.test", "sub": "user-1"})
    result = api.handler(event, api.context_factory())
    assert result["statusCode"] == 201, result["body"]
    api.call("DELETE", f"/v2/blocklist/{entry['id']}", admin=True)


def test_blocked_host_is_not_booked_until_unblocked(api):
    host = api.host("Blocked Host", email="host@blocked-hosts.test")
    event_type = api.event_type(ownerId=host["id"], slug="bh")
    entry = api.call("POST", "/v2/blocklist", {"type": "domain", "value": "blocked-hosts.test", "action": "block"},
                     admin=True).data
    assert api.book(event_type["id"], at(9)).code == "event_type_no_hosts"
    assert api.slots(event_type["id"], DAY.isoformat(), DAY.isoformat()) == {}
    api.call("DELETE", f"/v2/blocklist/{entry['id']}", admin=True)
    assert api.book(event_type["id"], at(9)).status == 201


def test_private_links(api, owner):
    event_type = api.event_type(ownerId=owner["id"], slug="hidden", hidden=True)
    link = api.call("POST", f"/v2/event-types/{event_type['id']}/private-links", {"maxUsageCount": 3}, admin=True)
    expired = api.call("POST", f"/v2/event-types/{event_type['id']}/private-links",
                       {"expiresAt": "2020-01-01T00:00:00Z"}, admin=True)
    assert link.status == 201 and link.data["usageCount"] == 0 and link.data["isExpired"] is False
    assert len(link.data["linkId"]) >= 22 and expired.data["isExpired"] is True
    listed = api.call("GET", f"/v2/event-types/{event_type['id']}/private-links", admin=True).data
    assert {item["linkId"] for item in listed} == {link.data["linkId"], expired.data["linkId"]}

    no_link = api.call("GET", f"/v2/slots?eventTypeId={event_type['id']}&start={DAY}&end={DAY}")
    assert no_link.status == 403 and no_link.code == "private_link_expired"
    with_link = api.slots(event_type["id"], DAY.isoformat(), DAY.isoformat(), privateLink=link.data["linkId"])
    assert with_link[DAY.isoformat()]
    assert api.book(event_type["id"], at(12)).code == "private_link_expired"
    assert api.book(event_type["id"], at(12), privateLink=expired.data["linkId"]).code == "private_link_expired"
    assert api.book(event_type["id"], at(12), privateLink=link.data["linkId"]).status == 201


def test_routing_form_responses(api):
    hosts = [api.host(f"Router {i}") for i in range(3)]
    event_type = api.event_type(schedulingType="roundRobin", slug="routed",
                                hosts=[{"userId": h["id"]} for h in hosts])
    response = api.call("POST", "/v2/routing-form-responses", {"formId": "form-1", "response": {"size": "enterprise"}},
                        admin=True)
    assert response.status == 201 and response.data["formId"] == "form-1"
    missing = api.book(event_type["id"], at(9), routing={"responseId": 987654})
    assert missing.status == 404 and missing.code == "routing_form_response_not_found"
    chosen = api.book(event_type["id"], at(9), routing={"responseId": response.data["id"],
                                                        "teamMemberIds": [hosts[2]["id"]]})
    assert chosen.status == 201 and chosen.data["hosts"][0]["id"] == hosts[2]["id"]


def test_confirmation_flow(api, owner):
    event_type = api.event_type(ownerId=owner["id"], slug="confirm", confirmationPolicy={"type": "always"})
    pending = api.book(event_type["id"], at(13), email="pending@example.org")
    assert pending.status == 201 and pending.data["status"] == "pending"
    assert api.book(event_type["id"], at(13), email="second@example.org").code == "no_available_users_found_error"
    assert api.call("POST", f"/v2/bookings/{pending.data['uid']}/confirm").status == 401
    confirmed = api.call("POST", f"/v2/bookings/{pending.data['uid']}/confirm", admin=True)
    assert confirmed.status == 200 and confirmed.data["status"] == "accepted"
    other = api.book(event_type["id"], at(14), email="declined@example.org")
    declined = api.call("POST", f"/v2/bookings/{other.data['uid']}/decline", {"reason": "no"}, admin=True)
    assert declined.data["status"] == "rejected"
    assert api.book(event_type["id"], at(14), email="next@example.org").status == 201


def test_limits_hide_full_periods_from_slots(api):
    host = api.host("Limited Host")
    event_type = api.event_type(ownerId=host["id"], slug="limited", bookingLimitsCount={"day": 1})
    next_day = DAY + timedelta(days=1)
    before = api.slots(event_type["id"], DAY.isoformat(), next_day.isoformat())
    assert before[DAY.isoformat()] and before[next_day.isoformat()]
    assert api.book(event_type["id"], at(9)).status == 201
    after = api.slots(event_type["id"], DAY.isoformat(), next_day.isoformat())
    assert DAY.isoformat() not in after and after[next_day.isoformat()]
    assert api.book(event_type["id"], at(11), email="x@example.org").code == "booking_limit_reached"


def test_seats_through_the_api(api, owner):
    event_type = api.event_type(ownerId=owner["id"], slug="seated", seats={"seatsPerTimeSlot": 2})
    first = api.book(event_type["id"], at(15), email="s1@example.org")
    second = api.book(event_type["id"], at(15), email="s2@example.org")
    assert first.status == second.status == 201
    assert first.data["uid"] == second.data["uid"] and first.data["seatUid"] != second.data["seatUid"]
    assert second.data["seatsRemaining"] == 0 and [a["email"] for a in second.data["attendees"]] == ["s2@example.org"]
    assert api.book(event_type["id"], at(15), email="s3@example.org").code == "booking_seats_full_error"
    assert api.book(event_type["id"], at(15), email="s1@example.org").code == "already_signed_up_for_this_booking_error"
    mine = api.call("GET", f"/v2/bookings/{first.data['uid']}?seatUid={first.data['seatUid']}").data
    assert mine["seatUid"] == first.data["seatUid"] and [a["email"] for a in mine["attendees"]] == ["s1@example.org"]
    everyone = api.call("GET", f"/v2/bookings/{first.data['uid']}", admin=True).data
    assert {a["email"] for a in everyone["attendees"]} == {"s1@example.org", "s2@example.org"}
    slots = api.slots(event_type["id"], DAY.isoformat(), DAY.isoformat())[DAY.isoformat()]
    assert all(slot["seatsRemaining"] == 2 for slot in slots)  # the full 15:00 booking is not listed
    assert not any(slot["start"].startswith(f"{DAY.isoformat()}T15:00") for slot in slots)
    cancelled = api.call("POST", f"/v2/bookings/{first.data['uid']}/cancel", {"seatUid": first.data["seatUid"]})
    assert cancelled.status == 200 and cancelled.data["status"] == "cancelled"
    reopened = [s for s in api.slots(event_type["id"], DAY.isoformat(), DAY.isoformat())[DAY.isoformat()]
                if s["start"].startswith(f"{DAY.isoformat()}T15:00")]
    assert reopened == [{"start": f"{DAY.isoformat()}T15:00:00.000+00:00", "seatsRemaining": 1}]


def test_reschedule_and_cancel_through_the_api(api, owner):
    event_type = api.event_type(ownerId=owner["id"], slug="moving")
    original = api.book(event_type["id"], at(9, 30, DAY + timedelta(days=1)), email="mover@example.org").data
    moved = api.call("POST", f"/v2/bookings/{original['uid']}/reschedule",
                     {"start": at(10, 30, DAY + timedelta(days=1)), "reschedulingReason": "clash",
                      "rescheduledBy": "mover@example.org"})
    assert moved.status == 201, moved.body
    assert moved.data["rescheduledFromUid"] == original["uid"] and moved.data["reschedulingReason"] == "clash"
    old = api.call("GET", f"/v2/bookings/{original['uid']}").data
    assert old["status"] == "cancelled" and old["rescheduledToUid"] == moved.data["uid"]
    again = api.call("POST", f"/v2/bookings/{original['uid']}/reschedule", {"start": at(11, 30, DAY + timedelta(days=1))})
    assert again.status == 400 and again.code == "cancelled_bookings_cannot_be_rescheduled"
    cancelled = api.call("POST", f"/v2/bookings/{moved.data['uid']}/cancel", {"cancellationReason": "sick"})
    assert cancelled.status == 200 and cancelled.data["cancellationReason"] == "sick"
    assert api.book(event_type["id"], at(10, 30, DAY + timedelta(days=1)), email="taker@example.org").status == 201
    assert api.call("POST", "/v2/bookings/nope/cancel", {}).code == "booking_not_found_error"


def test_recurring_through_the_api(api, owner):
    event_type = api.event_type(ownerId=owner["id"], slug="weekly",
                                recurrence={"frequency": "weekly", "interval": 1, "occurrences": 4})
    reply = api.book(event_type["id"], at(16, 0, DAY + timedelta(days=2)), recurrenceCount=3)
    assert reply.status == 201 and isinstance(reply.data, list) and len(reply.data) == 3
    assert len({b["recurringBookingUid"] for b in reply.data}) == 1
    too_many = api.book(event_type["id"], at(16, 0, DAY + timedelta(days=3)), recurrenceCount=5)
    assert too_many.status == 400 and too_many.code == "request_body_invalid_error"


def test_dry_run_through_the_api(api, owner):
    event_type = api.event_type(ownerId=owner["id"], slug="dry")
    dry = api.book(event_type["id"], at(9, 0, DAY + timedelta(days=2)), isDryRun=True)
    assert dry.status == 201 and dry.data["isDryRun"] is True
    assert api.call("GET", f"/v2/bookings/{dry.data['uid']}").status == 404
    real = api.book(event_type["id"], at(9, 0, DAY + timedelta(days=2)), email="real@example.org")
    assert real.status == 201 and "isDryRun" not in real.data


@pytest.fixture(scope="module")
def api(staged_api):
    """Every scenario here runs on `$default` and on the template's named stage."""
    return staged_api
