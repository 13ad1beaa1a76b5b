"""The one-off data migrations (booking_core/repositories/migrations.py) on data as the older versions wrote it:
configuration under `P#` (before it moved to `HC#`), and bookings and seats without the listing indexes' keys. Each
scenario first shows the old data breaking the current service, then the migration mending it, then a second run
changing nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from tests.integration.test_listing import listed, uids
from tests.support import weekday_ahead

NAMES = itertools.count(1)
DAY = weekday_ahead(150)
INDEX_ATTRIBUTES = ("hostKey", "attendeeKey", "typeKey", "shardKey", "seriesKey", "startKey", "endMin",
                    "eventTypeId", "hostIds", "seated")


@pytest.fixture
def table():
    from booking_core.repositories.tables import Item

    return Item._get_connection().connection.client, Item.Meta.table_name


def partition(table, pk: str, prefix: str = "") -> list[dict[str, Any]]:
    """The items of a partition (those whose sort key starts with `prefix`), raw."""
    client, name = table
    items = client.query(TableName=name, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={
        ":pk": {"S": pk}}, ConsistentRead=True)["Items"]
    return [item for item in items if item["sk"]["S"].startswith(prefix)]


def as_old_configuration(table, user_id: int, keep_profile: bool = False) -> list[dict[str, Any]]:
    """Move a user's configuration back under `P#`, as the version before the HC# layout stored it."""
    client, name = table
    moved = partition(table, f"USER#{user_id}", "HC#")
    for item in moved:
        client.put_item(TableName=name, Item={**item, "sk": {"S": "P#" + item["sk"]["S"].removeprefix("HC#")}})
        if not (keep_profile and item["sk"]["S"] == "HC#PROFILE"):
            client.delete_item(TableName=name, Key={"pk": item["pk"], "sk": item["sk"]})
    return moved


def day_slots(api, type_id: int) -> list[str]:
    end = (DAY + timedelta(days=1)).isoformat()
    reply = api.call("GET", f"/v2/slots?eventTypeId={type_id}&start={DAY.isoformat()}&end={end}&timeZone=UTC")
    if reply.status != 200:
        return []
    return [slot["start"] for slots in reply.data.values() for slot in slots]


def test_configuration_under_p_is_copied_to_hc_then_the_old_items_go(api, table):
    from booking_core.repositories import migrations

    n = next(NAMES)
    host = api.host(f"Migrated Host {n}", time_zone="UTC")
    event_type = api.event_type(slug=f"migrated-{n}", ownerId=host["id"])
    before = day_slots(api, event_type["id"])
    assert before, "the host has working hours that day"
    configuration = as_old_configuration(table, host["id"])
    assert {item["sk"]["S"] for item in configuration} >= {"HC#PROFILE"}
    assert day_slots(api, event_type["id"]) == [], "the current version does not read P#"

    copied = migrations.copy_configuration()
    assert copied.changed >= len(configuration)
    assert partition(table, f"USER#{host['id']}", "HC#") == configuration, "the same items, attributes and all"
    assert day_slots(api, event_type["id"]) == before
    booked = api.book(event_type["id"], before[0], email=f"after.migration{n}@example.org")
    assert booked.status == 201, booked.body

    again = migrations.copy_configuration()
    assert again.changed == 0 and again.skipped >= len(configuration), "a second run copies nothing"

    cleaned = migrations.delete_old_configuration()
    assert cleaned.changed >= len(configuration)
    assert partition(table, f"USER#{host['id']}", "P#") == []
    assert len(partition(table, f"USER#{host['id']}", "HC#")) == len(configuration)
    assert day_slots(api, event_type["id"]) == before[1:]


def test_the_copy_never_overwrites_configuration_the_new_version_wrote(api, table):
    from booking_core.repositories import migrations

    n = next(NAMES)
    host = api.host(f"Renamed Host {n}", time_zone="UTC")
    as_old_configuration(table, host["id"], keep_profile=True)
    renamed = api.call("PATCH", f"/v2/users/{host['id']}", {"name": f"New Name {n}"}, admin=True)
    assert renamed.status == 200, renamed.body

    migrations.copy_configuration()
    profile = api.call("GET", f"/v2/users/{host['id']}", admin=True)
    assert profile.data["name"] == f"New Name {n}"
    cleanup = migrations.delete_old_configuration()
    assert partition(table, f"USER#{host['id']}", "P#") == [] and cleanup.changed >= 1


def test_cleanup_keeps_an_old_item_that_has_no_copy(api, table):
    from booking_core.repositories import migrations

    n = next(NAMES)
    host = api.host(f"Uncopied Host {n}", time_zone="UTC")
    as_old_configuration(table, host["id"])
    cleanup = migrations.delete_old_configuration()
    assert any(f"USER#{host['id']}" in note for note in cleanup.notes)
    assert partition(table, f"USER#{host['id']}", "P#"), "nothing deleted before it was copied"
    migrations.copy_configuration()
    migrations.delete_old_configuration()
    assert partition(table, f"USER#{host['id']}", "P#") == []


