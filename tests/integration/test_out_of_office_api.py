"""Out of office through the real handler on both stages: the management routes, slots and bookings honouring
the entries, and outOfOfficeCreated -> OOO_CREATED through the real event path."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from tests.support import WebhookReceiver, weekday_ahead

DAY = weekday_ahead(35)
_names = itertools.count(1)


@pytest.fixture(scope="module")
def api(staged_api):
    """Every scenario here runs on `$default` and on the template's named stage."""
    return staged_api


def at(hour: int, minute: int = 0, day=DAY) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def host(api, label: str = "Away") -> dict:
    return api.host(f"{label} {next(_names)} {api.stage.strip('$')}")


def listed(api, event_type_id: int, day=DAY) -> list[str]:
    days = api.slots(event_type_id, day.isoformat(), day.isoformat())
    return [slot["start"] for slot in days.get(day.isoformat(), [])]


def test_out_of_office_routes_need_the_admin_key(api):
    for method, path in [("POST", "/v2/users/1/ooo"), ("GET", "/v2/users/1/ooo"), ("DELETE", "/v2/users/1/ooo/1")]:
        reply = api.call(method, path, {"start": at(9), "end": at(10)} if method == "POST" else None)
        assert reply.status == 401 and reply.code == "unauthorized_error"


def test_an_entry_is_created_listed_honoured_and_removed(api):
    away, cover = host(api), host(api, "Cover")
    event_type = api.event_type(ownerId=away["id"], slug=f"ooo-{next(_names)}")
    assert f"{DAY.isoformat()}T10:00:00.000Z".replace(".000Z", ".000+00:00") in listed(api, event_type["id"])
    created = api.call("POST", f"/v2/users/{away['id']}/ooo", {"start": at(0), "end": at(13),
                                                                "reason": "dentist", "redirectToUserId": cover["id"]},
                       admin=True)
    assert created.status == 201, created.body
    entry = created.data
    assert entry == {"id": entry["id"], "userId": away["id"], "start": f"{DAY.isoformat()}T00:00:00.000Z",
                     "end": f"{DAY.isoformat()}T13:00:00.000Z", "reason": "dentist", "redirectToUserId": cover["id"]}
    assert api.call("GET", f"/v2/users/{away['id']}/ooo", admin=True).data == [entry]
    starts = listed(api, event_type["id"])
    assert starts and all(start >= f"{DAY.isoformat()}T13:00" for start in starts)

    refused = api.book(event_type["id"], at(10))
    assert refused.status == 409 and refused.code == "host_out_of_office"
    assert refused.body["error"]["details"] == {"redirectToUserId": cover["id"]}
    assert api.book(event_type["id"], at(13)).status == 201

    removed = api.call("DELETE", f"/v2/users/{away['id']}/ooo/{entry['id']}", admin=True)
    assert removed.status == 200
    assert api.call("GET", f"/v2/users/{away['id']}/ooo", admin=True).data == []
    assert api.book(event_type["id"], at(10)).status == 201
    again = api.call("DELETE", f"/v2/users/{away['id']}/ooo/{entry['id']}", admin=True)
    assert again.status == 404 and again.code == "not_found_error"


def test_round_robin_skips_the_host_who_is_away(api):
    first, second = host(api), host(api)
    event_type = api.event_type(slug=f"ooo-rr-{next(_names)}", schedulingType="roundRobin",
                                hosts=[{"userId": first["id"]}, {"userId": second["id"]}])
    reply = api.call("POST", f"/v2/users/{first['id']}/ooo", {"start": at(9), "end": at(12)}, admin=True)
    assert reply.status == 201
    bookings = [api.book(event_type["id"], at(9 + i), email=f"rr{i}@example.org") for i in range(3)]
    assert [b.status for b in bookings] == [201, 201, 201]
    assert {b.data["hosts"][0]["id"] for b in bookings} == {second["id"]}


