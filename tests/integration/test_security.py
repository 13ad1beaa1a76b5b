"""Safe to deploy: what a stranger, a seat holder or an abusive client can do, tried through the real handler on the
template's named stage and on `$default` (each scenario runs on both)."""

from __future__ import annotations

import base64
import json
import os
import time

import jwt
import pytest

from tests.support import weekday_ahead

DAY = weekday_ahead(50)


def at(hour: int, minute: int = 0, day=DAY) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


@pytest.fixture(scope="module")
def api(staged_api):
    return staged_api


@pytest.fixture(scope="module")
def host(api):
    return api.host(f"Security Host {api.stage}", email=f"security.host.{len(api.stage)}@hosts.test")


def booking_counter() -> int:
    from booking_core.repositories.tables import CounterItem

    try:
        return int(CounterItem.get("COUNTER#booking", "COUNTER", consistent_read=True).value)
    except CounterItem.DoesNotExist:
        return 0


def listed(api, event_type_id: int, start: str) -> bool:
    day = start[:10]
    return any(slot["start"].startswith(start[:16]) for slots in api.slots(event_type_id, day, day).values()
               for slot in slots)


# -- seats are private --------------------------------------------------------------------------------------------
def test_a_seat_holder_sees_only_their_own_seat(api, host):
    event_type = api.event_type(ownerId=host["id"], slug="private-seats",
                                seats={"seatsPerTimeSlot": 3, "showAttendeeInfo": True})
    first = api.book(event_type["id"], at(10), email="first.seat@example.org", guests=["first.guest@example.org"],
                     metadata={"note": "first's own"}, bookingFieldsResponses={"company": "First Ltd"},
                     attendee={"name": "First", "email": "first.seat@example.org", "timeZone": "UTC",
                               "phoneNumber": "+44 20 7183 8750"})
    assert first.status == 201, first.body
    second = api.book(event_type["id"], at(10), email="second.seat@example.org")
    assert second.status == 201 and second.data["uid"] == first.data["uid"]

    def others_private(view: dict, own_email: str) -> None:
        text = json.dumps(view)
        assert "first.guest@example.org" not in text and "First Ltd" not in text and "first's own" not in text
        assert "+442071838750" not in text
        assert view["guests"] == [] and view["metadata"] == {} and view["bookingFieldsResponses"] == {}
        assert view["attendees"][0]["email"] == own_email  # showAttendeeInfo: the others by name, nothing more

    others_private(second.data, "second.seat@example.org")
    seen = api.call("GET", f"/v2/bookings/{first.data['uid']}?seatUid={second.data['seatUid']}").data
    others_private(seen, "second.seat@example.org")
    assert {a["email"] for a in seen["attendees"]} == {"first.seat@example.org", "second.seat@example.org"}

    own = api.call("GET", f"/v2/bookings/{first.data['uid']}?seatUid={first.data['seatUid']}").data
    assert own["guests"] == ["first.guest@example.org"] and own["metadata"] == {"note": "first's own"}
    assert own["bookingFieldsResponses"] == {"company": "First Ltd"}
    assert own["attendees"][0]["phoneNumber"] == "+442071838750"

    stranger = api.call("GET", f"/v2/bookings/{first.data['uid']}").data
    assert "First Ltd" not in json.dumps(stranger) and "+442071838750" not in json.dumps(stranger)
    host_view = api.call("GET", f"/v2/bookings/{first.data['uid']}", admin=True).data
    assert {a["email"] for a in host_view["attendees"]} == {"first.seat@example.org", "second.seat@example.org"}


def test_only_the_host_cancels_a_whole_seated_booking(api, host):
    event_type = api.event_type(ownerId=host["id"], slug="seat-cancel", seats={"seatsPerTimeSlot": 3})
    first = api.book(event_type["id"], at(11), email="a.seat@example.org").data
    second = api.book(event_type["id"], at(11), email="b.seat@example.org").data

    refused = api.call("POST", f"/v2/bookings/{first['uid']}/cancel", {"cancellationReason": "mine now"})
    assert refused.status == 403 and refused.code == "forbidden_error"
    still = api.call("GET", f"/v2/bookings/{first['uid']}?seatUid={second['seatUid']}").data
    assert still["status"] == "accepted" and still["seatsRemaining"] == 1

    by_host = api.call("POST", f"/v2/bookings/{first['uid']}/cancel", {"cancellationReason": "host"}, admin=True)
    assert by_host.status == 200 and by_host.data["status"] == "cancelled"
    assert {a["email"] for a in by_host.data["attendees"]} == {"a.seat@example.org", "b.seat@example.org"}
    assert listed(api, event_type["id"], at(11))


# -- bounds before work -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("count", [3_000_000, 10**38, 25])
def test_recurrence_count_is_bounded_before_anything_is_read_or_written(api, count):
    before = booking_counter()
    reply = api.call("POST", "/v2/bookings", {"start": at(9), "eventTypeId": 987_654_321, "recurrenceCount": count,
                                              "attendee": {"name": "X", "email": "x@example.org", "timeZone": "UTC"}})
    assert reply.status == 400 and reply.code == "request_body_invalid_error"
    assert reply.body["error"]["details"]["errors"][0]["field"] == "recurrenceCount"
    assert booking_counter() == before