def _strip_index_keys(table, uid: str) -> None:
    """The booking's partition as written before the listing indexes: no index keys, no co-host entries."""
    client, name = table
    for item in partition(table, f"BOOKING#{uid}"):
        if item["kind"]["S"] == "cohost":
            client.delete_item(TableName=name, Key={"pk": item["pk"], "sk": item["sk"]})
        elif item["kind"]["S"] in ("booking", "seat"):
            present = [attribute for attribute in INDEX_ATTRIBUTES if attribute in item]
            client.update_item(TableName=name, Key={"pk": item["pk"], "sk": item["sk"]},
                               UpdateExpression="REMOVE " + ", ".join(f"#a{i}" for i in range(len(present))),
                               ExpressionAttributeNames={f"#a{i}": a for i, a in enumerate(present)})


def test_bookings_and_seats_written_before_the_listing_indexes_get_their_keys(api, table):
    from booking_core.repositories import migrations

    n = next(NAMES)
    alice = api.host(f"Backfill Alice {n}", email=f"backfill.alice{n}@hosts.test")
    bob = api.host(f"Backfill Bob {n}", email=f"backfill.bob{n}@hosts.test")
    team = api.event_type(slug=f"backfill-team-{n}", schedulingType="collective",
                          hosts=[{"userId": alice["id"]}, {"userId": bob["id"]}])
    seated = api.event_type(slug=f"backfill-seated-{n}", ownerId=bob["id"], seats={"seatsPerTimeSlot": 3})
    day = DAY + timedelta(weeks=n)
    collective = api.book(team["id"], f"{day.isoformat()}T09:00:00Z", email=f"team.booker{n}@example.org")
    seat = api.book(seated["id"], f"{day.isoformat()}T11:00:00Z", email=f"seat.holder{n}@example.org")
    assert collective.status == 201 and seat.status == 201
    expected = {
        f"userId={bob['id']}": {collective.data["uid"], seat.data["uid"]},
        f"userId={alice['id']}": {collective.data["uid"]},
        f"attendeeEmail=seat.holder{n}@example.org": {seat.data["uid"]},
        f"eventTypeId={team['id']}": {collective.data["uid"]},
    }
    for query, wanted in expected.items():
        assert set(uids(listed(api, query))) == wanted, query
    for uid in (collective.data["uid"], seat.data["uid"]):
        _strip_index_keys(table, uid)
    for query in expected:
        assert uids(listed(api, query)) == [], f"the old items are not listed: {query}"

    report = migrations.backfill_listing()
    assert report.changed >= 3  # two bookings and a seat
    for query, wanted in expected.items():
        assert set(uids(listed(api, query))) == wanted, query

    assert migrations.backfill_listing().changed == 0, "a second run changes nothing"


def test_a_booking_the_service_wrote_meanwhile_is_left_alone(api, table):
    from booking_core.repositories import migrations

    n = next(NAMES)
    host = api.host(f"Raced Host {n}", email=f"raced{n}@hosts.test")
    event_type = api.event_type(slug=f"raced-{n}", ownerId=host["id"])
    booked = api.book(event_type["id"], f"{(DAY + timedelta(weeks=40 + n)).isoformat()}T10:00:00Z",
                      email=f"raced{n}@example.org")
    uid = booked.data["uid"]
    _strip_index_keys(table, uid)
    stale = partition(table, f"BOOKING#{uid}", "BOOKING")[0]  # what the migration's Scan read
    cancelled = api.call("POST", f"/v2/bookings/{uid}/cancel", {"cancellationReason": "changed plans"}, admin=True)
    assert cancelled.status == 200, cancelled.body

    client, _ = table
    assert migrations._backfill_booking(client, stale) is False
    stored = partition(table, f"BOOKING#{uid}", "BOOKING")[0]
    assert stored["status"]["S"] == "cancelled", "the migration did not put the stale booking back"
    assert uids(listed(api, f"userId={host['id']}&status=cancelled")) == [uid]


def test_make_migrate_runs_a_step_against_the_named_table(api, table):
    """The operator's command (README, "Upgrading a deployed table"), run as a separate process with only the table's
    name (the endpoint and credentials come from the environment, here the emulator's)."""
    import json
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]

    n = next(NAMES)
    host = api.host(f"Make Host {n}", time_zone="UTC")
    as_old_configuration(table, host["id"])
    env = {key: value for key, value in os.environ.items()
           if key not in ("TABLE_NAME", "OUTBOX_TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "EVENT_BUS_NAME")}
    done = subprocess.run(["make", "--no-print-directory", "migrate", "STEP=configuration", f"TABLE={table[1]}"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["step"] == "configuration" and report["changed"] >= 2 and report["resumeFrom"] is None
    assert {item["sk"]["S"] for item in partition(table, f"USER#{host['id']}", "HC#")} >= {"HC#PROFILE"}


def test_an_unreadable_booking_is_reported_and_the_run_goes_on(api, table):
    from booking_core.repositories import migrations

    client, name = table
    n = next(NAMES)
    broken = {"pk": {"S": f"BOOKING#broken{n}"}, "sk": {"S": "BOOKING"}, "kind": {"S": "booking"},
              "doc": {"S": '{"uid": "broken"}'}, "status": {"S": "accepted"}, "version": {"N": "1"}}
    client.put_item(TableName=name, Item=broken)
    try:
        report = migrations.backfill_listing()
        assert any(f"BOOKING#broken{n}" in note for note in report.notes)
    finally:
        client.delete_item(TableName=name, Key={"pk": broken["pk"], "sk": broken["sk"]})
