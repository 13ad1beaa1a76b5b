"""Management API (contract section 2) through the real handler against moto."""

from __future__ import annotations

import pytest


def test_every_management_route_needs_the_admin_key(api):
    for method, path in [("POST", "/v2/users"), ("GET", "/v2/users/1"), ("PATCH", "/v2/users/1"),
                         ("POST", "/v2/schedules"), ("GET", "/v2/schedules/1"), ("POST", "/v2/event-types"),
                         ("GET", "/v2/event-types/1"), ("PATCH", "/v2/event-types/1"), ("DELETE", "/v2/event-types/1")]:
        missing = api.call(method, path, {"bad": "body"})
        wrong = api.call(method, path, {"bad": "body"}, headers={"authorization": "Bearer nope"})
        for reply in (missing, wrong):
            assert reply.status == 401, (method, path, reply.body)
            assert reply.code == "unauthorized_error"


def test_user_lifecycle(api):
    created = api.call("POST", "/v2/users", {"name": "Ann", "email": "Ann@Example.COM", "timeZone": "Europe/Berlin"},
                       admin=True)
    assert created.status == 201
    user = created.data
    assert user == {"id": user["id"], "name": "Ann", "email": "Ann@example.com", "timeZone": "Europe/Berlin",
                    "locale": "en", "defaultScheduleId": None, "locked": False, "lastActiveAt": None}
    patched = api.call("PATCH", f"/v2/users/{user['id']}", {"locked": True, "locale": "de"}, admin=True)
    assert patched.status == 200 and patched.data["locked"] is True and patched.data["locale"] == "de"
    assert api.call("GET", f"/v2/users/{user['id']}", admin=True).data == patched.data
    assert api.call("GET", "/v2/users/999999", admin=True).code == "not_found_error"


@pytest.mark.parametrize("body, field", [
    ({"name": "A", "email": "not-an-email", "timeZone": "UTC"}, "email"),
    ({"name": "A", "email": "a@example.com", "timeZone": "Mars/Base"}, "timeZone"),
    ({"email": "a@example.com", "timeZone": "UTC"}, "name"),
    ({"name": "A", "email": "a@example.com", "timeZone": "UTC", "surprise": 1}, "surprise"),
])
def test_invalid_user_bodies_name_the_field(api, body, field):
    reply = api.call("POST", "/v2/users", body, admin=True)
    assert reply.status == 400 and reply.code == "request_body_invalid_error"
    assert field in [error["field"] for error in reply.body["error"]["details"]["errors"]]


def test_first_schedule_becomes_default_and_default_can_move(api):
    user = api.call("POST", "/v2/users", {"name": "S", "email": "s@example.com", "timeZone": "UTC"}, admin=True).data
    body = {"userId": user["id"], "name": "Work", "timeZone": "UTC",
            "availability": [{"days": ["Monday"], "startTime": "09:00", "endTime": "17:00"}],
            "overrides": [{"date": "2026-12-24", "startTime": "00:00", "endTime": "00:00"}]}
    first = api.call("POST", "/v2/schedules", body, admin=True)
    second = api.call("POST", "/v2/schedules", {**body, "name": "Evenings"}, admin=True)
    assert first.status == second.status == 201
    assert first.data["isDefault"] is True and second.data["isDefault"] is False
    assert api.call("GET", f"/v2/users/{user['id']}", admin=True).data["defaultScheduleId"] == first.data["id"]
    moved = api.call("PATCH", f"/v2/schedules/{second.data['id']}", {"isDefault": True}, admin=True)
    assert moved.status == 200 and moved.data["isDefault"] is True
    assert api.call("GET", f"/v2/users/{user['id']}", admin=True).data["defaultScheduleId"] == second.data["id"]
    assert api.call("GET", f"/v2/schedules/{first.data['id']}", admin=True).data["isDefault"] is False


