"""Which DynamoDB items the booking path writes, how often, and a fake that throttles the hot ones.

DynamoDB serves one item at about 1,000 writes per second. `ItemWrites` wraps every botocore call of the process and
records the items each DynamoDB write touches (PutItem, UpdateItem, DeleteItem, BatchWriteItem and every item of a
TransactWriteItems), attributed to the booking being made. `Throttle` turns that into the limit itself, scaled down
to what the emulator can run: bookings arrive at `bookings_per_second` (a virtual clock: booking n happens at
n / bookings_per_second seconds) and any item written more than `writes_per_second` times within one virtual second
is refused with DynamoDB's ProvisionedThroughputExceededException, as DynamoDB would. Scaling both by the same factor
keeps the ratio that matters: 200 bookings/s against 100 writes/s per item behaves like 2,000 against 1,000.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def _value(attribute: dict[str, Any]) -> str:
    return str(next(iter(attribute.values())))


def written_items(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(table, key) of every item a DynamoDB write touches."""
    def key_of(table: str, item_or_key: dict[str, Any]) -> tuple[str, str]:
        parts = [f"{name}={_value(item_or_key[name])}" for name in ("pk", "sk", "eventId", "id") if name in item_or_key]
        return table, "|".join(parts)

    if operation == "PutItem":
        return [key_of(params["TableName"], params["Item"])]
    if operation in ("UpdateItem", "DeleteItem"):
        return [key_of(params["TableName"], params["Key"])]
    if operation == "BatchWriteItem":
        return [key_of(table, request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"])
                for table, requests in params["RequestItems"].items() for request in requests]
    items = []
    for entry in params["TransactItems"]:
        (kind, body), = entry.items()
        if kind == "ConditionCheck":
            continue
        items.append(key_of(body["TableName"], body.get("Item") or body["Key"]))
    return items


def kind_of(key: str) -> str:
    """The item's kind: its partition key's prefix and the sort key's prefix, ids and times dropped."""
    table_key = key.split("|")
    pk = table_key[0].removeprefix("pk=").removeprefix("eventId=").removeprefix("id=")
    sk = table_key[1].removeprefix("sk=") if len(table_key) > 1 else ""
    pk_kind = re.split(r"[#.]", pk, maxsplit=1)[0] if "#" in pk or "." in pk else "(one per item)"
    sk_kind = re.split(r"#|\d", sk, maxsplit=1)[0] if sk else ""
    return f"{pk_kind}#{sk_kind}" if sk_kind and sk_kind != pk_kind else pk_kind


@dataclass
class ItemWrites:
    """Writes per item, per booking (set `booking` before each one)."""

    booking: int = 0
    writes: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str, params: dict[str, Any]) -> None:
        with self._lock:
            for item in written_items(operation, params):
                self.writes[item].append(self.booking)

    def per_booking(self, bookings: int) -> dict[tuple[str, str], float]:
        return {item: len(seen) / bookings for item, seen in self.writes.items()}

    def hottest_by_kind(self, bookings: int) -> dict[str, tuple[float, str]]:
        """kind -> (the largest share of bookings that wrote one item of that kind, the table)."""
        out: dict[str, tuple[float, str]] = {}
        for (table, key), share in self.per_booking(bookings).items():
            kind = kind_of(key)
            if share > out.get(kind, (0.0, ""))[0]:
                out[kind] = (share, table)
        return out


class Throttled(Exception):
    pass


@dataclass
class Throttle:
    bookings_per_second: int
    writes_per_second: int
    refused: Counter = field(default_factory=Counter)

    def check(self, writes: ItemWrites, operation: str, params: dict[str, Any]) -> None:
        second = writes.booking // self.bookings_per_second
        for item in written_items(operation, params):
            done = sum(1 for booking in writes.writes[item] if booking // self.bookings_per_second == second)
            if done >= self.writes_per_second:
                self.refused[kind_of(item[1])] += 1
                raise Throttled(item)


@contextmanager
def watching(throttle: Throttle | None = None) -> Iterator[ItemWrites]:
    """Record every DynamoDB write of the process (and refuse the over-limit ones) while the block runs."""
    import botocore.client
    from botocore.exceptions import ClientError

    writes = ItemWrites()
    original = botocore.client.BaseClient._make_api_call

    def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb" and operation in WRITE_OPERATIONS:
            if throttle is not None:
                try:
                    throttle.check(writes, operation, params)
                except Throttled:
                    raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException",
                                                 "Message": "Throughput exceeds the item's limit (fake)"}},
                                      operation) from None
            result = original(client, operation, params)
            writes.record(operation, params)
            return result
        return original(client, operation, params)

    botocore.client.BaseClient._make_api_call = call  # type: ignore[method-assign]
    try:
        yield writes
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]
