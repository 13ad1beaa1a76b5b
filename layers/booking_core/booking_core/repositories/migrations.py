"""One-off data migrations of the main table, for tables an older version of this service wrote.

Operators run them from a checkout with credentials for the account (`make migrate`, see README "Operations"); no
function imports this module, and no function's role may Scan the table. Each step is idempotent: it reads the
whole table with a paginated Scan (filtered to the items it changes), writes each change conditionally, and can be
run again, or resumed from the key it printed, at any time.

- `configuration`: copies each user's configuration items from the old `P#...` sort keys to `HC#...` (same
  attributes), never overwriting an `HC#` item that exists already. Run it right before deploying the version that
  reads `HC#` (so the configuration is there when that version starts), and once more right after (it copies what
  the old version created in between). An edit the old version made in between to configuration that was already
  copied is not carried over: the first run's copy stays.
- `configuration-cleanup`: deletes the `P#` items whose `HC#` copy exists. Run it after the deploy has settled.
- `listing`: gives bookings and seats written before the listing indexes existed their index keys (and multi-host
  bookings their co-host entries), computed exactly as a booking write computes them, so `GET /v2/bookings` lists
  them. A booking changed meanwhile by the service is left alone (its write gave it the keys).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from booking_core.domain.bookings import BookingRecord
from booking_core.repositories.bookings import booking_item, co_host_item, booking_key
from booking_core.repositories.tables import CONFIG_PREFIX, Item, attendee_key, start_key
from booking_core.timeutil import to_minutes

OLD_CONFIG_PREFIX = "P#"
SCAN_PAGE_ITEMS = 500  # items DynamoDB evaluates per Scan page: small pages keep a resumed run's repeat short


@dataclass
class Report:
    """What one step did. `resume_from` is the Scan position to pass back (`--start`) when a run was stopped."""

    step: str
    scanned: int = 0
    changed: int = 0
    skipped: int = 0
    resume_from: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "scanned": self.scanned, "changed": self.changed, "skipped": self.skipped,
                "resumeFrom": self.resume_from, "notes": self.notes}


def _client() -> Any:
    return Item._get_connection().connection.client


def _table() -> str:
    return Item.Meta.table_name


def _conditional(call: Callable[[], Any]) -> bool:
    """Run a conditional write: True when it was applied, False when its condition refused it."""
    client = _client()
    try:
        call()
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def _scan(report: Report, filter_expression: str, names: dict[str, str], values: dict[str, Any],
          start: dict[str, Any] | None, max_pages: int | None) -> Iterator[dict[str, Any]]:
    """The raw items the filter keeps, page after page; `report.resume_from` follows the position read so far."""
    pages = 0
    while True:
        params: dict[str, Any] = {"TableName": _table(), "FilterExpression": filter_expression,
                                  "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
                                  "Limit": SCAN_PAGE_ITEMS, "ConsistentRead": True}
        if start:
            params["ExclusiveStartKey"] = start
        page = _client().scan(**params)
        report.scanned += page.get("ScannedCount", 0)
        yield from page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        report.resume_from = start
        pages += 1
        if not start or (max_pages is not None and pages >= max_pages):
            return


# -- P# -> HC# ----------------------------------------------------------------------------------------------------
def _old_configuration(report: Report, start: dict[str, Any] | None,
                       max_pages: int | None) -> Iterator[dict[str, Any]]:
    return _scan(report, "begins_with(#sk, :old) AND begins_with(#pk, :user)", {"#sk": "sk", "#pk": "pk"},
                 {":old": {"S": OLD_CONFIG_PREFIX}, ":user": {"S": "USER#"}}, start, max_pages)


def new_sort_key(old: str) -> str:
    return CONFIG_PREFIX + old.removeprefix(OLD_CONFIG_PREFIX)


def copy_configuration(start: dict[str, Any] | None = None, max_pages: int | None = None) -> Report:
    """Copy every `USER#<id>` / `P#...` item to `HC#...`, unless that item exists already."""
    report = Report("configuration")
    client = _client()
    for raw in _old_configuration(report, start, max_pages):
        copy = {**raw, "sk": {"S": new_sort_key(raw["sk"]["S"])}}
        if _conditional(lambda: client.put_item(TableName=_table(), Item=copy,
                                                ConditionExpression="attribute_not_exists(pk)")):
            report.changed += 1
        else:
            report.skipped += 1
    return report


def delete_old_configuration(start: dict[str, Any] | None = None, max_pages: int | None = None) -> Report:
    """Delete every `P#...` item whose `HC#...` copy exists (one without a copy stays, and is reported)."""
    report = Report("configuration-cleanup")
    client = _client()
    for raw in _old_configuration(report, start, max_pages):
        key = {"pk": raw["pk"], "sk": {"S": new_sort_key(raw["sk"]["S"])}}
        if "Item" not in client.get_item(TableName=_table(), Key=key, ConsistentRead=True,
                                         ProjectionExpression="pk"):
            report.skipped += 1
            report.notes.append(f"no copy yet, kept: {raw['pk']['S']} {raw['sk']['S']}")
            continue
        client.delete_item(TableName=_table(), Key={"pk": raw["pk"], "sk": raw["sk"]})
        report.changed += 1
    return report


# -- listing keys ---------------------------------------------------------------------------------------------------
def backfill_listing(start: dict[str, Any] | None = None, max_pages: int | None = None) -> Report:
    """Bookings and seats without `startKey` get the listing indexes' keys a booking write gives them now."""
    report = Report("listing")
    client = _client()
    bookings: dict[str, tuple[int, int] | None] = {}  # a seat's booking: (start minute, event type id)
    for raw in _scan(report, "#kind IN (:booking, :seat) AND attribute_not_exists(#start)",
                     {"#kind": "kind", "#start": "startKey"},
                     {":booking": {"S": "booking"}, ":seat": {"S": "seat"}}, start, max_pages):
        try:
            if raw["kind"]["S"] == "booking":
                changed = _backfill_booking(client, raw)
            else:
                changed = _backfill_seat(client, raw, bookings)
        except (ValidationError, KeyError) as exc:  # a document no version of the service could read: report it
            report.notes.append(f"unreadable, left as it is: {raw['pk']['S']} {raw['sk']['S']} ({type(exc).__name__})")
            changed = False
        if changed:
            report.changed += 1
        else:
            report.skipped += 1
    return report