def test_a_refused_booking_takes_no_id(api, host):
    event_type = api.event_type(ownerId=host["id"], slug="no-ids", recurrence={"frequency": "weekly", "interval": 1,
                                                                                "occurrences": 3})
    before = booking_counter()
    assert api.book(987_654_321, at(9)).code == "event_type_not_found"
    assert api.book(event_type["id"], at(9), recurrenceCount=4).code == "request_body_invalid_error"
    assert api.book(event_type["id"], at(3)).code == "no_available_users_found_error"  # outside working hours
    assert booking_counter() == before


@pytest.mark.parametrize("responses", [{f"q{i}": "a" for i in range(51)}, {"essay": "x" * (16 * 1024)}],
                         ids=["51 keys", "over 16 KB"])
def test_booking_field_answers_are_bounded(api, host, responses):
    reply = api.book(987_654_321, at(9), bookingFieldsResponses=responses)
    assert reply.status == 400 and reply.body["error"]["details"]["errors"][0]["field"] == "bookingFieldsResponses"


@pytest.mark.parametrize("admin", [False, True])
def test_a_body_over_256_kb_is_a_413(api, admin):
    raw = json.dumps({"start": at(9), "eventTypeId": 1, "metadata": {"pad": "x" * (300 * 1024)}})
    path = "/v2/event-types" if admin else "/v2/bookings"
    reply = api.call("POST", path, raw_body=raw, admin=admin)
    assert reply.status == 413 and reply.code == "payload_too_large"


def test_hostile_bodies_and_parameters_are_400s_never_500s(api):
    not_utf8 = api.call("POST", "/v2/bookings", raw_body=b'{"start": "\xff\xfe"}')
    assert not_utf8.status == 400 and not_utf8.code == "request_body_invalid_error"
    not_json = api.call("POST", "/v2/bookings", raw_body="{not json")
    assert not_json.status == 400
    far = api.call("GET", "/v2/slots?eventTypeId=1&start=9999-12-30&end=9999-12-31")
    assert far.status == 400 and far.code == "request_body_invalid_error"
    huge_id = api.call("GET", f"/v2/users/{10**30}", admin=True)
    assert huge_id.status == 400
    long_uid = api.call("GET", "/v2/bookings/" + "u" * 500)
    assert long_uid.status == 400


@pytest.mark.parametrize("key", ["clé-ünïcödé", "\u202e" * 10, "x" * 10_000])
def test_any_wrong_admin_key_is_a_401(api, key):
    reply = api.call("GET", "/v2/blocklist", headers={"authorization": f"Bearer {key}"})
    assert reply.status == 401 and reply.code == "unauthorized_error"


# -- tokens and keys ----------------------------------------------------------------------------------------------
def test_a_booker_token_without_exp_is_refused(api, host):
    event_type = api.event_type(ownerId=host["id"], slug="no-exp")
    token = jwt.encode({"email": "forever@example.org"}, os.environ["BOOKER_JWT_SECRET"], algorithm="HS256")
    reply = api.call("POST", "/v2/bookings", {"start": at(13), "eventTypeId": event_type["id"],
                                              "attendee": {"name": "F", "email": "forever@example.org",
                                                           "timeZone": "UTC"}},
                     headers={"authorization": f"Bearer {token}"})
    assert reply.status == 401 and reply.code == "unauthorized_error"
    me = api.call("POST", "/v2/me/bookings", {"start": at(13), "eventTypeId": event_type["id"],
                                              "attendee": {"name": "F", "email": "forever@example.org",
                                                           "timeZone": "UTC"}},
                  headers={"authorization": f"Bearer {token}"})
    assert me.status == 401


def test_hs256_tokens_are_checked_for_issuer_and_audience_when_configured(api, host, monkeypatch):
    from booking_core.config import settings

    event_type = api.event_type(ownerId=host["id"], slug="iss-aud")
    monkeypatch.setenv("BOOKER_JWT_ISSUER", "https://auth.example.test/")
    monkeypatch.setenv("BOOKER_JWT_AUDIENCE", "bookings")
    settings.cache_clear()
    try:
        def book(hour: int, **claims) -> int:
            token = jwt.encode({"email": "iss@example.org", "exp": int(time.time()) + 300, **claims},
                               os.environ["BOOKER_JWT_SECRET"], algorithm="HS256")
            return api.call("POST", "/v2/bookings", {"start": at(hour), "eventTypeId": event_type["id"],
                                                     "attendee": {"name": "I", "email": "iss@example.org",
                                                                  "timeZone": "UTC"}},
                            headers={"authorization": f"Bearer {token}"}).status

        assert book(14) == 401  # neither claim
        assert book(14, iss="https://evil.example/", aud="bookings") == 401
        assert book(14, iss="https://auth.example.test/", aud="other") == 401
        assert book(14, iss="https://auth.example.test/", aud="bookings") == 201
    finally:
        monkeypatch.undo()
        settings.cache_clear()


