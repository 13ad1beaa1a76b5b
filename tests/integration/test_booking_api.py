"""Booker API (contract sections 3 and 7) through the real handler against moto."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support import weekday_ahead

DAY = weekday_ahead(21)  # a Wednesday three weeks ahead


@pytest.fixture(scope="module")
def single(api):
    host = api.host("Booking Api Host", time_zone="Europe/Berlin")
    return api.event_type(ownerId=host["id"], slug="api-single", lengthInMinutesOptions=[30, 60])


def at(hour: int, minute: int = 0, day=DAY) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def test_slots_in_requested_time_zone_and_dates(api, single):
    data = api.slots(single["id"], DAY.isoformat(), DAY.isoformat(), "America/New_York")
    starts = [slot["start"] for day_slots in data.values() for slot in day_slots]
    # Berlin 09:00-17:00 is 03:00-11:00 in New York (both zones shift together except for a few weeks a year)
    assert len(starts) == 16
    assert all(start.endswith(("-05:00", "-04:00")) for start in starts)
    assert list(data) == [DAY.isoformat()]
    longer = api.slots(single["id"], DAY.isoformat(), DAY.isoformat(), "UTC", duration=60)
    assert len(longer[DAY.isoformat()]) == 8


def test_slots_query_errors(api, single):
    bad_zone = api.call("GET", f"/v2/slots?eventTypeId={single['id']}&start={DAY}&end={DAY}&timeZone=Nowhere/City")
    assert bad_zone.status == 400 and bad_zone.code == "request_body_invalid_error"
    missing = api.call("GET", f"/v2/slots?start={DAY}&end={DAY}")
    assert missing.status == 400 and missing.body["error"]["details"]["errors"][0]["field"] == "eventTypeId"
    unknown = api.call("GET", f"/v2/slots?eventTypeId=987654&start={DAY}&end={DAY}")
    assert unknown.status == 404 and unknown.code == "event_type_not_found"
    bad_length = api.call("GET", f"/v2/slots?eventTypeId={single['id']}&start={DAY}&end={DAY}&duration=45")
    assert bad_length.status == 400 and bad_length.code == "invalid_event_length"


def test_booking_is_created_returned_and_removes_its_slot(api, single):
    start = at(9)  # 10:00 Berlin in winter, 11:00 in summer: both inside 09:00-17:00
    reply = api.book(single["id"], start, email="first@example.org", metadata={"source": "test"})
    assert reply.status == 201, reply.body
    booking = reply.data
    for key in ("id", "uid", "title", "status", "start", "end", "duration", "eventTypeId", "eventType", "hosts",
                "attendees", "guests", "location", "meetingUrl", "metadata", "createdAt", "updatedAt"):
        assert key in booking
    assert booking["status"] == "accepted" and booking["start"] == f"{DAY.isoformat()}T09:00:00.000Z"
    assert booking["eventType"] == {"id": single["id"], "slug": "api-single"}
    assert booking["metadata"] == {"source": "test"}
    assert len(booking["uid"]) >= 22
    assert api.call("GET", f"/v2/bookings/{booking['uid']}").data == booking
    listed = [s["start"] for s in api.slots(single["id"], DAY.isoformat(), DAY.isoformat(), "UTC")[DAY.isoformat()]]
    assert f"{DAY.isoformat()}T09:00:00.000+00:00" not in listed


def test_phone_numbers_are_normalised_or_refused(api, single):
    body = {"start": at(12), "eventTypeId": single["id"],
            "attendee": {"name": "P", "email": "phone@example.org", "timeZone": "UTC", "phoneNumber": "+44 20 7183 8750"}}
    created = api.call("POST", "/v2/bookings", body)
    assert created.status == 201 and created.data["attendees"][0]["phoneNumber"] == "+442071838750"
    for number in ("020 7183 8750", "+44 12", "not a number"):
        body["attendee"]["phoneNumber"] = number
        reply = api.call("POST", "/v2/bookings", body)
        assert reply.status == 400 and reply.code == "request_body_invalid_error"
        assert reply.body["error"]["details"]["errors"][0]["field"] == "attendee.phoneNumber"


def test_repeat_of_the_same_booking_returns_it_with_200(api, single):
    first = api.book(single["id"], at(13), email="repeat@example.org")
    again = api.book(single["id"], at(13), email="Repeat@example.org")
    assert first.status == 201 and again.status == 200
    assert again.data["uid"] == first.data["uid"]


def test_taken_slot_is_a_409(api, single):
    assert api.book(single["id"], at(14), email="a@example.org").status == 201
    taken = api.book(single["id"], at(14, 30), email="b@example.org", lengthInMinutes=60)
    ok = api.book(single["id"], at(14, 30), email="b@example.org")
    assert taken.status == 409 and taken.code == "no_available_users_found_error"
    assert ok.status == 201


@pytest.mark.parametrize("body, code, status", [
    ({"start": "2020-01-01T10:00:00Z"}, "booking_in_past", 400),
    ({"lengthInMinutes": 45}, "invalid_event_length", 400),
    ({"start": "not-a-date"}, "request_body_invalid_error", 400),
    ({"start": "2030-01-01T10:00:00"}, "request_body_invalid_error", 400),
    ({"attendee": {"name": "x"}}, "request_body_invalid_error", 400),
    ({"metadata": {f"k{i}": "v" for i in range(51)}}, "request_body_invalid_error", 400),
])
def test_booking_errors_use_the_contract_envelope(api, single, body, code, status):
    base = {"start": at(15), "eventTypeId": single["id"],
            "attendee": {"name": "E", "email": "errors@example.org", "timeZone": "UTC"}}
    reply = api.call("POST", "/v2/bookings", {**base, **body})
    assert reply.status == status, reply.body
    assert reply.body["status"] == "error" and reply.code == code
    assert isinstance(reply.body["error"]["message"], str) and reply.body["error"]["message"]


def test_malformed_json_is_a_400(api):
    reply = api.call("POST", "/v2/bookings", raw_body="{not json")
    assert reply.status == 400 and reply.code == "request_body_invalid_error"


def test_unknown_booking_and_route(api):
    assert api.call("GET", "/v2/bookings/nope").code == "booking_not_found_error"
    assert api.call("GET", "/v2/nothing-here").status == 404


def test_idempotency_key_replays_and_refuses_a_different_body(api, single):
    body = {"start": at(10), "eventTypeId": single["id"],
            "attendee": {"name": "I", "email": "idem@example.org", "timeZone": "UTC"}}
    headers = {"idempotency-key": f"key-{DAY}-1-{api.stage}"}
    first = api.call("POST", "/v2/bookings", body, headers=headers)
    replay = api.call("POST", "/v2/bookings", body, headers=headers)
    assert first.status == 201 and replay.status == 201 and replay.body == first.body
    changed = api.call("POST", "/v2/bookings", {**body, "start": at(11)}, headers=headers)
    assert changed.status == 422 and changed.code == "idempotency_key_reused"


def test_idempotent_error_is_replayed_too(api, single):
    body = {"start": "2020-01-01T10:00:00Z", "eventTypeId": single["id"],
            "attendee": {"name": "I", "email": "idem2@example.org", "timeZone": "UTC"}}
    headers = {"idempotency-key": f"key-{DAY}-2-{api.stage}"}
    first = api.call("POST", "/v2/bookings", body, headers=headers)
    replay = api.call("POST", "/v2/bookings", body, headers=headers)
    assert first.status == replay.status == 400 and first.body == replay.body


def test_unexpected_failure_is_a_500_without_internals(api, single, monkeypatch):
    from booking_core.repositories.bookings import DynamoBookingStore

    def boom(self, *args, **kwargs):
        raise RuntimeError("secret internal detail /var/task/x.py")

    monkeypatch.setattr(DynamoBookingStore, "fetch_request_data", boom)
    reply = api.book(single["id"], at(16))
    assert reply.status == 500
    assert reply.body == {"status": "error", "error": {"code": "internal_server_error",
                                                       "message": "something went wrong on our side"}}


def test_day_after_is_unaffected(api, single):
    later = DAY + timedelta(days=1)
    assert api.book(single["id"], at(9, day=later), email="later@example.org").status == 201


def test_same_key_while_the_first_request_runs_is_a_409(api, single, aws, monkeypatch):
    import routes.bookings as booking_routes

    from tests.integration.conftest import context_for, function_handler
    from tests.support import Api

    other_container = Api(function_handler(aws, "BookingApiFunction"), context_for("BookingApiFunction"))
    body = {"start": at(15, 30), "eventTypeId": single["id"],
            "attendee": {"name": "I", "email": "inflight@example.org", "timeZone": "UTC"}}
    headers = {"idempotency-key": f"key-{DAY}-inflight-{api.stage}"}
    real, seen = booking_routes.create_booking, []

    def while_running(*args, **kwargs):
        if not seen:  # the first request, still in progress: the same key arrives on another container
            seen.append(other_container.call("POST", "/v2/bookings", body, headers=headers))
        return real(*args, **kwargs)

    monkeypatch.setattr(booking_routes, "create_booking", while_running)
    first = api.call("POST", "/v2/bookings", body, headers=headers)
    assert first.status == 201
    assert seen[0].status == 409 and seen[0].code == "idempotency_key_in_progress"


@pytest.fixture(scope="module")
def api(staged_api):
    """Every scenario here runs on `$default` and on the template's named stage."""
    return staged_api