def test_schedule_validation(api):
    user = api.call("POST", "/v2/users", {"name": "V", "email": "v@example.com", "timeZone": "UTC"}, admin=True).data
    reply = api.call("POST", "/v2/schedules", {"userId": user["id"], "name": "W", "timeZone": "UTC",
                                                "availability": [{"days": ["Funday"], "startTime": "17:00",
                                                                  "endTime": "09:00"}]}, admin=True)
    assert reply.status == 400 and reply.code == "request_body_invalid_error"
    unknown_user = api.call("POST", "/v2/schedules", {"userId": 987654, "name": "W", "timeZone": "UTC"}, admin=True)
    assert unknown_user.status == 400 and unknown_user.body["error"]["details"]["errors"][0]["field"] == "userId"


def test_event_type_lifecycle_and_kinds(api):
    alice, bob = api.host("Et Alice"), api.host("Et Bob")
    single = api.event_type(ownerId=alice["id"], lengthInMinutesOptions=[15, 30, 60])
    collective = api.event_type(schedulingType="collective", hosts=[{"userId": alice["id"]}, {"userId": bob["id"]}])
    rr = api.event_type(schedulingType="roundRobin",
                        hosts=[{"userId": alice["id"], "weight": 200}, {"userId": bob["id"], "mandatory": True}])
    assert single["lengthInMinutesOptions"] == [15, 30, 60] and single["ownerId"] == alice["id"]
    assert [h["userId"] for h in collective["hosts"]] == [alice["id"], bob["id"]]
    assert rr["hosts"][0] == {"userId": alice["id"], "mandatory": False, "priority": 2, "weight": 200}

    patched = api.call("PATCH", f"/v2/event-types/{single['id']}", {"title": "Renamed", "slotInterval": 15}, admin=True)
    assert patched.status == 200 and patched.data["title"] == "Renamed" and patched.data["slotInterval"] == 15
    assert patched.data["lengthInMinutesOptions"] == [15, 30, 60]
    bad_patch = api.call("PATCH", f"/v2/event-types/{single['id']}", {"lengthInMinutes": 45}, admin=True)
    assert bad_patch.status == 400 and bad_patch.code == "request_body_invalid_error"

    assert api.call("DELETE", f"/v2/event-types/{single['id']}", admin=True).status == 200
    assert api.call("GET", f"/v2/event-types/{single['id']}", admin=True).code == "event_type_not_found"
    assert api.call("DELETE", f"/v2/event-types/{single['id']}", admin=True).code == "event_type_not_found"
    gone = api.book(single["id"], "2030-01-02T10:00:00Z")
    assert gone.status == 404 and gone.code == "event_type_not_found"


@pytest.mark.parametrize("fields, field", [
    ({"lengthInMinutes": 30, "lengthInMinutesOptions": [15, 60]}, None),
    ({"schedulingType": "collective", "hosts": [{"userId": 1}, {"userId": 1}]}, None),
    ({"ownerId": 987654}, "ownerId"),
    ({"lengthInMinutes": 1440, "afterEventBuffer": 720}, "lengthInMinutes"),
])
def test_event_type_validation(api, fields, field):
    owner = api.host("Validation Owner")
    body = {"title": "T", "slug": "t", "lengthInMinutes": 30, **({"ownerId": owner["id"]} if "hosts" not in fields
                                                                   and "ownerId" not in fields else {}), **fields}
    reply = api.call("POST", "/v2/event-types", body, admin=True)
    assert reply.status == 400 and reply.code == "request_body_invalid_error", reply.body
    if field:
        assert reply.body["error"]["details"]["errors"][0]["field"] == field


def test_seats_with_recurrence_refused_at_creation(api):
    owner = api.host("Seats Owner")
    reply = api.call("POST", "/v2/event-types", {
        "title": "T", "slug": "t", "lengthInMinutes": 30, "ownerId": owner["id"],
        "seats": {"seatsPerTimeSlot": 3}, "recurrence": {"frequency": "weekly", "interval": 1, "occurrences": 4},
    }, admin=True)
    assert reply.status == 400 and reply.code == "recurring_event_seats_error"


@pytest.fixture(scope="module")
def api(staged_api):
    """Every scenario here runs on `$default` and on the template's named stage."""
    return staged_api
