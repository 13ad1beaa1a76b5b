"""Reading ahead (pipeline/reads.py): a container that has booked an event type sends that type's availability reads
beside enrichment's own, so its next booking takes one sequential round trip less; when the type has changed
meanwhile the reads sent ahead are discarded and made again, so the booking is decided on the type as it is now.

Round trips are counted with a delay injected before every AWS call (as `make bench` does): calls sent in the same
round then overlap in time, and calls that wait for another's answer clearly do not."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.bench.recorder import Call, by_round, rounds
from tests.support import weekday_ahead

NAMES = itertools.count(1)
DAY = weekday_ahead(200)
DELAY = 0.05


def at(hour: int) -> str:
    return f"{DAY.isoformat()}T{hour:02d}:00:00Z"


@contextmanager
def aws_rounds() -> Iterator[list[Call]]:
    """Every AWS call meanwhile, each started DELAY seconds before it is made."""
    import botocore.client

    calls: list[Call] = []
    original = botocore.client.BaseClient._make_api_call

    def delayed(client, operation, params):
        start = time.perf_counter()
        time.sleep(DELAY)
        try:
            return original(client, operation, params)
        finally:
            calls.append(Call(operation, client.meta.service_model.service_name, start, time.perf_counter(), 0.0,
                              0.0, False))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", delayed)
        yield calls


def query_rounds(calls: list[Call]) -> list[int]:
    """The round of each Query (1: sent with the first calls), in the order they started. The event type's read is
    always in round 1 (BatchGetItem): a Query in round 1 was read ahead."""
    depth = rounds(calls)
    assert depth[[call.operation for call in calls].index("BatchGetItem")] == 1
    return [d for call, d in sorted(zip(calls, depth), key=lambda p: p[0].start) if call.operation == "Query"]


@pytest.fixture(autouse=True)
def forgetful_container():
    """Each test starts from a container that remembers no event type (earlier tests' stores reuse the same ids)."""
    from booking_core.pipeline import reads

    reads._remembered.clear()


def book(api, type_id: int, start: str, email: str) -> tuple[dict, list[Call]]:
    with aws_rounds() as calls:
        reply = api.book(type_id, start, email=email)
    assert reply.status == 201, reply.body
    return reply.data, calls


def test_a_known_event_type_is_booked_in_one_round_trip_less(api):
    n = next(NAMES)
    host = api.host(f"Ahead Host {n}", time_zone="UTC")
    event_type = api.event_type(slug=f"ahead-{n}", ownerId=host["id"])
    _, first = book(api, event_type["id"], at(10), f"first{n}@example.org")
    _, second = book(api, event_type["id"], at(11), f"second{n}@example.org")
    assert query_rounds(first) == [2], by_round(first)
    assert query_rounds(second) == [1], f"the host's read went with the event type's: {by_round(second)}"


def test_a_changed_team_is_read_again_and_the_booking_follows_it(api):
    n = next(NAMES)
    alice = api.host(f"Ahead Alice {n}", time_zone="UTC")
    bob = api.host(f"Ahead Bob {n}", time_zone="UTC")
    event_type = api.event_type(slug=f"ahead-rr-{n}", schedulingType="roundRobin", hosts=[{"userId": alice["id"]}])
    first, _ = book(api, event_type["id"], at(10), f"rr.first{n}@example.org")
    assert [h["id"] for h in first["hosts"]] == [alice["id"]]
    moved = api.call("PATCH", f"/v2/event-types/{event_type['id']}", {"hosts": [{"userId": bob["id"]}]}, admin=True)
    assert moved.status == 200, moved.body

    second, calls = book(api, event_type["id"], at(11), f"rr.second{n}@example.org")
    assert [h["id"] for h in second["hosts"]] == [bob["id"]], "decided on the team as it is now"
    assert query_rounds(calls) == [1, 2], by_round(calls)  # Alice's window read ahead, then Bob's
    third, calls = book(api, event_type["id"], at(12), f"rr.third{n}@example.org")
    assert [h["id"] for h in third["hosts"]] == [bob["id"]]
    assert query_rounds(calls) == [1], by_round(calls)


def test_a_slot_taken_since_the_container_last_booked_is_still_refused(api):
    """The reads sent ahead are as fresh as the event type's: a booking made elsewhere in between is seen."""
    n = next(NAMES)
    host = api.host(f"Ahead Busy {n}", time_zone="UTC")
    event_type = api.event_type(slug=f"ahead-busy-{n}", ownerId=host["id"])
    book(api, event_type["id"], at(9), f"warm{n}@example.org")
    book(api, event_type["id"], at(14), f"taken{n}@example.org")
    with aws_rounds() as calls:
        again = api.book(event_type["id"], at(14), email=f"late{n}@example.org")
    assert again.status == 409, again.body
    assert query_rounds(calls) == [1], by_round(calls)


def slots_of(api, type_id: int) -> tuple[list[str], list[Call]]:
    end = DAY.fromordinal(DAY.toordinal() + 1).isoformat()
    with aws_rounds() as calls:
        reply = api.call("GET", f"/v2/slots?eventTypeId={type_id}&start={DAY.isoformat()}&end={end}&timeZone=UTC")
    assert reply.status == 200, reply.body
    return [slot["start"] for slots in reply.data.values() for slot in slots], calls


def test_slots_of_a_known_event_type_read_the_hosts_with_the_type_and_follow_a_change(api):
    n = next(NAMES)
    early = api.host(f"Slots Early {n}", time_zone="UTC", hours=("08:00", "10:00"))
    late = api.host(f"Slots Late {n}", time_zone="UTC", hours=("15:00", "17:00"))
    event_type = api.event_type(slug=f"ahead-slots-{n}", schedulingType="roundRobin", hosts=[{"userId": early["id"]}])
    first, calls = slots_of(api, event_type["id"])
    assert query_rounds(calls) == [2], by_round(calls)
    again, calls = slots_of(api, event_type["id"])
    assert again == first and query_rounds(calls) == [1], by_round(calls)
    assert first and all("T08:" in start or "T09:" in start for start in first)

    moved = api.call("PATCH", f"/v2/event-types/{event_type['id']}", {"hosts": [{"userId": late["id"]}]}, admin=True)
    assert moved.status == 200, moved.body
    after, calls = slots_of(api, event_type["id"])
    assert after and all("T15:" in start or "T16:" in start for start in after), "the team as it is now"
    assert query_rounds(calls) == [1, 2], by_round(calls)


def test_a_hidden_type_read_ahead_still_answers_only_with_its_private_link(api):
    n = next(NAMES)
    host = api.host(f"Hidden Ahead {n}", time_zone="UTC")
    event_type = api.event_type(slug=f"ahead-hidden-{n}", ownerId=host["id"])
    slots_of(api, event_type["id"])  # the container knows the type
    hidden = api.call("PATCH", f"/v2/event-types/{event_type['id']}", {"hidden": True}, admin=True)
    assert hidden.status == 200, hidden.body
    end = DAY.fromordinal(DAY.toordinal() + 1).isoformat()
    reply = api.call("GET", f"/v2/slots?eventTypeId={event_type['id']}&start={DAY.isoformat()}&end={end}")
    assert reply.code == "private_link_expired", reply.body
    assert "data" not in (reply.body or {})
