"""No double booking, ever: many simultaneous requests through the real handler against the serial moto server.

Each request runs in its own emulated Lambda container (a fresh copy of the handler module), so they really race:
all availability checks pass before the first commit, and only the create transaction's slot locks decide.
"""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest

from local.apigw import http_api_event, response_parts
from local.lambdas import FunctionPool
from tests.support import weekday_ahead

pytestmark = pytest.mark.concurrency
REQUESTS = 50


@pytest.fixture(scope="module")
def pool(aws):
    pool = FunctionPool(aws.functions["BookingApiFunction"])
    for _ in range(REQUESTS):
        pool.warm()
    return pool


def race(pool: FunctionPool, bodies: list[dict], paths: list[str] | None = None) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, dict] | None] = [None] * len(bodies)

    def run(index: int, body: dict) -> None:
        path = paths[index] if paths else "/v2/bookings"
        event = http_api_event("POST", path, {"content-type": "application/json"}, json.dumps(body))
        barrier.wait()
        status, _, data = response_parts(pool.invoke(event))
        results[index] = (status, json.loads(data))

    threads = [threading.Thread(target=run, args=(i, body)) for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(result is not None for result in results), "a request never finished"
    return results  # type: ignore[return-value]


def bodies_for(event_type_id: int, starts: list[str]) -> list[dict]:
    return [
        {"start": starts[i % len(starts)], "eventTypeId": event_type_id,
         "attendee": {"name": f"Racer {i}", "email": f"racer{i}@example.org", "timeZone": "UTC"}}
        for i in range(REQUESTS)
    ]


def stored_bookings(host_id: int) -> list:
    from booking_core.repositories.bookings import DynamoBookingStore

    return [held for held in DynamoBookingStore().host_bookings(host_id, 0, 10**10) if not held.is_reservation]


def assert_exactly_one_winner(results: list[tuple[int, dict]], host_id: int) -> None:
    statuses = Counter(status for status, _ in results)
    codes = Counter(body.get("error", {}).get("code") for status, body in results if status != 201)
    assert statuses[201] == 1, statuses
    assert statuses[409] == REQUESTS - 1, (statuses, codes)
    assert codes == {"no_available_users_found_error": REQUESTS - 1}
    assert not any(status >= 500 for status, _ in results)
    stored = stored_bookings(host_id)
    assert len(stored) == 1
    winner = next(body["data"] for status, body in results if status == 201)
    assert stored[0].uid == winner["uid"]


def test_fifty_requests_for_one_slot(api, pool):
    host = api.host("Race Host One")
    event_type = api.event_type(ownerId=host["id"], slug="race-one")
    start = f"{weekday_ahead(28).isoformat()}T10:00:00Z"
    assert_exactly_one_winner(race(pool, bodies_for(event_type["id"], [start])), host["id"])


def test_fifty_requests_for_overlapping_slots_with_different_starts(api, pool):
    host = api.host("Race Host Two")
    event_type = api.event_type(ownerId=host["id"], slug="race-two", lengthInMinutes=60, slotInterval=15)
    day = weekday_ahead(28).isoformat()
    starts = [f"{day}T10:00:00Z", f"{day}T10:15:00Z", f"{day}T10:30:00Z", f"{day}T10:45:00Z"]
    assert_exactly_one_winner(race(pool, bodies_for(event_type["id"], starts)), host["id"])


def test_fifty_attendees_for_a_five_seat_slot(api, pool):
    host = api.host("Race Host Seats")
    event_type = api.event_type(ownerId=host["id"], slug="race-seats", seats={"seatsPerTimeSlot": 5})
    start = f"{weekday_ahead(28).isoformat()}T10:00:00Z"
    results = race(pool, bodies_for(event_type["id"], [start]))
    statuses = Counter(status for status, _ in results)
    codes = Counter(body.get("error", {}).get("code") for status, body in results if status != 201)
    assert statuses[201] == 5, (statuses, codes)
    assert codes == {"booking_seats_full_error": REQUESTS - 5}
    assert not any(status >= 500 for status, _ in results)
    winners = [body["data"] for status, body in results if status == 201]
    assert len({w["uid"] for w in winners}) == 1 and len({w["seatUid"] for w in winners}) == 5
    stored = stored_bookings(host["id"])
    assert len(stored) == 1
    from booking_core.repositories.bookings import DynamoBookingStore

    assert {seat.attendee.email for seat in DynamoBookingStore().seats(winners[0]["uid"])} == {
        w["attendees"][0]["email"] for w in winners}


def test_fifty_reservations_of_one_slot_one_wins(api, pool):
    """Reservations take the slot's locks with the same conditional writes as bookings: one transaction wins."""
    host = api.host("Race Host Reserved")
    event_type = api.event_type(ownerId=host["id"], slug="race-reserved")
    start = f"{weekday_ahead(28).isoformat()}T10:00:00Z"
    bodies = [{"eventTypeId": event_type["id"], "slotStart": start} for _ in range(REQUESTS)]
    results = race(pool, bodies, ["/v2/slots/reservations"] * REQUESTS)
    statuses = Counter(status for status, _ in results)
    codes = Counter(body.get("error", {}).get("code") for status, body in results if status != 201)
    assert statuses[201] == 1 and statuses[409] == REQUESTS - 1, (statuses, codes)
    assert set(codes) <= {"slot_reserved", "no_available_users_found_error"}
    winner = next(body["data"] for status, body in results if status == 201)
    assert api.book(event_type["id"], start).code == "slot_reserved"
    assert api.book(event_type["id"], start, reservationUid=winner["reservationUid"]).status == 201


def test_reservations_and_bookings_racing_for_one_slot_one_wins(api, pool):
    host = api.host("Race Host Mixed")
    event_type = api.event_type(ownerId=host["id"], slug="race-mixed")
    start = f"{weekday_ahead(28).isoformat()}T10:00:00Z"
    bookings = bodies_for(event_type["id"], [start])
    bodies = [bookings[i] if i % 2 else {"eventTypeId": event_type["id"], "slotStart": start}
              for i in range(REQUESTS)]
    paths = ["/v2/bookings" if i % 2 else "/v2/slots/reservations" for i in range(REQUESTS)]
    results = race(pool, bodies, paths)
    statuses = Counter(status for status, _ in results)
    assert statuses[201] == 1 and statuses[409] == REQUESTS - 1, statuses
    booked = [body["data"] for status, body in results if status == 201 and "uid" in body["data"]]
    assert len(stored_bookings(host["id"])) == len(booked)  # a booking, or none when a reservation won
