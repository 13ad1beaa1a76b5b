"""Listing bookings through the secondary indexes (their layout is in repositories/tables.py).

A page is two sequential rounds: the index Query (one per ByStart shard on the unfiltered path, all at once), then
one round of BatchGetItem for the documents of the entries it kept. DynamoDB applies `Limit` before the filter, so a
page evaluates at most `take` entries per partition and may keep fewer; it never queries again to fill itself.

Which index: the attendee's email, else the host, else the event type, else every booking by start (4 shards merged).
The other filters narrow within that key range: the time filters and the status categories' time bounds move the
range's ends, and a filter expression on the projected attributes drops what cannot match. An entry without an
attribute (a co-host entry has no `status`, a seat no `hostIds`) is kept: the booking document decides (the caller
checks every row again).
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, NumberSetAttribute, UnicodeAttribute
from pynamodb.expressions.condition import Condition

from booking_core.concurrency import gather
from booking_core.config import MAX_BOOKING_MINUTES
from booking_core.domain.bookings import BookingRecord
from booking_core.ports import ListCriteria, ListedPage, ListedRow, Position
from booking_core.repositories.bookings import _seat_from, batch_get, booking_key, seat_slot_key
from booking_core.repositories.tables import (
    BookingItem,
    Item,
    SeatItem,
    SeatSlotItem,
    attendee_key,
    host_key,
    minute_key,
    shard_keys,
    start_key,
    type_key,
)

SERIES_LIMIT = 100  # a series lists at most this many bookings (occurrences and the ones rescheduled away)
# Sort keys are "<minute:010>#<uid>" with uids of one length over [A-Za-z0-9_-], so no key is a prefix of another:
# key + " " is the first string after key that any other key can be, and "~" sorts after every uid character.
_ABOVE_ANY_UID = "~"
_BELOW_ANY_UID = " "

# The projected attributes a filter reads (standalone, so they serialise with their types).
_STATUS = UnicodeAttribute(attr_name="status")
_END = NumberAttribute(attr_name="endMin")
_TYPE = NumberAttribute(attr_name="eventTypeId")
_HOSTS = NumberSetAttribute(attr_name="hostIds")
_SERIES = UnicodeAttribute(attr_name="seriesKey")
_SEATED = BooleanAttribute(attr_name="seated")
_ACTIVE = ("accepted", "pending")
_ENDED_OR_GONE = ("cancelled", "rejected")


def position_of(key: str) -> Position:
    minute, _, uid = key.partition("#")
    return int(minute), uid


def _unknown_or(attribute: Any, condition: Condition) -> Condition:
    return attribute.does_not_exist() | condition


def _category(name: str, now_min: int) -> Condition:
    """One status category, on what the index projects (an entry without the attribute passes that part)."""
    if name == "cancelled":
        return _unknown_or(_STATUS, _STATUS.is_in(*_ENDED_OR_GONE))
    if name == "past":
        return _unknown_or(_STATUS, _STATUS.is_in(*_ACTIVE)) & _unknown_or(_END, _END < now_min + 1)
    upcoming = _unknown_or(_STATUS, _STATUS.is_in(*_ACTIVE)) & _unknown_or(_END, _END >= now_min)
    if name == "unconfirmed":
        return _unknown_or(_STATUS, _STATUS == "pending") & _unknown_or(_END, _END >= now_min)
    if name == "recurring":
        return upcoming & (_STATUS.does_not_exist() | _SERIES.exists())
    return upcoming


def _filter(criteria: ListCriteria, path: str) -> Condition | None:
    parts: list[Condition] = []
    if criteria.statuses:
        categories = [_category(name, criteria.now_min) for name in sorted(criteria.statuses)]
        union = categories[0]
        for condition in categories[1:]:
            union = union | condition
        parts.append(union)
    if criteria.event_type_id is not None and path != "type":
        parts.append(_unknown_or(_TYPE, _TYPE == criteria.event_type_id))
    if criteria.host_id is not None and path != "host":
        parts.append(_unknown_or(_HOSTS, _HOSTS.contains(criteria.host_id)))
    if criteria.before_end_min is not None:
        parts.append(_unknown_or(_END, _END <= criteria.before_end_min))
    if not parts:
        return None
    combined = parts[0]
    for condition in parts[1:]:
        combined = combined & condition
    return combined


def _key_range(criteria: ListCriteria, after: Position | None) -> tuple[str | None, str | None]:
    """Inclusive bounds on startKey (None: open). Statuses move the bounds only when every chosen category does:
    upcoming-like ones end after now (so start after now minus the longest booking), past ones start before now."""
    lows: list[str] = []
    highs: list[str] = []
    if criteria.after_start_min is not None:
        lows.append(minute_key(criteria.after_start_min))
    if criteria.before_end_min is not None:
        highs.append(minute_key(criteria.before_end_min) + _ABOVE_ANY_UID)
    statuses = criteria.statuses
    if statuses and statuses <= {"upcoming", "unconfirmed", "recurring"}:
        lows.append(minute_key(max(criteria.now_min - MAX_BOOKING_MINUTES, 0)))
    if statuses == {"past"}:
        highs.append(minute_key(criteria.now_min) + _ABOVE_ANY_UID)
    if after is not None:  # strictly after the position where the previous page ended
        key = start_key(*after)
        if criteria.descending:
            highs.append(key[:-1] + chr(ord(key[-1]) - 1) + _ABOVE_ANY_UID)
        else:
            lows.append(key + _BELOW_ANY_UID)
    return (max(lows) if lows else None), (min(highs) if highs else None)


def _range_condition(low: str | None, high: str | None) -> Condition | None:
    key = UnicodeAttribute(attr_name="startKey")
    if low is not None and high is not None:
        return key.between(low, high)
    if low is not None:
        return key >= low
    if high is not None:
        return key <= high
    return None


def _path(criteria: ListCriteria) -> tuple[str, str, list[str]]:
    """(path, index name, partition values) for the most selective filter given."""
    if criteria.attendee_email is not None:
        return "attendee", "ByAttendee", [attendee_key(criteria.attendee_email)]
    if criteria.host_id is not None:
        return "host", "ByHost", [host_key(criteria.host_id)]
    if criteria.event_type_id is not None:
        return "type", "ByEventType", [type_key(criteria.event_type_id)]
    return "all", "ByStart", shard_keys()


def _value(item: dict[str, Any], name: str) -> Any:
    attribute = item.get(name)
    return next(iter(attribute.values())) if attribute else None


class DynamoBookingListing:
    def page(self, criteria: ListCriteria, after: Position | None, take: int) -> ListedPage:
        path, index, partitions = _path(criteria)
        low, high = _key_range(criteria, after)
        if low is not None and high is not None and low > high:
            return ListedPage(rows=[], end=None)
        connection = Item._get_connection()
        key_range, condition = _range_condition(low, high), _filter(criteria, path)
        answers = gather([
            lambda partition=partition: connection.query(
                partition, range_key_condition=key_range, filter_condition=condition, index_name=index,
                limit=take, scan_index_forward=not criteria.descending)
            for partition in partitions
        ])
        entries, end = self._merge(answers, criteria.descending, take)
        return ListedPage(rows=self._rows(entries), end=end)

    @staticmethod
    def _merge(answers: list[dict[str, Any]], descending: bool,
               take: int) -> tuple[list[dict[str, Any]], Position | None]:
        """The entries of every partition up to the first point one of them stopped at (beyond it another
        partition may hold entries not read yet), in order, at most `take`; and where the page ends."""
        stops = [answer["LastEvaluatedKey"]["startKey"]["S"] for answer in answers if answer.get("LastEvaluatedKey")]
        bound = (max(stops) if descending else min(stops)) if stops else None
        def within(key: str) -> bool:
            return bound is None or (key >= bound if descending else key <= bound)

        entries = [item for answer in answers for item in answer.get("Items", []) if within(item["startKey"]["S"])]
        entries.sort(key=lambda item: item["startKey"]["S"], reverse=descending)
        if len(entries) > take:
            entries = entries[:take]
            return entries, position_of(entries[-1]["startKey"]["S"])
        return entries, position_of(bound) if bound is not None else None

    @staticmethod
    def _rows(entries: list[dict[str, Any]]) -> list[ListedRow]:
        """The documents of the entries, in one round: bookings, the seats entries stand for, and seat slots."""
        keys: list[tuple[str, str]] = []
        for entry in entries:
            pk, sk = entry["pk"]["S"], entry["sk"]["S"]
            keys.append((pk, "BOOKING"))
            if sk.startswith("SEAT#"):
                keys.append((pk, sk))
            if _value(entry, "seated") in (True, None) and _value(entry, "eventTypeId") is not None:
                minute, _ = position_of(entry["startKey"]["S"])
                keys.append(seat_slot_key(int(_value(entry, "eventTypeId")), minute))
        found = {(item.pk, item.sk): item for item in batch_get(keys)}
        rows: list[ListedRow] = []
        for entry in entries:
            pk, sk = entry["pk"]["S"], entry["sk"]["S"]
            booking = found.get((pk, "BOOKING"))
            if not isinstance(booking, BookingItem):
                continue
            record = _record(booking)
            position = position_of(entry["startKey"]["S"])
            seat_item = found.get((pk, sk)) if sk.startswith("SEAT#") else None
            taken = None
            if record.is_seated:
                slot = found.get(seat_slot_key(record.event_type_id, position[0]))
                taken = int(slot.taken) if isinstance(slot, SeatSlotItem) and slot.booking_uid == record.uid else None
            seat = _seat_from(seat_item) if isinstance(seat_item, SeatItem) else None
            rows.append(ListedRow(record=record, position=position, seat=seat, seats_taken=taken))
        return rows

    def series(self, series_uid: str, from_min: int | None = None, active_only: bool = False) -> list[BookingRecord]:
        """The bookings of a recurring series by start (from `from_min`; only accepted and pending ones when
        `active_only`), at most SERIES_LIMIT: an index Query, then their documents."""
        key_range = UnicodeAttribute(attr_name="startKey") >= minute_key(from_min) if from_min is not None else None
        answer = Item._get_connection().query(
            series_uid, range_key_condition=key_range, index_name="BySeries", limit=SERIES_LIMIT,
            filter_condition=_STATUS.is_in(*_ACTIVE) if active_only else None)
        uids = [item["pk"]["S"] for item in answer.get("Items", [])]
        found = {item.pk: item for item in batch_get((pk, "BOOKING") for pk in uids)}
        records = [_record(found[pk]) for pk in uids if isinstance(found.get(pk), BookingItem)]
        if active_only:
            records = [r for r in records if r.status in _ACTIVE]
        return sorted(records, key=lambda r: (r.start, r.uid))


def _record(item: BookingItem) -> BookingRecord:
    record = BookingRecord.model_validate(item.doc)
    record.version = int(item.version)
    return record


__all__ = ["DynamoBookingListing", "booking_key", "position_of"]
