"""The booking store: what the booking pipeline reads and the one transaction that creates a booking."""

from __future__ import annotations

import random
import time

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from booking_core.config import MAX_BOOKING_MINUTES
from booking_core.domain.bookings import BookingRecord
from booking_core.domain.event_types import EventType
from booking_core.ports import (
    CreationPlan,
    DuplicateBooking,
    HostBooking,
    HostConfig,
    RequestData,
    SlotTaken,
)
from booking_core.repositories.counters import next_id
from booking_core.repositories.entities import UserRepository
from booking_core.repositories.tables import (
    BookingItem,
    DuplicateGuardItem,
    EventTypeItem,
    HostBookingItem,
    Item,
    LockItem,
    OutboxItem,
    RoundRobinCountItem,
    connection,
    minute_key,
    user_pk,
)

# Buffers can reach 12 h each way: look back far enough to see every booking that can overlap a window.
_LOOKBACK_MINUTES = MAX_BOOKING_MINUTES + 2 * 720
_TRANSACTION_ATTEMPTS = 4
OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600


def booking_key(uid: str) -> tuple[str, str]:
    return f"BOOKING#{uid}", "BOOKING"


def lock_key(host_id: int, bucket_min: int) -> tuple[str, str]:
    return user_pk(host_id), f"LOCK#{minute_key(bucket_min)}"


def host_booking_key(host_id: int, start_min: int, uid: str) -> tuple[str, str]:
    return user_pk(host_id), f"HB#{minute_key(start_min)}#{uid}"


def round_robin_key(event_type_id: int, period: str, host_id: int) -> tuple[str, str]:
    return f"RRCOUNT#{event_type_id}#{period}", f"HOST#{host_id}"


