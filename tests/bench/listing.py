"""Listing bookings over 10,000 of them: what one page costs in AWS calls and sequential round trips.

The bookings are written straight to the table (BatchWriteItem, 25 items a call) with the store's own item builder,
so they carry exactly the index keys the booking path writes, in seconds instead of 10,000 API calls. One host holds
them all (a tenth cancelled, a tenth pending), half of them before 'now', so a filtered page has to skip what the key
range and the index filter leave out.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.bench.stack import Invocation

BOOKINGS = 10_000
TAKE = 100


def _records(host: dict, event_type_id: int, count: int) -> list:
    from booking_core.domain.bookings import BookingRecord
    from booking_core.pipeline.creation import new_uid
    from booking_core.timeutil import to_minutes

    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    first = now - timedelta(hours=count // 2)
    out = []
    for index in range(count):
        start = first + timedelta(hours=index)
        status = "cancelled" if index % 10 == 3 else "pending" if index % 10 == 7 else "accepted"
        uid = new_uid()
        out.append(BookingRecord.model_validate({
            "id": 1_000_000 + index, "uid": uid, "iCalUID": f"{uid}@booking-service", "title": "Bench listing",
            "status": status, "start": start, "end": start + timedelta(minutes=30), "duration": 30,
            "eventTypeId": event_type_id, "eventType": {"id": event_type_id, "slug": "bench-listing"},
            "hosts": [{"id": host["id"], "name": host["name"], "email": host["email"], "timeZone": "Europe/London"}],
            "attendees": [{"name": "Booker", "email": f"lister{index % 500}@example.org", "timeZone": "UTC"}],
            "createdAt": now, "updatedAt": now, "busyStartMin": to_minutes(start),
            "busyEndMin": to_minutes(start) + 30}))
    return out


def populate(host: dict, event_type_id: int, count: int = BOOKINGS) -> None:
    from booking_core.repositories.bookings import booking_item
    from booking_core.repositories.tables import Item

    with Item.batch_write() as batch:
        for record in _records(host, event_type_id, count):
            batch.save(booking_item(record))


def _page(flows, path: str, latency: float) -> tuple[Invocation, int]:
    """One listing request with `latency` injected per AWS call: the handler call and how many bookings it held."""
    flows.recorder.latency = latency
    try:
        reply = flows.api.call("GET", path, admin=True)
    finally:
        flows.recorder.latency = 0.0
    if reply.status != 200:
        raise RuntimeError(f"listing failed: {reply.status} {reply.body}")
    assert flows.handler.last is not None
    return flows.handler.last, int(reply.body["pagination"]["returnedItems"])


def measure(flows, latency: float) -> dict[str, tuple[Invocation, int]]:
    """A filtered first page, the page after it, an attendee's page and an unfiltered page (4 shards merged)."""
    host = flows.api.host("Bench Lister")
    event_type_id = int(flows.api.event_type(slug="bench-listing", ownerId=host["id"])["id"])
    populate(host, event_type_id)
    query = f"/v2/bookings?userId={host['id']}&eventTypeId={event_type_id}&status=upcoming&take={TAKE}"
    first = flows.api.call("GET", query, admin=True)  # warm-up, and the cursor of page 2
    return {
        "host + type + upcoming, page 1": _page(flows, query, latency),
        "host + type + upcoming, page 2": _page(flows, f"{query}&cursor={first.body['pagination']['nextCursor']}",
                                                latency),
        "attendee + cancelled,past": _page(
            flows, f"/v2/bookings?attendeeEmail=lister3@example.org&status=cancelled,past&take={TAKE}", latency),
        "every booking, desc (4 shards)": _page(flows, f"/v2/bookings?take={TAKE}&sortStart=desc", latency),
    }
