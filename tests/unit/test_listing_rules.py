"""The listing's rules without AWS: status categories, the final check of every row, sealed cursors bound to their
query, the index key range, and the merge of several index partitions into one ordered page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from booking_core.domain.bookings import BookingRecord
from booking_core.errors import DomainError
from booking_core.ports import ListCriteria, ListedRow
from booking_core.repositories.listing import DynamoBookingListing, _key_range, position_of
from booking_core.repositories.tables import start_key
from booking_core.services.listing import Filters, matches, open_cursor, parse_statuses, seal_cursor
from booking_core.timeutil import to_minutes

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
SECRET = "admin-key-of-this-deployment"


def record(status: str = "accepted", start: datetime = NOW + timedelta(hours=1), minutes: int = 30,
           series: str | None = None, hosts: tuple[int, ...] = (1,)) -> BookingRecord:
    return BookingRecord.model_validate({
        "id": 1, "uid": "u" * 22, "title": "T", "status": status, "start": start,
        "end": start + timedelta(minutes=minutes), "duration": minutes, "eventTypeId": 7,
        "eventType": {"id": 7, "slug": "t"},
        "hosts": [{"id": h, "name": "H", "email": f"h{h}@x.org", "timeZone": "UTC"} for h in hosts],
        "attendees": [{"name": "Jane", "email": "Jane@x.org", "timeZone": "UTC"}], "createdAt": NOW,
        "updatedAt": NOW, "recurringBookingUid": series, "busyStartMin": 0, "busyEndMin": 0})


def passes(rec: BookingRecord, **filters) -> bool:
    return matches(ListedRow(record=rec, position=(to_minutes(rec.start), rec.uid)), Filters(**filters), NOW)


@pytest.mark.parametrize(("rec", "categories"), [
    (record(), {"upcoming"}),
    (record("pending"), {"upcoming", "unconfirmed"}),
    (record(series="s-1"), {"upcoming", "recurring"}),
    (record(start=NOW - timedelta(minutes=10)), {"upcoming"}),  # still running: its end is ahead
    (record(start=NOW - timedelta(hours=2)), {"past"}),
    (record("pending", start=NOW - timedelta(hours=2)), {"past"}),
    (record("cancelled"), {"cancelled"}),
    (record("rejected", start=NOW - timedelta(hours=2)), {"cancelled"}),
])
def test_each_booking_is_in_the_categories_the_contract_names(rec, categories):
    assert {name for name in ("upcoming", "unconfirmed", "past", "cancelled", "recurring")
            if passes(rec, statuses=frozenset({name}))} == categories


def test_categories_are_ored_and_filters_anded():
    rec = record("pending")
    assert passes(rec, statuses=frozenset({"cancelled", "unconfirmed"}))
    assert not passes(rec, statuses=frozenset({"unconfirmed"}), host_id=2)
    assert passes(record(hosts=(1, 2)), host_id=2, event_type_id=7, attendee_email="JANE@x.org")
    assert not passes(rec, event_type_id=8)
    assert not passes(rec, after_start=rec.start + timedelta(seconds=1))
    assert passes(rec, before_end=rec.end) and not passes(rec, before_end=rec.end - timedelta(seconds=1))


def test_status_lists_are_parsed_strictly():
    assert parse_statuses("upcoming, past") == frozenset({"upcoming", "past"})
    assert parse_statuses(None) == frozenset()
    with pytest.raises(DomainError) as caught:
        parse_statuses("upcoming,later")
    assert caught.value.details["errors"][0]["field"] == "status"


def test_cursors_are_sealed_and_bound_to_their_query():
    filters = Filters(host_id=3)
    cursor = seal_cursor((29_000_000, "abc"), filters.fingerprint("admin"), SECRET)
    assert "abc" not in cursor
    assert open_cursor(cursor, filters.fingerprint("admin"), SECRET) == (29_000_000, "abc")
    for fingerprint, secret in ((Filters(host_id=4).fingerprint("admin"), SECRET),
                                (filters.fingerprint("me:jane@x.org"), SECRET),
                                (filters.fingerprint("admin"), "a rotated admin key")):
        with pytest.raises(DomainError):
            open_cursor(cursor, fingerprint, secret)
    flipped = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
    with pytest.raises(DomainError):
        open_cursor(flipped, filters.fingerprint("admin"), SECRET)


def test_the_key_range_follows_times_statuses_and_the_cursor():
    now_min = to_minutes(NOW)
    low, high = _key_range(ListCriteria(now_min=now_min, statuses=frozenset({"upcoming"})), None)
    assert low == f"{now_min - 1440:010d}" and high is None  # anything still running may have started a day ago
    low, high = _key_range(ListCriteria(now_min=now_min, statuses=frozenset({"past"})), None)
    assert low is None and high == f"{now_min:010d}~"
    assert _key_range(ListCriteria(now_min=now_min, statuses=frozenset({"past", "upcoming"})), None) == (None, None)
    key = start_key(now_min, "Abc")
    low, _ = _key_range(ListCriteria(now_min=now_min), (now_min, "Abc"))
    assert key < low < start_key(now_min, "Abd")  # strictly after the cursor, before the next possible key
    _, high = _key_range(ListCriteria(now_min=now_min, descending=True), (now_min, "Abc"))
    assert start_key(now_min, "Abb") < high < key


def entry(minute: int, uid: str) -> dict:
    return {"pk": {"S": f"BOOKING#{uid}"}, "sk": {"S": "BOOKING"}, "startKey": {"S": start_key(minute, uid)}}


def test_partitions_merge_up_to_where_the_first_one_stopped():
    full = {"Items": [entry(10, "a"), entry(30, "c")], "LastEvaluatedKey": {"startKey": {"S": start_key(30, "c")}}}
    done = {"Items": [entry(20, "b"), entry(40, "d")]}
    entries, end = DynamoBookingListing._merge([full, done], descending=False, take=10)
    assert [position_of(e["startKey"]["S"]) for e in entries] == [(10, "a"), (20, "b"), (30, "c")]
    assert end == (30, "c")  # (40, d) is read again from there: the first partition may hold more before it
    entries, end = DynamoBookingListing._merge([full, done], descending=False, take=2)
    assert len(entries) == 2 and end == (20, "b")
    entries, end = DynamoBookingListing._merge([done], descending=False, take=10)
    assert len(entries) == 2 and end is None