class DynamoBookingStore:
    def __init__(self) -> None:
        self._users = UserRepository()

    def fetch_request_data(self, event_type_id: int, duplicate_key: str | None) -> RequestData:
        keys = [(f"EVENTTYPE#{event_type_id}", "EVENTTYPE")]
        if duplicate_key:
            keys.append((duplicate_key, "DUP"))
        event_type: EventType | None = None
        duplicate_uid: str | None = None
        for item in Item.batch_get(keys, consistent_read=True):
            if isinstance(item, EventTypeItem):
                event_type = EventType.model_validate(item.doc)
            elif isinstance(item, DuplicateGuardItem):
                duplicate_uid = str(item.booking_uid)
        return RequestData(event_type=event_type, duplicate_uid=duplicate_uid)

    def next_booking_id(self) -> int:
        return next_id("booking")

    def get_booking(self, uid: str) -> BookingRecord | None:
        try:
            item = BookingItem.get(*booking_key(uid), consistent_read=True)
        except DoesNotExist:
            return None
        return BookingRecord.model_validate(item.doc)

    def load_host(self, host_id: int) -> HostConfig | None:
        return self._users.load_config(host_id)

    def host_bookings(self, host_id: int, from_min: int, to_min: int) -> list[HostBooking]:
        """Active bookings whose held interval overlaps [from_min, to_min), in one strongly consistent Query."""
        low = f"HB#{minute_key(from_min - _LOOKBACK_MINUTES)}"
        high = f"HB#{minute_key(to_min)}~"
        out: list[HostBooking] = []
        for item in HostBookingItem.query(
            user_pk(host_id), HostBookingItem.sk.between(low, high), consistent_read=True
        ):
            busy_start, busy_end = int(item.busy_start_min), int(item.busy_end_min)
            if busy_end > from_min and busy_start < to_min:
                out.append(
                    HostBooking(
                        uid=item.uid,
                        event_type_id=int(item.event_type_id),
                        start_min=int(item.start_min),
                        end_min=int(item.end_min),
                        busy_start_min=busy_start,
                        busy_end_min=busy_end,
                        status=item.status,
                    )
                )
        return out

    def round_robin_counts(self, event_type_id: int, period: str, host_ids: list[int]) -> dict[int, int]:
        keys = [round_robin_key(event_type_id, period, host_id) for host_id in host_ids]
        return {
            int(item.sk.split("#")[1]): int(item.count)
            for item in RoundRobinCountItem.batch_get(keys, consistent_read=True)
        }

    def create_booking(self, plan: CreationPlan) -> None:
        """One transaction: booking, its host intervals, slot locks, duplicate guard, round-robin count, outbox.

        Raises SlotTaken when a lock is held (naming the hosts), DuplicateBooking when the guard is held.
        Transaction conflicts with a concurrent writer are retried with jitter.
        """
        record = plan.record
        # Tags in the order DynamoDB reports cancellation reasons: puts first, then updates (pynamodb's order).
        tags: list[tuple[str, int | None]] = []
        puts: list[tuple[object, object]] = [
            (BookingItem(*booking_key(record.uid), doc=record.model_dump(mode="json", by_alias=True),
                         status=record.status), Item.pk.does_not_exist()),
        ]
        tags.append(("booking", None))
        for host_id, host_booking in plan.host_bookings:
            puts.append((
                HostBookingItem(
                    *host_booking_key(host_id, host_booking.start_min, record.uid),
                    uid=record.uid,
                    event_type_id=host_booking.event_type_id,
                    start_min=host_booking.start_min,
                    end_min=host_booking.end_min,
                    busy_start_min=host_booking.busy_start_min,
                    busy_end_min=host_booking.busy_end_min,
                    status=host_booking.status,
                ),
                None,
            ))
            tags.append(("host_booking", host_id))
        for host_id, bucket in plan.lock_keys:
            puts.append((LockItem(*lock_key(host_id, bucket), booking_uid=record.uid), Item.pk.does_not_exist()))
            tags.append(("lock", host_id))
        if plan.duplicate_key:
            condition = Item.pk.does_not_exist()
            if plan.stale_duplicate_uid:
                condition |= DuplicateGuardItem.booking_uid == plan.stale_duplicate_uid
            puts.append((DuplicateGuardItem(plan.duplicate_key, "DUP", booking_uid=record.uid), condition))
            tags.append(("duplicate", None))
        for event in plan.events:
            puts.append((
                OutboxItem(
                    event.event_id,
                    detail_type=event.detail_type,
                    detail=event.detail_json,
                    created_at=event.created_at,
                    expires_at=int(time.time()) + OUTBOX_RETENTION_SECONDS,
                ),
                None,
            ))
            tags.append(("outbox", None))
        updates = []
        if plan.round_robin:
            rr = plan.round_robin
            updates.append(RoundRobinCountItem(*round_robin_key(rr.event_type_id, rr.period, rr.host_id)))
            tags.append(("rr", None))

        for attempt in range(_TRANSACTION_ATTEMPTS):
            try:
                with TransactWrite(connection=connection()) as tx:
                    for model, condition in puts:
                        tx.save(model, condition=condition)  # type: ignore[arg-type]
                    for counter in updates:
                        tx.update(
                            counter,
                            actions=[RoundRobinCountItem.count.add(1), RoundRobinCountItem.kind.set(RoundRobinCountItem)],
                        )
                return
            except TransactWriteError as exc:
                reasons = exc.cancellation_reasons or []
                failed = [tag for tag, reason in zip(tags, reasons)
                          if reason is not None and reason.code == "ConditionalCheckFailed"]
                taken = {host_id for kind, host_id in failed if kind == "lock" and host_id is not None}
                if taken:
                    raise SlotTaken(taken) from exc
                if any(kind == "duplicate" for kind, _ in failed):
                    raise DuplicateBooking(None) from exc
                conflict = any(reason is not None and reason.code == "TransactionConflict" for reason in reasons)
                if (conflict or exc.cause_response_code == "TransactionConflictException") and (
                    attempt + 1 < _TRANSACTION_ATTEMPTS
                ):
                    time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
                    continue
                raise