def _backfill_booking(client: Any, raw: dict[str, Any]) -> bool:
    stored = Item.from_raw_data(raw)
    record = BookingRecord.model_validate(stored.doc)
    record.version = int(stored.version)
    item = booking_item(record).serialize()
    applied = _conditional(lambda: client.put_item(
        TableName=_table(), Item=item, ConditionExpression="#v = :v AND attribute_not_exists(#start)",
        ExpressionAttributeNames={"#v": "version", "#start": "startKey"},
        ExpressionAttributeValues={":v": {"N": str(record.version)}}))
    if applied:
        for host in record.hosts[1:]:
            entry = co_host_item(record, host.id).serialize()
            _conditional(lambda: client.put_item(TableName=_table(), Item=entry,
                                                 ConditionExpression="attribute_not_exists(pk)"))
    return applied


def _backfill_seat(client: Any, raw: dict[str, Any], bookings: dict[str, tuple[int, int] | None]) -> bool:
    """The seat's attendee and its booking's start and type: a seat lists like a booking for its holder."""
    seat = Item.from_raw_data(raw)
    booking_uid = str(seat.doc["bookingUid"])
    if booking_uid not in bookings:
        pk, sk = booking_key(booking_uid)
        found = client.get_item(TableName=_table(), Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True)
        record = BookingRecord.model_validate(Item.from_raw_data(found["Item"]).doc) if "Item" in found else None
        bookings[booking_uid] = (to_minutes(record.start), record.event_type_id) if record else None
    booking = bookings[booking_uid]
    if booking is None:
        return False
    start_min, event_type_id = booking
    return _conditional(lambda: client.update_item(
        TableName=_table(), Key={"pk": raw["pk"], "sk": raw["sk"]},
        UpdateExpression="SET #attendee = :attendee, #start = :start, #type = :type, #seated = :seated",
        ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#start)",
        ExpressionAttributeNames={"#attendee": "attendeeKey", "#start": "startKey", "#type": "eventTypeId",
                                  "#seated": "seated"},
        ExpressionAttributeValues={
            ":attendee": {"S": attendee_key(str(seat.doc["attendee"]["email"]))},
            ":start": {"S": start_key(start_min, booking_uid)},
            ":type": {"N": str(event_type_id)},
            ":seated": {"BOOL": True}}))


STEPS: dict[str, Callable[..., Report]] = {
    "configuration": copy_configuration,
    "configuration-cleanup": delete_old_configuration,
    "listing": backfill_listing,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m booking_core.repositories.migrations",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--start", type=json.loads, default=None,
                        help="resume from this Scan position (the resumeFrom a stopped run printed), as JSON")
    parser.add_argument("--max-pages", type=int, default=None, help="stop after this many Scan pages")
    args = parser.parse_args(argv)
    report = STEPS[args.step](start=args.start, max_pages=args.max_pages)
    print(json.dumps(report.as_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
