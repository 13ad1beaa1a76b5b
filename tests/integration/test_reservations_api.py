"""Slot reservations through the real handler on both stages, against moto's conditional writes."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from booking_core import clock
from tests.support import weekday_ahead

DAY = weekday_ahead(42)
_names = itertools.count(1)


@pytest.fixture(scope="module")
def api(staged_api):
    """Every scenario here runs on `$default` and on the template's named stage."""
    return staged_api


def at(hour: int, minute: int = 0, day=DAY) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z"


def local(instant: str) -> str:
    return instant.replace(":00Z", ":00.000+00:00")


def event_type(api, **fields) -> dict:
    owner = api.host(f"Holder {next(_names)} {api.stage.strip('$')}")
    return api.event_type(ownerId=owner["id"], slug=f"held-{next(_names)}", **fields)


def listed(api, event_type_id: int) -> list[str]:
    days = api.slots(event_type_id, DAY.isoformat(), DAY.isoformat())
    return [slot["start"] for slot in days.get(DAY.isoformat(), [])]


def reserve(api, event_type_id: int, start: str, **extra):
    return api.call("POST", "/v2/slots/reservations", {"eventTypeId": event_type_id, "slotStart": start, **extra})


def test_reserve_book_with_it_and_it_is_gone(api):
    kind = event_type(api)
    held = reserve(api, kind["id"], at(10), reservationDuration=10)
    assert held.status == 201, held.body
    uid = held.data["reservationUid"]
    assert held.data["slotStart"] == f"{DAY.isoformat()}T10:00:00.000Z"
    assert held.data["slotEnd"] == f"{DAY.isoformat()}T10:30:00.000Z" and held.data["reservationDuration"] == 10
    assert api.call("GET", f"/v2/slots/reservations/{uid}").data == held.data
    assert local(at(10)) not in listed(api, kind["id"]) and local(at(10, 30)) in listed(api, kind["id"])

    stranger = api.book(kind["id"], at(10), email="stranger@example.org")
    assert stranger.status == 409 and stranger.code == "slot_reserved"
    rival = reserve(api, kind["id"], at(10))
    assert rival.status == 409 and rival.code == "slot_reserved"
    booked = api.book(kind["id"], at(10), reservationUid=uid)
    assert booked.status == 201, booked.body
    gone = api.call("GET", f"/v2/slots/reservations/{uid}")
    assert gone.status == 404 and gone.code == "not_found_error"
    again = api.book(kind["id"], at(10), email="late@example.org")
    assert again.status == 409 and again.code == "no_available_users_found_error"


def test_a_reservation_expires_by_itself(api, monkeypatch):
    kind = event_type(api)
    held = reserve(api, kind["id"], at(11))
    assert held.status == 201
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(minutes=5, seconds=1))
    assert local(at(11)) in listed(api, kind["id"])
    assert api.call("GET", f"/v2/slots/reservations/{held.data['reservationUid']}").status == 404
    assert api.book(kind["id"], at(11), email="after@example.org").status == 201  # the lock item is still there


def test_moving_extending_and_releasing(api):
    kind = event_type(api, slotInterval=15)
    uid = reserve(api, kind["id"], at(9)).data["reservationUid"]
    moved = api.call("PATCH", f"/v2/slots/reservations/{uid}", {"slotStart": at(9, 15), "reservationDuration": 15})
    assert moved.status == 200, moved.body
    assert moved.data["slotStart"] == f"{DAY.isoformat()}T09:15:00.000Z" and moved.data["reservationDuration"] == 15
    starts = listed(api, kind["id"])
    assert local(at(9)) not in starts  # 09:00-09:30 overlaps the held 09:15-09:45
    assert local(at(9, 45)) in starts
    assert api.book(kind["id"], at(9, 45), email="next@example.org").status == 201
    blocked = api.call("PATCH", f"/v2/slots/reservations/{uid}", {"slotStart": at(9, 45)})
    assert blocked.status == 409
    released = api.call("DELETE", f"/v2/slots/reservations/{uid}")
    assert released.status == 200
    assert local(at(9, 15)) in listed(api, kind["id"])
    assert api.call("DELETE", f"/v2/slots/reservations/{uid}").status == 404
    assert api.call("PATCH", f"/v2/slots/reservations/{uid}", {"reservationDuration": 5}).status == 404


@pytest.mark.parametrize("body, field", [
    ({"slotStart": at(10), "reservationDuration": 16}, "reservationDuration"),
    ({"slotStart": at(10), "reservationDuration": 0}, "reservationDuration"),
    ({"slotStart": "soon"}, "slotStart"),
    ({"slotStart": at(10), "slotDuration": 0}, "slotDuration"),
    ({}, "slotStart"),
])
def test_invalid_reservations_name_the_field(api, body, field):
    reply = api.call("POST", "/v2/slots/reservations", {"eventTypeId": 1, **body})
    assert reply.status == 400 and reply.code == "request_body_invalid_error"
    assert field in [error["field"] for error in reply.body["error"]["details"]["errors"]]


def test_a_reservation_is_refused_like_a_booking(api):
    kind = event_type(api)
    assert reserve(api, kind["id"], at(7)).code == "no_available_users_found_error"
    assert reserve(api, 999999, at(10)).code == "event_type_not_found"
    hidden = event_type(api, hidden=True)
    assert reserve(api, hidden["id"], at(10)).code == "private_link_expired"
    seated = event_type(api, seats={"seatsPerTimeSlot": 4})
    refused = reserve(api, seated["id"], at(10))
    assert refused.status == 400 and refused.body["error"]["details"]["errors"][0]["field"] == "eventTypeId"
    uid = reserve(api, kind["id"], at(14)).data["reservationUid"]
    elsewhere = api.book(kind["id"], at(15), reservationUid=uid)
    assert elsewhere.status == 400 and elsewhere.body["error"]["details"]["errors"][0]["field"] == "reservationUid"


def test_unknown_reservations_are_404(api):
    for method in ("GET", "PATCH", "DELETE"):
        reply = api.call(method, "/v2/slots/reservations/not-a-reservation", {} if method == "PATCH" else None)
        assert reply.status == 404 and reply.code == "not_found_error"


def test_reservations_are_abuse_limited_per_source_ip(api, monkeypatch):
    import time

    from booking_core.config import settings

    kind = event_type(api, slotInterval=30)
    monkeypatch.setenv("RATE_LIMIT_PER_IP_PER_MINUTE", "2")
    settings.cache_clear()
    try:
        if 60 - time.time() % 60 < 15:
            time.sleep(60 - time.time() % 60 + 0.2)
        ip = f"203.0.113.{40 + len(api.stage)}"
        replies = [api.call("POST", "/v2/slots/reservations", {"eventTypeId": kind["id"], "slotStart": at(9 + i)},
                            source_ip=ip) for i in range(3)]
        assert [r.status for r in replies] == [201, 201, 429]
        assert replies[2].code == "too_many_requests" and "Retry-After" in replies[2].headers
        assert local(at(11)) in listed(api, kind["id"])  # the refused request held nothing
    finally:
        monkeypatch.undo()
        settings.cache_clear()