@pytest.mark.parametrize("body, field", [
    ({"start": at(10), "end": at(9)}, "end"),
    ({"start": "2020-01-01T09:00:00Z", "end": "2020-01-01T10:00:00Z"}, "end"),
    ({"start": at(9), "end": at(10), "redirectToUserId": 999999}, "redirectToUserId"),
    ({"start": at(9), "end": at(10), "reason": "x" * 501}, "reason"),
    ({"start": at(9), "end": at(10), "surprise": True}, "surprise"),
    ({"start": "tomorrow", "end": at(10)}, "start"),
])
def test_invalid_entries_name_the_field(api, body, field):
    user = host(api)
    reply = api.call("POST", f"/v2/users/{user['id']}/ooo", body, admin=True)
    assert reply.status == 400 and reply.code == "request_body_invalid_error", reply.body
    assert field in [error["field"] for error in reply.body["error"]["details"]["errors"]]


def test_the_redirect_must_be_another_user_and_the_user_must_exist(api):
    user = host(api)
    itself = api.call("POST", f"/v2/users/{user['id']}/ooo",
                      {"start": at(9), "end": at(10), "redirectToUserId": user["id"]}, admin=True)
    assert itself.status == 400 and itself.body["error"]["details"]["errors"][0]["field"] == "redirectToUserId"
    for method, path in [("POST", "/v2/users/999999/ooo"), ("GET", "/v2/users/999999/ooo")]:
        reply = api.call(method, path, {"start": at(9), "end": at(10)} if method == "POST" else None, admin=True)
        assert reply.status == 404 and reply.code == "not_found_error"


HOOKS = WebhookReceiver()


def test_creating_an_entry_fires_ooo_created_for_the_users_and_the_global_webhooks(api, bus, monkeypatch):
    monkeypatch.setenv("WEBHOOK_BACKOFF_SECONDS", "0")
    HOOKS.clear()
    away, cover, other = host(api), host(api, "Cover"), host(api, "Other")
    event_type = api.event_type(ownerId=away["id"], slug=f"ooo-hook-{next(_names)}")
    with HOOKS.running() as url:
        subscriptions = {
            "mine": {"subscriberUrl": f"{url}/mine", "triggers": ["OOO_CREATED"], "userId": away["id"]},
            "global": {"subscriberUrl": f"{url}/global", "triggers": ["OOO_CREATED", "BOOKING_CREATED"]},
            "other-user": {"subscriberUrl": f"{url}/other-user", "triggers": ["OOO_CREATED"], "userId": other["id"]},
            "event-type": {"subscriberUrl": f"{url}/event-type", "triggers": ["OOO_CREATED"],
                           "eventTypeId": event_type["id"]},
            "bookings-only": {"subscriberUrl": f"{url}/bookings-only", "triggers": ["BOOKING_CREATED"],
                              "userId": away["id"]},
        }
        ids = {name: api.call("POST", "/v2/webhooks", body, admin=True).data["id"]
               for name, body in subscriptions.items()}
        entry = api.call("POST", f"/v2/users/{away['id']}/ooo", {"start": at(9), "end": at(17, day=DAY + timedelta(1)),
                                                                 "reason": "conference",
                                                                 "redirectToUserId": cover["id"]}, admin=True).data
        bus.pump()
        deliveries = api.call("GET", f"/v2/webhooks/{ids['mine']}/deliveries", admin=True).data
        for webhook_id in ids.values():  # the next test's entries must not reach these receivers
            api.call("DELETE", f"/v2/webhooks/{webhook_id}", admin=True)
    assert [(d["triggerEvent"], d["bookingUid"], d["status"]) for d in deliveries] == [
        ("OOO_CREATED", None, "delivered")]
    mine = [r for r in HOOKS.received if r.body["payload"]["oooEntry"]["id"] == entry["id"]]
    assert sorted(r.path for r in mine) == ["/global", "/mine"]
    body = mine[0].body
    assert body["triggerEvent"] == "OOO_CREATED"
    ooo = body["payload"]["oooEntry"]
    assert ooo["start"] == entry["start"] and ooo["end"] == entry["end"] and ooo["notes"] == "conference"
    assert ooo["user"]["id"] == away["id"] and ooo["user"]["email"] == away["email"]
    assert ooo["toUser"]["id"] == cover["id"]
