"""One read per host: `DynamoBookingStore.host_window` returns a host's configuration and their busy time over a
window in ONE strongly consistent Query (repositories/tables.py: the HC# configuration sorts right after the HB# host
bookings and before the LOCK# slot locks). It answers what the configuration Query and the busy-range Query it
replaced answer, and neither the host's bookings after the window nor their slot locks come back over the wire."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.support import weekday_ahead

DAY = weekday_ahead(70)  # a Wednesday


def at(days: int, hour: int) -> str:
    return f"{(DAY + timedelta(days=days)).isoformat()}T{hour:02d}:00:00Z"


def minute(days: int) -> int:
    from booking_core.timeutil import to_minutes

    return to_minutes(datetime(DAY.year, DAY.month, DAY.day, tzinfo=timezone.utc) + timedelta(days=days))


@contextmanager
def dynamodb_calls() -> Iterator[list[tuple[str, dict[str, Any], dict[str, Any]]]]:
    """Every AWS call made meanwhile: (operation, parameters, response)."""
    import botocore.client

    seen: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(client, operation, params):
        response = original(client, operation, params)
        seen.append((operation, params, response))
        return response

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
        yield seen


@pytest.fixture(scope="module")
def host(api) -> dict[str, Any]:
    """A host with a schedule, an out-of-office entry, bookings a week before, inside and a week after the window
    (each with its slot locks) and a live slot reservation inside it."""
    host = api.host("Window Host", time_zone="UTC")
    event_type = api.event_type(ownerId=host["id"], slug="host-window")
    uids = {}
    for name, start in (("before", at(-7, 10)), ("inside", at(0, 10)), ("after", at(7, 10))):
        reply = api.book(event_type["id"], start, email=f"{name}@example.org")
        assert reply.status == 201, reply.body
        uids[name] = reply.data["uid"]
    held = api.call("POST", "/v2/slots/reservations", {"eventTypeId": event_type["id"], "slotStart": at(0, 12)})
    assert held.status == 201, held.body
    uids["reservation"] = held.data["reservationUid"]
    away = api.call("POST", f"/v2/users/{host['id']}/ooo", {"start": at(14, 0), "end": at(15, 0)}, admin=True)
    assert away.status == 201, away.body
    return {"id": host["id"], "uids": uids}


def test_one_query_answers_what_the_configuration_and_busy_range_queries_answer(host):
    from booking_core.repositories.bookings import DynamoBookingStore
    from booking_core.repositories.entities import UserRepository

    store = DynamoBookingStore()
    with dynamodb_calls() as calls:
        window = store.host_window(host["id"], minute(0), minute(1))
    assert [operation for operation, _, _ in calls] == ["Query"]
    assert calls[0][1]["ConsistentRead"] is True

    assert window.config == UserRepository().load_config(host["id"])
    assert window.config is not None and len(window.config.schedules) == 1 and len(window.config.out_of_office) == 1
    by_uid = lambda bookings: sorted(bookings, key=lambda booking: booking.uid)  # noqa: E731
    assert by_uid(window.bookings) == by_uid(store.host_bookings(host["id"], minute(0), minute(1)))
    assert {booking.uid for booking in window.bookings} == {host["uids"]["inside"], host["uids"]["reservation"]}


def test_bookings_after_the_window_are_filtered_out_and_locks_are_never_read(host):
    from booking_core.repositories.bookings import DynamoBookingStore

    with dynamodb_calls() as calls:
        DynamoBookingStore().host_window(host["id"], minute(0), minute(1))
    (_, _, response), = calls
    # read: the booking and the hold inside the window, the booking a week after it, profile, schedule, out of
    # office; returned: all but the booking after the window. The booking a week before lies below the range, and
    # the locks of all three bookings and of the reservation (dozens of items) above it.
    assert (response["ScannedCount"], response["Count"]) == (6, 5)


def test_an_unknown_host_has_no_configuration_and_no_bookings():
    from booking_core.repositories.bookings import DynamoBookingStore

    window = DynamoBookingStore().host_window(987_654_321, minute(0), minute(1))
    assert window.config is None and window.bookings == []


@contextmanager
def query_pages(limit: int) -> Iterator[list[int]]:
    """Every DynamoDB Query meanwhile gets pages of `limit` items evaluated (standing in for DynamoDB's 1 MB), through
    botocore's own hooks on the availability reads' client; yields the ScannedCount of each page, in order."""
    from booking_core.repositories.tables import availability_client

    events = availability_client().meta.events
    scanned: list[int] = []

    def small(params, **_):
        return {**params, "Limit": limit}

    def count(parsed, **_):
        scanned.append(parsed["ScannedCount"])

    events.register("provide-client-params.dynamodb.Query", small, unique_id="test-small-pages")
    events.register("after-call.dynamodb.Query", count, unique_id="test-count-pages")
    try:
        yield scanned
    finally:
        events.unregister("provide-client-params.dynamodb.Query", unique_id="test-small-pages")
        events.unregister("after-call.dynamodb.Query", unique_id="test-count-pages")


def test_a_window_over_several_pages_is_read_to_the_end(host):
    """DynamoDB ends a Query page at 1 MB (a host with thousands of future bookings): every page is read. Pages of
    two items stand in for it here."""
    from booking_core.repositories.bookings import DynamoBookingStore

    store = DynamoBookingStore()
    whole = store.host_window(host["id"], minute(0), minute(1))
    with query_pages(2) as pages:
        assert store.host_window(host["id"], minute(0), minute(1)) == whole
    assert len(pages) >= 3  # six items read, two per page


def test_a_host_with_a_long_future_is_not_paged_through(host):
    """When the one Query needs a second page, the rest comes from the window's own range and the configuration's,
    never by paging through the host's bookings after the window (thousands of them cost a page per 1 MB). Pages of
    two items stand in for 1 MB: over a window a day before the bookings, the first page holds the booking and the
    hold of day 0 (both after the window), the next would hold the booking of day 7, which is never read."""
    from booking_core.repositories.bookings import DynamoBookingStore

    store = DynamoBookingStore()
    whole = store.host_window(host["id"], minute(-1), minute(0))
    with query_pages(2) as scanned:
        paged = store.host_window(host["id"], minute(-1), minute(0))
    assert paged == whole and paged.config is not None and paged.bookings == []
    # the first page (the booking and hold of day 0); the rest of the window's range, up to a maximum buffer after
    # it, which holds only the hold the first page ended on; then the configuration's 3 items (profile, schedule,
    # out of office) in pages of 2. Paging on from the first page would have read [2, 2, 2]: the booking of day 7
    # with the configuration.
    assert scanned == [2, 1, 2, 1]


def test_a_second_page_inside_the_window_reads_the_rest_of_it(host):
    from booking_core.repositories.bookings import DynamoBookingStore

    store = DynamoBookingStore()
    whole = store.host_window(host["id"], minute(0), minute(1))
    with query_pages(1):
        paged = store.host_window(host["id"], minute(0), minute(1))
    assert paged == whole and {b.uid for b in paged.bookings} == {host["uids"]["inside"], host["uids"]["reservation"]}



def test_the_availability_client_answers_a_query_as_botocore_parses_it():
    """The availability reads' client hands a Query's items back as DynamoDB sent them (tables.py `_as_sent`), which
    is botocore's own result for every attribute type but binary; a response holding a binary attribute is parsed by
    botocore (bytes), and so is an error."""
    import boto3
    import botocore.exceptions

    from booking_core.repositories.tables import Item, availability_client

    table, plain = Item.Meta.table_name, boto3.client("dynamodb")
    every_type = {"pk": {"S": "ASSENT#1"}, "sk": {"S": "A"}, "text": {"S": 'quoted "B": inside'},
                  "number": {"N": "12.50"}, "flag": {"BOOL": True}, "nothing": {"NULL": True},
                  "map": {"M": {"nested": {"L": [{"S": "x"}, {"N": "1"}, {"M": {}}]}}},
                  "strings": {"SS": ["a", "b"]}, "numbers": {"NS": ["1", "2"]}}
    binary = {"pk": {"S": "ASSENT#2"}, "sk": {"S": "A"}, "blob": {"B": b"\x00\xff"}, "blobs": {"BS": [b"\x01"]}}
    for item in (every_type, binary):
        plain.put_item(TableName=table, Item=item)

    def query(client, pk):
        return client.query(TableName=table, KeyConditionExpression="pk = :pk", ConsistentRead=True,
                            ExpressionAttributeValues={":pk": {"S": pk}})

    bodies: list[bytes] = []  # what botocore's parser got, seen by a hook registered after the client's own
    events = availability_client().meta.events
    events.register("before-parse.dynamodb.Query", lambda response_dict, **_: bodies.append(response_dict["body"]),
                    unique_id="test-bodies")
    try:
        for pk in ("ASSENT#1", "ASSENT#2"):
            ours, theirs = query(availability_client(), pk), query(plain, pk)
            assert ours["Items"] == theirs["Items"] and ours["Count"] == theirs["Count"] == 1
    finally:
        events.unregister("before-parse.dynamodb.Query", unique_id="test-bodies")
    assert bodies[0] == b"{}", "botocore parsed nothing: the items came as sent"
    assert b"ASSENT#2" in bodies[1], "the binary item went through botocore's parser"
    assert query(availability_client(), "ASSENT#2")["Items"][0]["blob"] == {"B": b"\x00\xff"}
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        availability_client().query(TableName=table, KeyConditionExpression="nope = :pk",
                                    ExpressionAttributeValues={":pk": {"S": "x"}})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    for item in (every_type, binary):
        plain.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


def test_a_configuration_is_built_once_per_content_and_every_edit_is_read_at_once(api):
    """A hundred-host request rebuilds a hundred configurations: they are remembered by content, so an unchanged
    host costs no validation, and anything that changes an item's content (a schedule, the profile, lastActiveAt)
    is a different key, read at once."""
    from booking_core.repositories.bookings import DynamoBookingStore
    from booking_core.repositories.entities import UserRepository

    store = DynamoBookingStore()
    host = api.host("Remembered Host", time_zone="UTC")
    first = store.host_window(host["id"], minute(0), minute(1)).config
    again = store.host_window(host["id"], minute(0), minute(1)).config
    assert first is not None and again is first  # the same content: nothing was validated again

    schedule = first.schedules[0]
    edited = api.call("PATCH", f"/v2/schedules/{schedule.id}", {"availability": [
        {"days": ["Monday"], "startTime": "07:00", "endTime": "08:00"}]}, admin=True)
    assert edited.status == 200, edited.body
    after_schedule = store.host_window(host["id"], minute(0), minute(1)).config
    assert after_schedule is not None and after_schedule is not first
    assert [(rule.start_time, rule.end_time) for rule in after_schedule.schedules[0].availability] == [
        ("07:00", "08:00")]

    renamed = api.call("PATCH", f"/v2/users/{host['id']}", {"name": "Renamed Host"}, admin=True)
    assert renamed.status == 200, renamed.body
    after_profile = store.host_window(host["id"], minute(0), minute(1)).config
    assert after_profile is not None and after_profile.user.name == "Renamed Host"

    active = datetime(2030, 1, 2, 3, 4, tzinfo=timezone.utc)
    assert UserRepository().touch_last_active(host["id"], active)
    after_active = store.host_window(host["id"], minute(0), minute(1)).config
    assert after_active is not None and after_active.user.last_active_at == active
    assert after_active.schedules[0].availability == after_schedule.schedules[0].availability


def test_a_large_configuration_is_built_each_time_so_the_cache_stays_bounded(api, monkeypatch):
    from booking_core.repositories import entities
    from booking_core.repositories.bookings import DynamoBookingStore

    store = DynamoBookingStore()
    host = api.host("Large Host", time_zone="UTC")
    first = store.host_window(host["id"], minute(0), minute(1)).config
    assert store.host_window(host["id"], minute(0), minute(1)).config is first
    monkeypatch.setattr(entities, "REMEMBERED_CHARS", 100)  # this host's profile and schedule are longer
    again = store.host_window(host["id"], minute(0), minute(1)).config
    assert again is not first and again == first
