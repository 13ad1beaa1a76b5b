"""The booking store: what the booking pipeline and booking changes read, and the one transaction they write."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pynamodb.connection.base import BOTOCORE_EXCEPTIONS
from pynamodb.constants import TRANSACT_DELETE, TRANSACT_ITEMS, TRANSACT_PUT, TRANSACT_UPDATE, TRANSACT_WRITE_ITEMS
from pynamodb.exceptions import DoesNotExist, TransactWriteError

from booking_core import clock
from booking_core.concurrency import gather
from booking_core.config import MAX_BOOKING_MINUTES, MAX_TRANSACTION_ITEMS
from booking_core.domain.access import BlocklistEntry, PrivateLink, RoutingFormResponse
from booking_core.domain.bookings import Attendee, BookingRecord
from booking_core.domain.event_types import EventType
from booking_core.domain.payments import Payment
from booking_core.domain.reservations import Reservation
from booking_core.ports import (
    AlreadySeated,
    BookerBooking,
    BookingWrite,
    DuplicateBooking,
    HostBooking,
    HostWindow,
    LimitCount,
    LimitReached,
    OutboxEvent,
    PaymentAlreadySettled,
    RateLimited,
    Reassignment,
    RequestData,
    RequestKeys,
    ReservationRelease,
    Seat,
    SeatsFull,
    SeatSlot,
    SeatSlotOpened,
    SlotTaken,
    StaleBooking,
    StaleReservation,
    TransactionTooLarge,
    WriteContention,
)
from booking_core.repositories.abuse import counted
from booking_core.repositories.counters import booking_ids
from booking_core.repositories.entities import config_from_raw
from booking_core.repositories.tables import (
    CONFIG_PREFIX,
    HOST_BUSY_PREFIX,
    BlocklistItem,
    BookerBookingItem,
    BookingItem,
    CoHostItem,
    DuplicateGuardItem,
    EventTypeItem,
    HostBookingItem,
    Item,
    LimitCountItem,
    LockItem,
    OutboxItem,
    PaymentItem,
    PrivateLinkItem,
    ReservationHoldItem,
    ReservationItem,
    RoundRobinCountItem,
    RoutingResponseItem,
    SeatGuardItem,
    SeatItem,
    SeatSlotItem,
    attendee_key,
    availability_client,
    connection,
    host_key,
    minute_key,
    shard_key,
    start_key,
    type_key,
    user_pk,
)
from booking_core.timeutil import to_minutes

# Buffers can reach 12 h each way: look back far enough to see every booking that can overlap a window, and ahead
# far enough to see a booking starting after the window whose before-buffer reaches into it.
_MAX_BUFFER_MINUTES = 720
_LOOKBACK_MINUTES = MAX_BOOKING_MINUTES + 2 * _MAX_BUFFER_MINUTES
_TRANSACTION_ATTEMPTS = 8
_BATCH_GET_LIMIT = 100
OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600


def booking_key(uid: str) -> tuple[str, str]:
    return f"BOOKING#{uid}", "BOOKING"


def lock_key(host_id: int, bucket_min: int) -> tuple[str, str]:
    return user_pk(host_id), f"LOCK#{minute_key(bucket_min)}"


def host_booking_key(host_id: int, start_min: int, uid: str) -> tuple[str, str]:
    return user_pk(host_id), f"HB#{minute_key(start_min)}#{uid}"


def reservation_key(uid: str) -> tuple[str, str]:
    return f"RESERVATION#{uid}", "RESERVATION"


def round_robin_key(event_type_id: int, period: str, host_id: int) -> tuple[str, str]:
    return f"RRCOUNT#{event_type_id}#{period}", f"HOST#{host_id}"


def booker_index_key(booker_key: str, start_min: int, uid: str) -> tuple[str, str]:
    return f"BOOKER#{booker_key}", f"{minute_key(start_min)}#{uid}"


def seat_slot_key(event_type_id: int, start_min: int) -> tuple[str, str]:
    return f"SEATSLOTS#{event_type_id}", minute_key(start_min)


def seat_guard_key(booking_uid: str, email: str) -> tuple[str, str]:
    """One seat per email in a seated booking; kept in the booking's partition, so the guards of a cancelled booking
    bind nothing else."""
    return booking_key(booking_uid)[0], f"SEATGUARD#{email.lower()}"


def limit_key(key: str) -> tuple[str, str]:
    return f"LIMIT#{key}", "LIMIT"


def batch_get(keys: Iterable[tuple[str, str]]) -> list[Item]:
    """BatchGetItem for any number of keys: pages of 100 fetched concurrently (one round trip)."""
    unique = list(dict.fromkeys(keys))
    pages = [unique[i : i + _BATCH_GET_LIMIT] for i in range(0, len(unique), _BATCH_GET_LIMIT)]
    results = gather([lambda page=page: list(Item.batch_get(page, consistent_read=True)) for page in pages])
    return [item for page in results for item in page]


def _held(items: Iterable[Item], from_min: int, to_min: int) -> list[HostBooking]:
    """The host bookings and reservation holds among `items` whose held interval overlaps [from_min, to_min)."""
    out: list[HostBooking] = []
    for item in items:
        if not isinstance(item, HostBookingItem | ReservationHoldItem):
            continue
        busy_start, busy_end = int(item.busy_start_min), int(item.busy_end_min)
        if busy_end > from_min and busy_start < to_min:
            held = isinstance(item, ReservationHoldItem)
            out.append(
                HostBooking(
                    uid=item.uid,
                    event_type_id=int(item.event_type_id),
                    start_min=int(item.start_min),
                    end_min=int(item.end_min),
                    busy_start_min=busy_start,
                    busy_end_min=busy_end,
                    status="reserved" if held else item.status,
                    reserved_until=int(item.expires_at) if held else None,
                )
            )
    return out


_KIND = Item.kind.attr_name
# discriminator value -> whether it is a reservation's hold
_BUSY_KINDS = {Item.kind.get_discriminator(HostBookingItem): False,
               Item.kind.get_discriminator(ReservationHoldItem): True}


# host_window's Queries, written as the request DynamoDB takes: a team request sends a hundred of them, and building
# each from PynamoDB's expression objects cost more CPU than everything else it does per host but parsing.
_RANGE = "#pk = :pk AND #sk BETWEEN :low AND :high"
_IN_WINDOW = "#bs < :to AND #be > :from"
_WINDOW_NAMES = {"#bs": HostBookingItem.busy_start_min.attr_name, "#be": HostBookingItem.busy_end_min.attr_name}


def _raw_page(pk: str, low: str, high: str, window: tuple[int, int] | None, keep_unbusy: bool = False,
              start: dict[str, Any] | None = None) -> dict[str, Any]:
    """One page of a strongly consistent Query of pk's sort keys from `low` to `high`, raw (Items,
    LastEvaluatedKey...). With `window` (from_min, to_min), busy items outside it are filtered out, and so is every
    other item unless `keep_unbusy`."""
    params: dict[str, Any] = {"TableName": Item.Meta.table_name, "ConsistentRead": True,
                              "KeyConditionExpression": _RANGE}
    names = {"#pk": Item.pk.attr_name, "#sk": Item.sk.attr_name}
    values: dict[str, Any] = {":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}}
    if window is not None:
        params["FilterExpression"] = f"attribute_not_exists(#bs) OR ({_IN_WINDOW})" if keep_unbusy else _IN_WINDOW
        names.update(_WINDOW_NAMES)
        values.update({":from": {"N": str(window[0])}, ":to": {"N": str(window[1])}})
    params["ExpressionAttributeNames"], params["ExpressionAttributeValues"] = names, values
    if start:
        params["ExclusiveStartKey"] = start
    return availability_client().query(**params)


def _raw_query(pk: str, low: str, high: str, window: tuple[int, int] | None) -> Iterator[dict[str, Any]]:
    """The raw items of a strongly consistent Query, page after page (after the first item, `low` itself is left
    out: a caller resuming from a page's last key passes it as `low`)."""
    start = None
    while True:
        page = _raw_page(pk, low, high, window, start=start)
        yield from (raw for raw in page.get("Items", []) if raw["sk"]["S"] != low)
        start = page.get("LastEvaluatedKey")
        if not start:
            return


_EVENT_TYPE, _START, _END, _BUSY_START, _BUSY_END = (attribute.attr_name for attribute in (
    HostBookingItem.event_type_id, HostBookingItem.start_min, HostBookingItem.end_min,
    HostBookingItem.busy_start_min, HostBookingItem.busy_end_min))
_UID, _STATUS, _EXPIRES = (HostBookingItem.uid.attr_name, HostBookingItem.status.attr_name,
                           ReservationHoldItem.expires_at.attr_name)


def _busy_from_raw(raw: dict[str, Any], reservation: bool) -> HostBooking:
    """A HostBookingItem or ReservationHoldItem as DynamoDB returns it (the models' attribute names). A 7-day
    request over a hundred hosts reads thousands of these: each attribute is looked up directly."""
    return HostBooking(
        uid=raw[_UID]["S"],
        event_type_id=int(raw[_EVENT_TYPE]["N"]),
        start_min=int(raw[_START]["N"]),
        end_min=int(raw[_END]["N"]),
        busy_start_min=int(raw[_BUSY_START]["N"]),
        busy_end_min=int(raw[_BUSY_END]["N"]),
        status="reserved" if reservation else raw[_STATUS]["S"],
        reserved_until=int(raw[_EXPIRES]["N"]) if reservation else None,
    )


def _seat_from(item: SeatItem) -> Seat:
    doc = dict(item.doc)
    return Seat(
        seat_uid=doc["seatUid"],
        booking_uid=doc["bookingUid"],
        attendee=Attendee.model_validate(doc["attendee"]),
        created_at=doc["createdAt"],
        guests=list(doc.get("guests") or []),
        metadata=dict(doc.get("metadata") or {}),
        booking_fields_responses=dict(doc.get("bookingFieldsResponses") or {}),
    )


def _seat_doc(seat: Seat) -> dict[str, Any]:
    return {
        "seatUid": seat.seat_uid,
        "bookingUid": seat.booking_uid,
        "attendee": seat.attendee.model_dump(mode="json", by_alias=True),
        "createdAt": seat.created_at,
        "guests": seat.guests,
        "metadata": seat.metadata,
        "bookingFieldsResponses": seat.booking_fields_responses,
    }


class DynamoBookingStore:
    # -- reads ---------------------------------------------------------------------------------------------------
    def fetch_request_data(self, keys: RequestKeys) -> RequestData:
        wanted: list[tuple[str, str]] = [(f"EVENTTYPE#{keys.event_type_id}", "EVENTTYPE")]
        if keys.duplicate_key:
            wanted.append((keys.duplicate_key, "DUP"))
        wanted.extend((f"BLOCK#{kind}#{value}", "BLOCK") for kind, value in keys.blocklist)
        if keys.private_link:
            wanted.append((f"EVENTTYPE#{keys.event_type_id}", f"LINK#{keys.private_link}"))
        if keys.routing_response_id is not None:
            wanted.append((f"ROUTINGRESPONSE#{keys.routing_response_id}", "ROUTINGRESPONSE"))
        if keys.seat_start_min is not None:
            wanted.append(seat_slot_key(keys.event_type_id, keys.seat_start_min))
        if keys.reservation_uid:
            wanted.append(reservation_key(keys.reservation_uid))
        event_type = link = routing = slot = reservation = None
        duplicate_uid = None
        blocklist: list[BlocklistEntry] = []
        for item in batch_get(wanted):
            if isinstance(item, EventTypeItem):
                event_type = EventType.model_validate(item.doc)
            elif isinstance(item, DuplicateGuardItem):
                duplicate_uid = str(item.booking_uid)
            elif isinstance(item, BlocklistItem):
                blocklist.append(BlocklistEntry.model_validate(item.doc))
            elif isinstance(item, PrivateLinkItem):
                link = PrivateLink.model_validate({**item.doc, "usageCount": int(item.usage_count)})
            elif isinstance(item, RoutingResponseItem):
                routing = RoutingFormResponse.model_validate(item.doc)
            elif isinstance(item, SeatSlotItem):
                slot = self._slot_from(keys.event_type_id, item)
            elif isinstance(item, ReservationItem):
                reservation = _reservation_from(item)
        return RequestData(
            event_type=event_type,
            duplicate_uid=duplicate_uid,
            blocklist=blocklist,
            private_link=link,
            routing_response=routing,
            seat_slot=slot,
            reservation=reservation,
        )

    @staticmethod
    def _slot_from(event_type_id: int, item: SeatSlotItem) -> SeatSlot:
        return SeatSlot(
            event_type_id=event_type_id,
            start_min=int(item.start_min),
            booking_uid=item.booking_uid,
            taken=int(item.taken),
            capacity=int(item.capacity),
        )

    def next_booking_ids(self, count: int = 1) -> list[int]:
        return booking_ids.take(count)

    def get_booking(self, uid: str) -> BookingRecord | None:
        try:
            item = BookingItem.get(*booking_key(uid), consistent_read=True)
        except DoesNotExist:
            return None
        record = BookingRecord.model_validate(item.doc)
        record.version = int(item.version)
        return record

    def host_window(self, host_id: int, from_min: int, to_min: int) -> HostWindow:
        """The host's configuration and what holds their time over [from_min, to_min), in ONE strongly consistent
        Query: from HB#<from_min - lookback> to the end of the configuration's HC# range, which sorts right after
        the host bookings (repositories/tables.py). Bookings after the window lie inside that range too; the filter
        keeps them (and those ending before the window) out of the response, though DynamoDB still reads them.

        When that Query needs a second page (a host with thousands of bookings after the window: a page stops at
        1 MB read), the rest is read by two bounded ranges instead, the rest of the window and the configuration,
        so no request pages through a host's whole future: at most one page more than the window itself holds.

        Every item is read from the raw response (a hundred hosts' worth of them per request: building a model
        instance for each cost several times the rest of their handling)."""
        pk = user_pk(host_id)
        low = f"{HOST_BUSY_PREFIX}{minute_key(from_min - _LOOKBACK_MINUTES)}"
        config_high = f"{CONFIG_PREFIX}~"
        first = _raw_page(pk, low, config_high, (from_min, to_min), keep_unbusy=True)
        raws = list(first.get("Items", []))
        last = first.get("LastEvaluatedKey")
        if last:
            read_up_to = last["sk"]["S"]
            window_high = f"{HOST_BUSY_PREFIX}{minute_key(to_min + _MAX_BUFFER_MINUTES)}~"
            if read_up_to < window_high:
                raws += _raw_query(pk, read_up_to, window_high, (from_min, to_min))
            # the configuration, or the rest of it when the first page ended inside it
            raws += _raw_query(pk, max(read_up_to, CONFIG_PREFIX), config_high, None)
        configuration: list[dict[str, Any]] = []
        held: list[HostBooking] = []
        for raw in raws:
            kind = raw[_KIND]["S"]
            if kind in _BUSY_KINDS:
                held.append(_busy_from_raw(raw, reservation=_BUSY_KINDS[kind]))
            else:
                configuration.append(raw)
        return HostWindow(config_from_raw(configuration),
                          [b for b in held if b.busy_end_min > from_min and b.busy_start_min < to_min])

    def host_bookings(self, host_id: int, from_min: int, to_min: int) -> list[HostBooking]:
        """Active bookings and reservation holds (expired ones too: the caller compares with its clock) whose held
        interval overlaps [from_min, to_min), in one strongly consistent Query."""
        low = f"{HOST_BUSY_PREFIX}{minute_key(from_min - _LOOKBACK_MINUTES)}"
        high = f"{HOST_BUSY_PREFIX}{minute_key(to_min + _MAX_BUFFER_MINUTES)}~"
        return _held(Item.query(user_pk(host_id), Item.sk.between(low, high), consistent_read=True), from_min, to_min)

    def round_robin_counts(self, event_type_id: int, period: str, host_ids: list[int]) -> dict[int, int]:
        keys = [round_robin_key(event_type_id, period, host_id) for host_id in host_ids]
        return {
            int(item.sk.split("#")[1]): int(item.count)
            for item in batch_get(keys)
            if isinstance(item, RoundRobinCountItem)
        }

    def limit_counts(self, keys: list[str]) -> dict[str, LimitCount]:
        found = batch_get(limit_key(key) for key in keys)
        return {
            item.pk.removeprefix("LIMIT#"): LimitCount(int(item.count), int(item.minutes))
            for item in found
            if isinstance(item, LimitCountItem)
        }

    def booker_bookings(self, booker_key: str, from_min: int) -> list[BookerBooking]:
        pk, _ = booker_index_key(booker_key, 0, "")
        return [
            BookerBooking(uid=item.uid, start_min=int(item.start_min), status=item.status)
            for item in BookerBookingItem.query(pk, BookerBookingItem.sk >= minute_key(from_min), consistent_read=True)
        ]

    def seat_slots(self, event_type_id: int, from_min: int, to_min: int) -> list[SeatSlot]:
        pk, _ = seat_slot_key(event_type_id, 0)
        return [
            self._slot_from(event_type_id, item)
            for item in SeatSlotItem.query(
                pk, SeatSlotItem.sk.between(minute_key(from_min), minute_key(to_min)), consistent_read=True
            )
        ]

    def seats(self, booking_uid: str) -> list[Seat]:
        pk, _ = booking_key(booking_uid)
        seats = [_seat_from(item) for item in SeatItem.query(pk, SeatItem.sk.startswith("SEAT#"), consistent_read=True)]
        return sorted(seats, key=lambda seat: seat.created_at)

    def holds_seat(self, booking_uid: str, email: str) -> bool:
        try:
            SeatGuardItem.get(*seat_guard_key(booking_uid, email), consistent_read=True)
        except DoesNotExist:
            return False
        return True

    def blocklist_entries(self, keys: list[tuple[str, str]]) -> list[BlocklistEntry]:
        """The blocklist entries of these (type, value) keys (an address's lookup keys), in one round."""
        return [BlocklistEntry.model_validate(item.doc) for item in batch_get(
            (f"BLOCK#{kind}#{value}", "BLOCK") for kind, value in keys) if isinstance(item, BlocklistItem)]

    def get_payment(self, payment_uid: str) -> Payment | None:
        try:
            item = PaymentItem.get(f"PAYMENT#{payment_uid}", "PAYMENT", consistent_read=True)
        except DoesNotExist:
            return None
        return Payment.model_validate(item.doc)

    def get_reservation(self, uid: str) -> Reservation | None:
        """The reservation as stored, live or expired (TTL removes it some time after it expired)."""
        try:
            item = ReservationItem.get(*reservation_key(uid), consistent_read=True)
        except DoesNotExist:
            return None
        return _reservation_from(item)

    # -- the one write -------------------------------------------------------------------------------------------
    def write(self, plan: BookingWrite) -> None:
        """Apply the plan in one transaction, retrying transaction conflicts; report refused conditions as domain
        failures (SlotTaken, DuplicateBooking, LimitReached, seat and version failures)."""
        ops = _Operations.build(plan)
        for attempt in range(_TRANSACTION_ATTEMPTS):
            try:
                ops.commit()
                return
            except TransactWriteError as exc:
                reasons = exc.cancellation_reasons or []
                refused = [op.tag for op, reason in zip(ops.items, reasons)
                           if reason and reason.code == "ConditionalCheckFailed"]
                if refused:
                    raise refusal(refused) from exc
                conflict = any(reason and reason.code == "TransactionConflict" for reason in reasons)
                if conflict or exc.cause_response_code == "TransactionConflictException":
                    time.sleep(random.uniform(0, 0.02 * 2**attempt))
                    continue
                raise
        raise WriteContention("the same items kept changing concurrently")


class Part(Enum):
    """What one item of the booking transaction is, and so what a refused condition on it means (`refusal`). When
    several conditions are refused at once, the member listed first decides (another first attendee opening the
    seated booking explains the locks they hold; a held lock explains a reservation that lost them)."""

    SEAT_OPEN = "seat_open"  # the seat slot exists: another first attendee opened it (SeatSlotOpened)
    LOCK = "lock"  # a slot lock is held by another booking or live reservation (SlotTaken, with the hosts)
    RESERVATION = "reservation"  # the reservation item is not at the version read (StaleReservation)
    RESERVATION_LOCK = "reservation_lock"  # a lock the reservation should still hold is gone (StaleReservation)
    SEAT_GUARD = "seat_guard"  # this email holds a seat of the booking already (AlreadySeated)
    SEAT_JOIN = "seat_join"  # no seat left, or the slot went to another booking (SeatsFull)
    DUPLICATE = "duplicate"  # the attendee's guard points at another booking (DuplicateBooking)
    PAYMENT = "payment"  # the payment is not in the status expected (PaymentAlreadySettled)
    LIMIT = "limit"  # a booking-limit counter would pass its limit (LimitReached, with the counter)
    RATE = "rate"  # an abuse-limit window is full (RateLimited, with the window)
    # refused, these mean the booking (or what it holds) changed since it was read: StaleBooking
    BOOKING = "booking"
    VERSION = "version"
    HOST_BOOKING = "host_booking"
    RELEASE_LOCK = "release_lock"
    RELEASE_GUARD = "release_guard"
    SEAT = "seat"
    SEAT_LEAVE = "seat_leave"
    # written without a condition
    CO_HOST = "cohost"
    BOOKER = "booker"
    ROUND_ROBIN = "rr"
    HOLD = "hold"
    SEAT_CLOSE = "seat_close"
    SEAT_GUARD_RELEASE = "seat_guard_release"
    OUTBOX = "outbox"


Tag = tuple[Part, Any]  # the item's part, and what its failure reports (hosts, counter key, rate window...)

_REFUSALS: dict[Part, Callable[[list[Any], str], Exception]] = {
    Part.SEAT_OPEN: lambda infos, parts: SeatSlotOpened(),
    Part.LOCK: lambda infos, parts: SlotTaken(set(infos)),
    Part.RESERVATION: lambda infos, parts: StaleReservation(f"condition failed on {parts}"),
    Part.RESERVATION_LOCK: lambda infos, parts: StaleReservation(f"condition failed on {parts}"),
    Part.SEAT_GUARD: lambda infos, parts: AlreadySeated(),
    Part.SEAT_JOIN: lambda infos, parts: SeatsFull(),
    Part.DUPLICATE: lambda infos, parts: DuplicateBooking(),
    Part.PAYMENT: lambda infos, parts: PaymentAlreadySettled(),
    Part.LIMIT: lambda infos, parts: LimitReached(infos[0]),
    Part.RATE: lambda infos, parts: RateLimited(infos[0]),
}


def refusal(refused: list[Tag]) -> Exception:
    """The domain failure of a transaction whose conditions on these items were refused."""
    infos: dict[Part, list[Any]] = {}
    for part, info in refused:
        infos.setdefault(part, []).append(info)
    parts = str(sorted(part.value for part in infos))
    for part in Part:  # in the order of precedence
        if part in infos and part in _REFUSALS:
            return _REFUSALS[part](infos[part], parts)
    return StaleBooking(f"condition failed on {parts}")


@dataclass
class _Op:
    action: str  # "put" | "update" | "delete"
    model: Any
    tag: Tag
    condition: Any = None
    actions: list[Any] | None = None

    def request(self) -> dict[str, Any]:
        """This item as one entry of TransactItems."""
        if self.action == "delete":
            return {TRANSACT_DELETE: self.model.get_delete_kwargs_from_instance(condition=self.condition)}
        if self.action == "put":
            return {TRANSACT_PUT: self.model.get_save_kwargs_from_instance(condition=self.condition)}
        return {TRANSACT_UPDATE: self.model.get_update_kwargs_from_instance(actions=self.actions or [],
                                                                            condition=self.condition)}


class _Operations:
    """The transaction's items, in the order they are sent: DynamoDB answers a cancelled transaction with one reason
    per TransactItems entry in request order, so `items[i].tag` names the item of reason i. (PynamoDB's TransactWrite
    would regroup the items by action; the request is built here instead.) The items are merged so that none is
    touched twice (DynamoDB forbids it): a lock or guard released and re-taken in the same write (a reschedule that
    overlaps itself) is handed over with one put."""

    def __init__(self, now_s: int) -> None:
        self.now_s = now_s
        self.ops: dict[tuple[str, str], _Op] = {}  # main-table items by key, in the order added
        self.outbox: list[_Op] = []
        # what a release frees (lock or guard -> the booking leaving it) and what a create takes in the same write
        self.released_locks: dict[tuple[int, int], str] = {}
        self.released_guards: dict[str, str] = {}
        self.taken_locks: set[tuple[int, int]] = set()
        self.taken_guards: set[str] = set()

    @property
    def items(self) -> list[_Op]:
        """Every item in request order: the main table's in the order added, then the outbox events."""
        return [*self.ops.values(), *self.outbox]

    def add(self, op: _Op) -> None:
        key = (op.model.pk, op.model.sk)
        if key in self.ops:
            raise ValueError(f"item {key} written twice in one transaction")
        self.ops[key] = op

    def commit(self) -> None:
        items = self.items
        if len(items) > MAX_TRANSACTION_ITEMS:
            raise TransactionTooLarge(f"{len(items)} items")
        try:
            connection().dispatch(TRANSACT_WRITE_ITEMS, {TRANSACT_ITEMS: [op.request() for op in items]})
        except BOTOCORE_EXCEPTIONS as exc:
            raise TransactWriteError("Failed to write transaction items", exc) from exc

    @classmethod
    def build(cls, plan: BookingWrite) -> _Operations:
        """The plan's items, section by section in a fixed order (creates first, so that releases and reservation
        releases see what the same write takes again; the outbox last)."""
        ops = cls(int((plan.now or clock.now()).timestamp()))
        for release in plan.releases:
            for lock in release.lock_keys:
                ops.released_locks[lock] = release.record.uid
            if release.duplicate_key:
                ops.released_guards[release.duplicate_key] = release.record.uid
        for section in (ops._creates, ops._releases, ops._changes, ops._updates, ops._limits, ops._round_robin,
                        ops._seats, ops._payments, ops._rate_windows, ops._reservations, ops._events):
            section(plan)
        return ops

    # -- sections ----------------------------------------------------------------------------------------------------
    def _creates(self, plan: BookingWrite) -> None:
        """New bookings: the booking item, co-host listing entries, the hosts' busy intervals, the slot locks (free,
        expired, handed over by a release in this write or held by the booker's own reservation), the duplicate
        guard and the booker index entry."""
        for new in plan.creates:
            record = new.record
            record.version = 1
            self.add(_Op("put", booking_item(record), (Part.BOOKING, record.uid), Item.pk.does_not_exist()))
            for host in record.hosts[1:]:
                self.add(_Op("put", co_host_item(record, host.id), (Part.CO_HOST, host.id)))
            for host_id, hb in new.host_bookings:
                self.add(_Op("put", _host_booking_item(host_id, hb), (Part.HOST_BOOKING, host_id)))
            for host_id, bucket in new.lock_keys:
                self.taken_locks.add((host_id, bucket))
                condition = _lock_free(self.now_s, self.released_locks.get((host_id, bucket)), new.reservation_uid)
                self.add(_Op("put", LockItem(*lock_key(host_id, bucket), booking_uid=record.uid),
                             (Part.LOCK, host_id), condition))
            if new.duplicate_key:
                self.taken_guards.add(new.duplicate_key)
                previous = self.released_guards.get(new.duplicate_key) or new.stale_duplicate_uid
                condition = Item.pk.does_not_exist()
                if previous:
                    condition |= DuplicateGuardItem.booking_uid == previous
                self.add(_Op("put", DuplicateGuardItem(new.duplicate_key, "DUP", booking_uid=record.uid),
                             (Part.DUPLICATE, None), condition))
            if new.booker_key:
                start_min = new.host_bookings[0][1].start_min if new.host_bookings else 0
                self.add(_Op("put", BookerBookingItem(*booker_index_key(new.booker_key, start_min, record.uid),
                                                      uid=record.uid, start_min=start_min, status=record.status),
                             (Part.BOOKER, None)))

    def _releases(self, plan: BookingWrite) -> None:
        """Bookings leaving the calendar: the new record (at the version read), and what they hold, except what a
        create of this write took over."""
        for release in plan.releases:
            record = release.record
            self.add(_versioned_put(record, release.expected_version))
            for host_id in release.host_ids:
                self.add(_Op("delete", HostBookingItem(*host_booking_key(host_id, release.start_min, record.uid)),
                             (Part.HOST_BOOKING, host_id)))
            for host_id, bucket in release.lock_keys:
                if (host_id, bucket) in self.taken_locks:
                    continue  # handed over to the new booking
                self.add(_Op("delete", LockItem(*lock_key(host_id, bucket)), (Part.RELEASE_LOCK, host_id),
                             LockItem.booking_uid == record.uid))
            if release.duplicate_key and release.duplicate_key not in self.taken_guards:
                self.add(_Op("delete", DuplicateGuardItem(release.duplicate_key, "DUP"), (Part.RELEASE_GUARD, None),
                             DuplicateGuardItem.booking_uid == record.uid))
            if release.booker_key:
                self.add(_Op("delete", BookerBookingItem(*booker_index_key(release.booker_key, release.start_min,
                                                                           record.uid)), (Part.BOOKER, None)))
            if release.seat_slot is not None:  # the start opens for a new seated booking; the seats stay on record
                slot = release.seat_slot
                self.add(_Op("delete", SeatSlotItem(*seat_slot_key(slot.event_type_id, slot.start_min)),
                             (Part.SEAT_CLOSE, None)))

    def _changes(self, plan: BookingWrite) -> None:
        """Bookings that keep their slot and change status: the record, the hosts' intervals, the booker entry."""
        for change in plan.changes:
            record = change.record
            self.add(_versioned_put(record, change.expected_version))
            for host_id in change.host_ids:
                self.add(_Op("update", HostBookingItem(*host_booking_key(host_id, change.start_min, record.uid)),
                             (Part.HOST_BOOKING, host_id), Item.pk.exists(),
                             [HostBookingItem.status.set(record.status)]))
            if change.booker_key:
                self.add(_Op("update", BookerBookingItem(*booker_index_key(change.booker_key, change.start_min,
                                                                           record.uid)),
                             (Part.BOOKER, None), None, [BookerBookingItem.status.set(record.status),
                                                         BookerBookingItem.uid.set(record.uid),
                                                         BookerBookingItem.start_min.set(change.start_min),
                                                         BookerBookingItem.kind.set(BookerBookingItem)]))

    def _updates(self, plan: BookingWrite) -> None:
        """Records that change alone, and bookings handed to other hosts."""
        for update in plan.updates:
            self.add(_versioned_put(update.record, update.expected_version))
        for moved in plan.reassignments:
            _reassign(self, moved, self.now_s)

    def _limits(self, plan: BookingWrite) -> None:
        """Booking-limit counters; an increment holds only while the counter stays within its limits."""
        for delta in plan.limits:
            if delta.count == 0 and delta.minutes == 0:
                continue
            condition = None
            if delta.count > 0 and delta.max_count is not None:
                condition = _within(LimitCountItem.count, delta.count, delta.max_count)
            if delta.minutes > 0 and delta.max_minutes is not None:
                within = _within(LimitCountItem.minutes, delta.minutes, delta.max_minutes)
                condition = within if condition is None else condition & within
            self.add(_Op("update", LimitCountItem(*limit_key(delta.key)), (Part.LIMIT, delta.key), condition,
                         [LimitCountItem.count.add(delta.count), LimitCountItem.minutes.add(delta.minutes),
                          LimitCountItem.kind.set(LimitCountItem)]))

    def _round_robin(self, plan: BookingWrite) -> None:
        for rr in plan.round_robin:
            self.add(_Op("update", RoundRobinCountItem(*round_robin_key(rr.event_type_id, rr.period, rr.host_id)),
                         (Part.ROUND_ROBIN, rr.host_id), None,
                         [RoundRobinCountItem.count.add(rr.delta), RoundRobinCountItem.kind.set(RoundRobinCountItem)]))

    def _seats(self, plan: BookingWrite) -> None:
        """Seat slots opened, joined and left, with the seats and their one-per-email guards; seats' own data."""
        for opened in plan.seat_opens:
            slot, seat = opened.slot, opened.seat
            self.add(_Op("put", SeatSlotItem(*seat_slot_key(slot.event_type_id, slot.start_min),
                                             booking_uid=slot.booking_uid, start_min=slot.start_min, taken=1,
                                             capacity=slot.capacity), (Part.SEAT_OPEN, None), Item.pk.does_not_exist()))
            _add_seat(self, slot, seat)
        for joined in plan.seat_joins:
            slot, seat = joined.slot, joined.seat
            self.add(_Op("update", SeatSlotItem(*seat_slot_key(slot.event_type_id, slot.start_min)),
                         (Part.SEAT_JOIN, None),
                         Item.pk.exists() & (SeatSlotItem.booking_uid == slot.booking_uid)
                         & (SeatSlotItem.taken < SeatSlotItem.capacity),
                         [SeatSlotItem.taken.add(1)]))
            _add_seat(self, slot, seat)
        for left in plan.seat_leaves:
            slot, seat = left.slot, left.seat
            slot_item = SeatSlotItem(*seat_slot_key(slot.event_type_id, slot.start_min))
            if left.close:
                self.add(_Op("delete", slot_item, (Part.SEAT_LEAVE, None), SeatSlotItem.taken == 1))
            else:
                self.add(_Op("update", slot_item, (Part.SEAT_LEAVE, None), SeatSlotItem.taken > 1,
                             [SeatSlotItem.taken.add(-1)]))
            self.add(_Op("delete", SeatItem(booking_key(seat.booking_uid)[0], f"SEAT#{seat.seat_uid}"),
                         (Part.SEAT, None), Item.pk.exists()))
            self.add(_Op("delete", SeatGuardItem(*seat_guard_key(seat.booking_uid, seat.attendee.email)),
                         (Part.SEAT_GUARD_RELEASE, None)))
        for seat in plan.seat_updates:
            item = SeatItem(booking_key(seat.booking_uid)[0], f"SEAT#{seat.seat_uid}")
            self.add(_Op("update", item, (Part.SEAT, None), Item.pk.exists(), [SeatItem.doc.set(_seat_doc(seat))]))

    def _payments(self, plan: BookingWrite) -> None:
        """A payment created (new) or settled (still in the status expected)."""
        for payment in plan.payments:
            condition = (
                PaymentItem.status == plan.payment_expected_status
                if plan.payment_expected_status
                else Item.pk.does_not_exist()
            )
            self.add(_Op("put", PaymentItem(f"PAYMENT#{payment.payment_uid}", "PAYMENT",
                                            doc=payment.model_dump(mode="json", by_alias=True), status=payment.status),
                         (Part.PAYMENT, payment.payment_uid), condition))

    def _rate_windows(self, plan: BookingWrite) -> None:
        for window in plan.rate_windows:
            item, actions, condition = counted(window)
            self.add(_Op("update", item, (Part.RATE, window), condition, actions))

    def _reservations(self, plan: BookingWrite) -> None:
        """Slot reservations held or moved, then those leaving (what they held and this write does not take)."""
        for written in plan.reservations:
            _hold(self, written.reservation, written.expected_version, self.now_s)
        for release in plan.released_reservations:
            _release_reservation(self, release)

    def _events(self, plan: BookingWrite) -> None:
        for event in plan.events:
            self.outbox.append(_Op("put", outbox_item(event), (Part.OUTBOX, None)))


def _within(counter: Any, delta: int, limit: int) -> Any:
    """The counter (absent: 0) plus `delta` stays within `limit`. An absent counter passes only when `delta` alone
    fits: a change larger than the limit is refused on a fresh counter too."""
    fits = counter <= limit - delta
    return counter.does_not_exist() | fits if delta <= limit else fits


def _lock_free(now_s: int, previous_booking: str | None = None, reservation_uid: str | None = None) -> Any:
    """A lock may be taken when nobody holds it, when it is held by a reservation that has expired by now, when the
    booking being moved away holds it (a reschedule hands it over) or when the taker's own reservation holds it."""
    condition = Item.pk.does_not_exist() | (LockItem.expires_at <= now_s)
    if previous_booking:
        condition |= LockItem.booking_uid == previous_booking
    if reservation_uid:
        condition |= LockItem.reservation_uid == reservation_uid
    return condition


def _reservation_from(item: ReservationItem) -> Reservation:
    return Reservation.model_validate({**item.doc, "version": int(item.version)})


def _hold(ops: _Operations, reservation: Reservation, expected_version: int | None, now_s: int) -> None:
    """A reservation stored: its item (new, or the version read), its locks and its holds."""
    reservation.version = (expected_version or 0) + 1
    condition = Item.pk.does_not_exist() if expected_version is None else ReservationItem.version == expected_version
    ops.add(_Op("put", ReservationItem(*reservation_key(reservation.uid), doc=reservation.dump(),
                                       version=reservation.version, expires_at=reservation.until_s),
                (Part.RESERVATION, reservation.uid), condition))
    for host_id, bucket in reservation.lock_keys:
        ops.add(_Op("put", LockItem(*lock_key(host_id, bucket), reservation_uid=reservation.uid,
                                    expires_at=reservation.until_s),
                    (Part.LOCK, host_id), _lock_free(now_s, reservation_uid=reservation.uid)))
    for hold in reservation.holds:
        ops.add(_Op("put", ReservationHoldItem(*host_booking_key(hold.host_id, hold.start_min, reservation.uid),
                                               uid=reservation.uid, event_type_id=reservation.event_type_id,
                                               start_min=hold.start_min, end_min=hold.end_min,
                                               busy_start_min=hold.busy_start_min, busy_end_min=hold.busy_end_min,
                                               expires_at=reservation.until_s), (Part.HOLD, hold.host_id)))


def _release_reservation(ops: _Operations, release: ReservationRelease) -> None:
    """What a reservation held and the same write does not take again: its holds, its locks (only while it still
    holds them) and, unless it stays (moved), its item."""
    reservation = release.reservation
    if not release.keep_item:
        ops.add(_Op("delete", ReservationItem(*reservation_key(reservation.uid)), (Part.RESERVATION, reservation.uid),
                    ReservationItem.version == release.expected_version))
    for hold in reservation.holds:
        key = host_booking_key(hold.host_id, hold.start_min, reservation.uid)
        if key not in ops.ops:
            ops.add(_Op("delete", ReservationHoldItem(*key), (Part.HOLD, hold.host_id)))
    for host_id, bucket in reservation.lock_keys:
        key = lock_key(host_id, bucket)
        if key not in ops.ops:
            ops.add(_Op("delete", LockItem(*key), (Part.RESERVATION_LOCK, reservation.uid),
                        LockItem.reservation_uid == reservation.uid))


def outbox_item(event: OutboxEvent) -> OutboxItem:
    """The outbox row of one event, written in the transaction of the change it reports."""
    return OutboxItem(event.event_id, detail_type=event.detail_type, detail=event.detail_json,
                      created_at=event.created_at, expires_at=int(clock.epoch_seconds()) + OUTBOX_RETENTION_SECONDS)


def _add_seat(ops: _Operations, slot: SeatSlot, seat: Seat) -> None:
    item = SeatItem(booking_key(seat.booking_uid)[0], f"SEAT#{seat.seat_uid}", doc=_seat_doc(seat),
                    attendee_key=attendee_key(seat.attendee.email), start_key=start_key(slot.start_min,
                                                                                        seat.booking_uid),
                    event_type_id=slot.event_type_id, seated=True)
    ops.add(_Op("put", item, (Part.SEAT, None), Item.pk.does_not_exist()))
    ops.add(_Op("put", SeatGuardItem(*seat_guard_key(seat.booking_uid, seat.attendee.email), seat_uid=seat.seat_uid),
                (Part.SEAT_GUARD, None), Item.pk.does_not_exist()))


def _doc(record: BookingRecord) -> dict[str, Any]:
    return record.model_dump(mode="json", by_alias=True)


def booking_item(record: BookingRecord) -> BookingItem:
    """The booking's item: its document, and the keys and filter attributes of the listing indexes it is in."""
    start_min = to_minutes(record.start)
    return BookingItem(
        *booking_key(record.uid), doc=_doc(record), status=record.status, version=record.version,
        host_key=host_key(record.hosts[0].id) if record.hosts else None,
        attendee_key=attendee_key(record.attendees[0].email) if record.attendees and not record.is_seated else None,
        type_key=type_key(record.event_type_id),
        shard_key=shard_key(record.uid),
        series_key=record.recurring_booking_uid,
        start_key=start_key(start_min, record.uid),
        end_min=to_minutes(record.end),
        event_type_id=record.event_type_id,
        host_ids={host.id for host in record.hosts} or None,
        seated=record.is_seated,
    )


def co_host_item(record: BookingRecord, host_id: int) -> CoHostItem:
    return CoHostItem(booking_key(record.uid)[0], f"HOST#{host_id}", host_key=host_key(host_id),
                      start_key=start_key(to_minutes(record.start), record.uid), end_min=to_minutes(record.end),
                      event_type_id=record.event_type_id)


def _versioned_put(record: BookingRecord, expected_version: int) -> _Op:
    record.version = expected_version + 1
    return _Op("put", booking_item(record), (Part.VERSION, record.uid), BookingItem.version == expected_version)


def _reassign(ops: _Operations, moved: Reassignment, now_s: int) -> None:
    """The booking's record, and its hold on time moved from the leaving hosts to the joining ones (whose locks may be
    free or held by an expired slot reservation); the co-host listing entries follow."""
    record = moved.record
    ops.add(_versioned_put(record, moved.expected_version))
    now_hosts = [host.id for host in record.hosts]
    for host_id in set(moved.previous_host_ids) - set(now_hosts):
        ops.add(_Op("delete", HostBookingItem(*host_booking_key(host_id, moved.start_min, record.uid)),
                    (Part.HOST_BOOKING, host_id)))
    for host_id, bucket in moved.released_locks:
        ops.add(_Op("delete", LockItem(*lock_key(host_id, bucket)), (Part.RELEASE_LOCK, host_id),
                    LockItem.booking_uid == record.uid))
    for host_id, hb in moved.joining:
        ops.add(_Op("put", _host_booking_item(host_id, hb), (Part.HOST_BOOKING, host_id)))
    for host_id, bucket in moved.taken_locks:
        ops.add(_Op("put", LockItem(*lock_key(host_id, bucket), booking_uid=record.uid), (Part.LOCK, host_id),
                    _lock_free(now_s)))
    before, after = set(moved.previous_host_ids[1:]), set(now_hosts[1:])
    for host_id in before - after:
        ops.add(_Op("delete", CoHostItem(booking_key(record.uid)[0], f"HOST#{host_id}"), (Part.CO_HOST, host_id)))
    for host_id in after - before:
        ops.add(_Op("put", co_host_item(record, host_id), (Part.CO_HOST, host_id)))


def _host_booking_item(host_id: int, hb: HostBooking) -> HostBookingItem:
    return HostBookingItem(
        *host_booking_key(host_id, hb.start_min, hb.uid),
        uid=hb.uid,
        event_type_id=hb.event_type_id,
        start_min=hb.start_min,
        end_min=hb.end_min,
        busy_start_min=hb.busy_start_min,
        busy_end_min=hb.busy_end_min,
        status=hb.status,
    )

