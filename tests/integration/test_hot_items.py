"""No item the booking path writes is shared by the whole service: bookings through the real handler, against a fake
that throttles any item written more often than DynamoDB's per-item limit allows (tests/hot_items.py).

Scaled to the emulator: 200 bookings per (virtual) second against 100 writes per second per item, the same ratio as
2,000 bookings/s against DynamoDB's 1,000.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.hot_items import Throttle, kind_of, watching
from tests.support import weekday_ahead

BOOKINGS_PER_SECOND = 200
WRITES_PER_SECOND = 100


def working_days(first: date, count: int) -> list[date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def starts(days: list[date]) -> list[str]:
    return [f"{day.isoformat()}T{hour:02d}:{minute:02d}:00Z" for day in days for hour in range(9, 17)
            for minute in (0, 30)]


def book(api, event_type_id: int, start: str, index: int):
    body = {"start": start, "eventTypeId": event_type_id,
            "attendee": {"name": "Hot", "email": f"hot{index}@example.org", "timeZone": "UTC"}}
    return api.call("POST", "/v2/bookings", body, source_ip=f"198.51.{index // 250}.{index % 250}")


@pytest.fixture
def limits_on(monkeypatch):
    """The deployed abuse limits, high enough never to refuse: their counters are written as in AWS."""
    from booking_core.config import settings

    monkeypatch.setenv("RATE_LIMIT_PER_IP_PER_MINUTE", "1000")
    monkeypatch.setenv("RATE_LIMIT_PER_EMAIL_PER_HOUR", "1000")
    settings.cache_clear()
    yield
    monkeypatch.undo()
    settings.cache_clear()


def test_many_tenants_booking_at_once_never_meet_a_hot_item(api, limits_on):
    """240 bookings over 24 event types (single host with booking limits, and round robin over 3 hosts) at a
    service-wide rate twice an item's limit: nothing is throttled, and no item is written by more than the bookings
    of one type (the id counter: once per block of 100 per process)."""
    types = []
    for index in range(24):
        if index % 3:
            host = api.host(f"Hot Host {index}")
            types.append(api.event_type(ownerId=host["id"], slug=f"hot-{index}",
                                        bookingLimitsCount={"day": 100, "week": 500})["id"])
        else:
            hosts = [api.host(f"Hot RR {index}-{n}") for n in range(3)]
            types.append(api.event_type(schedulingType="roundRobin", slug=f"hot-rr-{index}",
                                        hosts=[{"userId": h["id"]} for h in hosts])["id"])
    times = starts(working_days(weekday_ahead(70, weekday=0), 1))
    throttle = Throttle(BOOKINGS_PER_SECOND, WRITES_PER_SECOND)
    with watching(throttle) as writes:
        for index in range(240):
            writes.booking = index
            reply = book(api, types[index % len(types)], times[index // len(types)], index)
            assert reply.status == 201, reply.body
    assert not throttle.refused
    hottest = writes.hottest_by_kind(240)
    per_type = 1 / len(types)
    for kind, (share, table) in hottest.items():
        if kind == "COUNTER":  # once per block of 100 ids (a block begun before this test may end within it)
            assert share * 240 <= 240 / 100 + 1, "the id counter is written once per block of ids"
        else:
            assert share <= per_type + 1e-9, f"{kind} in {table} is shared by more than one type's bookings"


def test_one_type_booked_faster_than_an_item_allows_meets_its_own_counters_only(api, limits_on):
    """All bookings on one limited type: its limit counters (one item per period) take a write per booking, so
    that type alone is capped at the per-item rate. Nothing shared with other types is refused."""
    host = api.host("Hot Single")
    event_type = api.event_type(ownerId=host["id"], slug="hot-single", bookingLimitsCount={"year": 100_000})
    first = weekday_ahead(120, weekday=0)
    days = working_days(first, 30)
    assert all(day.year == days[0].year for day in days[:15])
    times = starts(days[:15])
    throttle = Throttle(BOOKINGS_PER_SECOND, WRITES_PER_SECOND)
    refused = 0
    with watching(throttle) as writes:
        for index in range(len(times)):
            writes.booking = index
            reply = book(api, event_type["id"], times[index], 10_000 + index)
            refused += reply.status != 201
    assert refused > 0 and set(throttle.refused) == {"LIMIT"}
    assert {kind_of(key) for (_, key), seen in writes.writes.items() if len(seen) > WRITES_PER_SECOND} == {"LIMIT"}