def test_the_admin_key_is_read_through_a_five_minute_cache(api, monkeypatch):
    """In AWS the key lives in Secrets Manager: every request asks Powertools' parameter cache (max_age 300 s), so
    a rotation is honoured within five minutes, instead of the first key living as long as the container."""
    from aws_lambda_powertools.utilities import parameters

    from booking_core.config import settings

    current = {"key": "first-key-0123456789"}
    asked: list[int] = []

    def get_secret(arn: str, max_age: int = 0, **kwargs) -> str:
        asked.append(max_age)
        return current["key"]

    monkeypatch.delenv("ADMIN_API_KEY")
    monkeypatch.setenv("ADMIN_API_KEY_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:admin")
    monkeypatch.setattr(parameters, "get_secret", get_secret)
    settings.cache_clear()
    try:
        def status(key: str) -> int:
            return api.call("GET", "/v2/blocklist", headers={"authorization": f"Bearer {key}"}).status

        assert status("first-key-0123456789") == 200
        current["key"] = "rotated-key-9876543210"
        assert status("first-key-0123456789") == 401 and status("rotated-key-9876543210") == 200
        assert asked and all(0 < age <= 300 for age in asked)
    finally:
        monkeypatch.undo()
        settings.cache_clear()


# -- abuse limits -------------------------------------------------------------------------------------------------
@pytest.fixture
def limits(monkeypatch):
    from booking_core.config import settings

    def apply(per_ip: int = 0, per_email: int = 0) -> None:
        monkeypatch.setenv("RATE_LIMIT_PER_IP_PER_MINUTE", str(per_ip))
        monkeypatch.setenv("RATE_LIMIT_PER_EMAIL_PER_HOUR", str(per_email))
        settings.cache_clear()

    yield apply
    monkeypatch.undo()
    settings.cache_clear()


def fresh_window(seconds: int, margin: float) -> None:
    """Start a test of fixed windows away from a window's end, so its requests share one window."""
    remaining = seconds - time.time() % seconds
    if remaining < margin:
        time.sleep(remaining + 0.2)


def test_requests_per_source_ip_are_limited(api, host, limits):
    limits(per_ip=3)
    fresh_window(60, margin=20)
    event_type = api.event_type(ownerId=host["id"], slug="per-ip")
    ip = f"203.0.113.{7 + len(api.stage)}"
    replies = [api.call("POST", "/v2/bookings", {"start": at(9 + i, day=DAY + 3 * _week()), "eventTypeId": event_type["id"],
                                                 "attendee": {"name": "R", "email": f"r{i}@example.org",
                                                              "timeZone": "UTC"}}, source_ip=ip)
               for i in range(4)]
    assert [r.status for r in replies] == [201, 201, 201, 429]
    refused = replies[3]
    assert refused.code == "too_many_requests" and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert listed(api, event_type["id"], at(12, day=DAY + 3 * _week())), "the refused request wrote nothing"
    other_ip = api.call("POST", f"/v2/bookings/{replies[0].data['uid']}/cancel", {}, source_ip="198.51.100.1")
    assert other_ip.status == 200  # another address has its own window
    same_ip = api.call("POST", f"/v2/bookings/{replies[1].data['uid']}/cancel", {}, source_ip=ip)
    assert same_ip.status == 429  # cancels count too
    assert api.call("GET", f"/v2/bookings/{replies[1].data['uid']}").data["status"] == "accepted"


def test_new_bookings_per_attendee_email_are_limited(api, host, limits):
    limits(per_email=2)
    fresh_window(3600, margin=20)
    event_type = api.event_type(ownerId=host["id"], slug="per-email")
    email = f"busy.{len(api.stage)}@example.org"
    tagged = email.replace("@", "+again@").upper()  # case and +tags count as the same address
    assert api.book(event_type["id"], at(9, day=DAY + _week()), email=email).status == 201
    assert api.book(event_type["id"], at(10, day=DAY + _week()), email=tagged).status == 201
    refused = api.book(event_type["id"], at(11, day=DAY + _week()), email=email)
    assert refused.status == 429 and refused.code == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert listed(api, event_type["id"], at(11, day=DAY + _week()))
    assert api.book(event_type["id"], at(11, day=DAY + _week()), email="someone.else@example.org").status == 201


def _week():
    from datetime import timedelta

    return timedelta(weeks=1)


def test_limits_are_off_at_zero(api, host, limits):
    limits(per_ip=0, per_email=0)
    event_type = api.event_type(ownerId=host["id"], slug="no-limits")
    statuses = {api.book(event_type["id"], at(9 + i, day=DAY + 2 * _week()), email="same@example.org").status
                for i in range(5)}
    assert statuses == {201}


def test_raw_base64_bodies_are_read_as_sent(api):
    """API Gateway base64-encodes bodies it considers binary: the same checks apply to what the client sent."""
    from local.apigw import http_api_event

    event = http_api_event("POST", "/v2/bookings", {"content-type": "application/json"}, b"\xff" * 10,
                           stage=api.stage)
    assert event["isBase64Encoded"] and base64.b64decode(event["body"]) == b"\xff" * 10
    result = api.handler(event, api.context_factory())
    assert result["statusCode"] == 400
