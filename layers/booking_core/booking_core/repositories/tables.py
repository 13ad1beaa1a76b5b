"""PynamoDB models of the service's tables.

Main table (single-table design, key pk/sk, no Scan on any request path):

| item                     | pk                                 | sk                          |
|--------------------------|------------------------------------|-----------------------------|
| id counter               | COUNTER#<entity>                   | COUNTER                     |
| user profile             | USER#<id>                          | HC#PROFILE                  |
| schedule                 | USER#<userId>                      | HC#SCHEDULE#<id>            |
| calendar connection      | USER#<userId>                      | HC#CALENDAR#<id>            |
| out-of-office entry      | USER#<userId>                      | HC#OOO#<id:010>             |
| conferencing connection  | USER#<userId>                      | CONF#<type>                 |
| schedule pointer         | SCHEDULE#<id>                      | SCHEDULE                    |
| user email / domain index| USEREMAIL#<email> / USERDOMAIN#<d> | USER#<id>                   |
| host booking (busy)      | USER#<hostId>                      | HB#<startMin:010>#<uid>     |
| reservation hold (busy)  | USER#<hostId>                      | HB#<startMin:010>#<resUid>  |
| slot lock                | USER#<hostId>                      | LOCK#<bucketMin:010>        |
| event type               | EVENTTYPE#<id>                     | EVENTTYPE                   |
| private link             | EVENTTYPE#<id>                     | LINK#<linkId>               |
| booking                  | BOOKING#<uid>                      | BOOKING                     |
| seat of a booking        | BOOKING#<uid>                      | SEAT#<seatUid>              |
| co-host listing entry    | BOOKING#<uid>                      | HOST#<hostId>               |
| duplicate guard          | DUP#<typeId>#<startMin>#<email>    | DUP                         |
| round-robin counter      | RRCOUNT#<typeId>#<YYYY-MM>         | HOST#<hostId>               |
| booking-limit counter    | LIMIT#<typeId>#<period>            | LIMIT                       |
| booker's bookings        | BOOKER#<typeId>#<email>            | <startMin:010>#<uid>        |
| seat slot                | SEATSLOTS#<typeId>                 | <startMin:010>              |
| seat guard (one per email)| BOOKING#<uid>                     | SEATGUARD#<email>           |
| abuse-limit window       | RATE#<ip|email>#<subject>#<start>  | RATE                        |
| blocklist entry          | BLOCK#<type>#<value>               | BLOCK                       |
| blocklist listing        | BLOCKLIST                          | <id:010>                    |
| routing form response    | ROUTINGRESPONSE#<id>               | ROUTINGRESPONSE             |
| payment                  | PAYMENT#<paymentUid>               | PAYMENT                     |
| private-link use marker  | LINKUSE#<linkId>#<bookingUid>      | LINKUSE                     |
| slot reservation         | RESERVATION#<reservationUid>       | RESERVATION                 |
| workflow                 | WORKFLOW#<id>                      | WORKFLOW                    |
| workflow listing         | WORKFLOWS                          | <id:010>                    |
| workflow scope index     | WORKFLOWSCOPE#<all|eventType#n>    | <id:010>                    |
| webhooks                 | see repositories/webhooks.py       |                             |

`expiresAt` (epoch seconds) is the table's TTL attribute (template.yaml): DynamoDB deletes an item some time after
that moment (typically within a few days), so readers that care about the exact moment compare it themselves. Items
without it never expire. Webhook delivery records carry it (see repositories/webhooks.py), and so do out-of-office
entries (their end), slot reservations with their holds and locks (`reservationUntil`).

The pipeline and the services never build or read a key. Those they carry as opaque strings (the duplicate guard,
the booker index, booking-limit counters) come from keys.py, and a booking record keeps the ones it holds so that
its release finds them.

A user's partition, in sort-key order: CONF# (meeting-app connections), HB# (bookings and reservation holds, by
start), HC# (the configuration: profile, schedules, calendar connections, out-of-office entries), LOCK# (slot locks).
The configuration sorts right after the last host booking and before the locks ON PURPOSE: one strongly consistent
Query from HB#<window start - lookback> to HC#~ returns a host's busy time over a window and their configuration
together, which is what the booking path and GET /v2/slots need per host (one read per host, `host_window` in
repositories/bookings.py). The range also passes over the host's bookings after the window; a filter on
`busy_start_min`/`busy_end_min` (attributes only busy items have) keeps them out of the response, but DynamoDB still
reads them (read capacity, and the 1 MB a Query page evaluates: about 4,000 future bookings, beyond which the rest
is read by the window's own range and the configuration's: one or two more round trips, never a page per 1 MB of the
host's future). Locks, which accumulate with every past booking, stay outside the range.
`CONFIG_PREFIX` alone (begins_with HC#) is the configuration, for readers that want only that.

Slot reservations (written by repositories/bookings.py): a reservation holds the same lock items a booking of its
slot would (`reservationUid` and `expiresAt` instead of `bookingUid`) and one hold item per host in the host-booking
range, which the availability Query reads like a booking until `expiresAt`. Lock conditions accept a lock whose
`expiresAt` has passed, so an expired reservation frees its slot by itself; TTL only tidies.

Secondary indexes (listing bookings, `GET /v2/bookings`): every one is sorted by `startKey` = <startMin:010>#<uid>
(unique per booking, so a position in any of them is one string) and projects `status`, `endMin`, `eventTypeId`,
`hostIds`, `seated` and `seriesKey`, which a listing's filter reads; the booking document is fetched by key after.

| index       | partition key (attribute: value)        | items in it                                            |
|-------------|-----------------------------------------|--------------------------------------------------------|
| ByHost      | hostKey: HOST#<hostId>                   | bookings (their organizer), co-host listing entries    |
| ByAttendee  | attendeeKey: <attendee email, lower case>| bookings without seats (their attendee), seats         |
| ByEventType | typeKey: TYPE#<eventTypeId>              | bookings                                               |
| ByStart     | shardKey: SHARD#<0..3> (crc32 of uid)    | bookings: all bookings by start, over 4 partitions     |
| BySeries    | seriesKey: <recurringBookingUid>         | bookings of a recurring series                         |

A booking item carries every key it has, recomputed from the record on each write. A booking with several hosts
keeps one small co-host entry per further host (its organizer is on the booking item): entries never change with
the booking's status (they carry no `status`), so a status change writes no item per host; the booking document,
read after the index, decides. Seats carry their attendee's key (a seat holder lists the seats they hold).

Outbox table: one item per event (pk eventId), written in the booking's transaction; its stream feeds the publisher.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from booking_core.aws import client
from booking_core.concurrency import MAX_IN_FLIGHT
from booking_core.config import settings

_settings = settings()
# The main table's TTL attribute (TimeToLiveSpecification in template.yaml).
TTL_ATTRIBUTE = "expiresAt"


class _Meta:
    region = _settings.region
    host = _settings.dynamodb_endpoint
    max_pool_connections = MAX_IN_FLIGHT  # a gather's calls each hold one connection at a time
    connect_timeout_seconds = 2
    # DynamoDB answers a Query or GetItem in milliseconds however many run at once; the local stack's emulator
    # (an endpoint override) answers one request at a time, so the last of a round of a hundred waits for the others.
    read_timeout_seconds = 5 if _settings.dynamodb_endpoint is None else 60
    max_retry_attempts = 3


# What every listing index projects besides the keys: what a listing's filter reads (template.yaml has the same list).
LISTING_PROJECTION = ["status", "endMin", "eventTypeId", "hostIds", "seated", "seriesKey"]


def _listing_index(name: str, key: str) -> type[GlobalSecondaryIndex]:
    projected = [attribute for attribute in LISTING_PROJECTION if attribute != key]
    meta = type("Meta", (), {"index_name": name, "projection": IncludeProjection(projected)})
    return type(name, (GlobalSecondaryIndex,), {
        "Meta": meta,
        "partition": UnicodeAttribute(hash_key=True, attr_name=key),
        "start_key": UnicodeAttribute(range_key=True, attr_name="startKey"),
    })


ByHost = _listing_index("ByHost", "hostKey")
ByAttendee = _listing_index("ByAttendee", "attendeeKey")
ByEventType = _listing_index("ByEventType", "typeKey")
ByStart = _listing_index("ByStart", "shardKey")
BySeries = _listing_index("BySeries", "seriesKey")


class Item(Model):
    class Meta(_Meta):
        table_name = _settings.table_name

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    by_host = ByHost()
    by_attendee = ByAttendee()
    by_event_type = ByEventType()
    by_start = ByStart()
    by_series = BySeries()


class CounterItem(Item, discriminator="counter"):
    value = NumberAttribute(default=0)


class UserItem(Item, discriminator="user"):
    doc = JSONAttribute()
    version = NumberAttribute(default=1)
    last_active_at = UTCDateTimeAttribute(null=True)
    blocked = BooleanAttribute(default=False)


class UserIndexItem(Item, discriminator="user_index"):
    user_id = NumberAttribute()


class CalendarConnectionItem(Item, discriminator="calendar_connection"):
    """pk USER#<id>, sk HC#CALENDAR#<id>: loaded with the host's profile and schedules in one Query."""

    doc = JSONAttribute()
    credentials = UnicodeAttribute()  # sealed (booking_core.crypto, purpose calendar-credentials)


class ConferencingConnectionItem(Item, discriminator="conferencing_connection"):
    """pk USER#<id>, sk CONF#<type> (one per type, e.g. Zoom): read by the app-sync step only, so outside the
    profile's HC# range the booking path queries."""

    doc = JSONAttribute()
    connection_id = NumberAttribute()  # conditions: a replaced connection's late writes do not land
    credentials = UnicodeAttribute()  # sealed (booking_core.crypto, purpose conferencing-credentials)


class OutOfOfficeItem(Item, discriminator="out_of_office"):
    """pk USER#<id>, sk HC#OOO#<id>: loaded with the host's profile; DynamoDB's TTL removes it after its end."""

    doc = JSONAttribute()
    expires_at = NumberAttribute(attr_name=TTL_ATTRIBUTE)


class ScheduleItem(Item, discriminator="schedule"):
    doc = JSONAttribute()
    version = NumberAttribute(default=1)


class SchedulePointerItem(Item, discriminator="schedule_ptr"):
    user_id = NumberAttribute()


class EventTypeItem(Item, discriminator="event_type"):
    doc = JSONAttribute()
    version = NumberAttribute(default=1)


class PrivateLinkItem(Item, discriminator="private_link"):
    doc = JSONAttribute()
    usage_count = NumberAttribute(default=0)


class LinkUsageItem(Item, discriminator="link_usage"):
    booking_uid = UnicodeAttribute()


class BookingItem(Item, discriminator="booking"):
    doc = JSONAttribute()
    status = UnicodeAttribute()
    version = NumberAttribute(default=1)
    # the listing indexes' keys and what their filters read, derived from `doc` on every write
    host_key = UnicodeAttribute(null=True, attr_name="hostKey")
    attendee_key = UnicodeAttribute(null=True, attr_name="attendeeKey")
    type_key = UnicodeAttribute(null=True, attr_name="typeKey")
    shard_key = UnicodeAttribute(null=True, attr_name="shardKey")
    series_key = UnicodeAttribute(null=True, attr_name="seriesKey")
    start_key = UnicodeAttribute(null=True, attr_name="startKey")
    end_min = NumberAttribute(null=True, attr_name="endMin")
    event_type_id = NumberAttribute(null=True, attr_name="eventTypeId")
    host_ids = NumberSetAttribute(null=True, attr_name="hostIds")
    seated = BooleanAttribute(null=True)


class SeatItem(Item, discriminator="seat"):
    doc = JSONAttribute()
    attendee_key = UnicodeAttribute(null=True, attr_name="attendeeKey")  # the seat holder lists the seat
    start_key = UnicodeAttribute(null=True, attr_name="startKey")
    event_type_id = NumberAttribute(null=True, attr_name="eventTypeId")
    seated = BooleanAttribute(null=True)


class CoHostItem(Item, discriminator="cohost"):
    """A further host of a booking, in the ByHost index (the organizer is on the booking item). Never changes."""

    host_key = UnicodeAttribute(attr_name="hostKey")
    start_key = UnicodeAttribute(attr_name="startKey")
    end_min = NumberAttribute(attr_name="endMin")
    event_type_id = NumberAttribute(attr_name="eventTypeId")


class HostBookingItem(Item, discriminator="host_booking"):
    """One per host of an active booking: the interval it holds, for availability reads."""

    uid = UnicodeAttribute()
    event_type_id = NumberAttribute()
    start_min = NumberAttribute()
    end_min = NumberAttribute()
    busy_start_min = NumberAttribute()
    busy_end_min = NumberAttribute()
    status = UnicodeAttribute()


class LockItem(Item, discriminator="lock"):
    """A slot lock: held by a booking (`booking_uid`, no expiry) or by a slot reservation (`reservation_uid` until
    `expires_at`, epoch seconds: afterwards the lock is free for anyone)."""

    booking_uid = UnicodeAttribute(null=True)
    reservation_uid = UnicodeAttribute(null=True, attr_name="reservationUid")
    expires_at = NumberAttribute(null=True, attr_name=TTL_ATTRIBUTE)


class ReservationItem(Item, discriminator="reservation"):
    """pk RESERVATION#<uid>, sk RESERVATION: the reservation's document (its slot, hosts and lock keys)."""

    doc = JSONAttribute()
    version = NumberAttribute(default=1)
    expires_at = NumberAttribute(attr_name=TTL_ATTRIBUTE)


class ReservationHoldItem(Item, discriminator="reservation_hold"):
    """pk USER#<hostId>, sk HB#<startMin>#<reservationUid>: the interval a live reservation holds, read with the
    host's bookings (a sibling of HostBookingItem, so queries for bookings alone never see it)."""

    uid = UnicodeAttribute()
    event_type_id = NumberAttribute()
    start_min = NumberAttribute()
    end_min = NumberAttribute()
    busy_start_min = NumberAttribute()
    busy_end_min = NumberAttribute()
    expires_at = NumberAttribute(attr_name=TTL_ATTRIBUTE)


class DuplicateGuardItem(Item, discriminator="dup"):
    booking_uid = UnicodeAttribute()


class RoundRobinCountItem(Item, discriminator="rr_count"):
    count = NumberAttribute(default=0)


class LimitCountItem(Item, discriminator="limit_count"):
    count = NumberAttribute(default=0)
    minutes = NumberAttribute(default=0)


class BookerBookingItem(Item, discriminator="booker_booking"):
    uid = UnicodeAttribute()
    start_min = NumberAttribute()
    status = UnicodeAttribute()


class SeatSlotItem(Item, discriminator="seat_slot"):
    booking_uid = UnicodeAttribute()
    start_min = NumberAttribute()
    taken = NumberAttribute(default=0)
    capacity = NumberAttribute()


class SeatGuardItem(Item, discriminator="seat_guard"):
    seat_uid = UnicodeAttribute()


class RateCounterItem(Item, discriminator="rate_counter"):
    """An abuse-limit window's count; DynamoDB's TTL removes it after `expiresAt` (epoch seconds)."""

    count = NumberAttribute(default=0)
    expires_at = NumberAttribute(attr_name="expiresAt", null=True)


class BlocklistItem(Item, discriminator="blocklist"):
    doc = JSONAttribute()


class BlocklistIndexItem(Item, discriminator="blocklist_index"):
    entry_type = UnicodeAttribute()
    value = UnicodeAttribute()


class RoutingResponseItem(Item, discriminator="routing_response"):
    doc = JSONAttribute()


class PaymentItem(Item, discriminator="payment"):
    doc = JSONAttribute()
    status = UnicodeAttribute()


class WebhookItem(Item, discriminator="webhook"):
    doc = JSONAttribute()  # never the secret (items written before secrets were sealed may still hold it here)
    sealed_secret = UnicodeAttribute(null=True, attr_name="sealedSecret")  # booking_core.crypto, webhook-secret


class WebhookIndexItem(Item, discriminator="webhook_index"):
    webhook_id = NumberAttribute()


class DeliveryItem(Item, discriminator="webhook_delivery"):
    doc = JSONAttribute()
    status = UnicodeAttribute()
    attempts = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True, attr_name=TTL_ATTRIBUTE)


class WorkflowItem(Item, discriminator="workflow"):
    doc = JSONAttribute()
    version = NumberAttribute(default=1)


class WorkflowIndexItem(Item, discriminator="workflow_index"):
    workflow_id = NumberAttribute()


class OutboxItem(Model):
    class Meta(_Meta):
        table_name = _settings.outbox_table_name

    event_id = UnicodeAttribute(hash_key=True, attr_name="eventId")
    detail_type = UnicodeAttribute(attr_name="detailType")
    detail = UnicodeAttribute()
    created_at = UnicodeAttribute(attr_name="createdAt")
    expires_at = NumberAttribute(attr_name="expiresAt")


@lru_cache(maxsize=1)
def connection() -> Connection:
    """The connection for transactions spanning both tables (one per process, like the models' own)."""
    return Connection(region=_settings.region, host=_settings.dynamodb_endpoint,
                      max_pool_connections=MAX_IN_FLIGHT)


def availability_client() -> Any:
    """The DynamoDB client of the availability reads (`host_window`: a hundred Queries for a team's request), with
    the models' pool size, timeouts and retries. Its successful Query responses come back as DynamoDB sent them
    (`_as_sent`), not through botocore's response parser."""
    return client("dynamodb", "availability", _make_availability_client)


def _make_availability_client() -> Any:
    import boto3
    from botocore.config import Config

    made = boto3.client("dynamodb", region_name=_settings.region, endpoint_url=_settings.dynamodb_endpoint,
                        config=Config(parameter_validation=False, max_pool_connections=MAX_IN_FLIGHT,
                                      connect_timeout=_Meta.connect_timeout_seconds,
                                      read_timeout=_Meta.read_timeout_seconds,
                                      retries={"total_max_attempts": 1 + _Meta.max_retry_attempts,
                                               "mode": "standard"}))
    made.meta.events.register("before-parse.dynamodb.Query", _as_sent)
    return made


def _as_sent(response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any) -> None:
    """botocore's 'before-parse' hook: a successful Query response is DynamoDB's attribute-value JSON, which is what
    botocore's parser makes of it for every attribute type but binary (B and BS become bytes), after walking each
    attribute through the service model in Python: most of the CPU of a hundred-host request. So the body is handed
    back as json.loads reads it (botocore merges `customized_response_dict` into its result), and botocore parses an
    empty object instead. Errors, and a body holding a binary attribute, go through botocore's parser as usual (the
    key `"B":` cannot occur inside a JSON string, where every quote is escaped)."""
    body = response_dict.get("body")
    if response_dict.get("status_code") != 200 or not body or b'"B":' in body or b'"BS":' in body:
        return
    customized_response_dict.update(json.loads(body))
    response_dict["body"] = b"{}"


def user_pk(user_id: int) -> str:
    return f"USER#{user_id}"


# A user's configuration items (see the module docstring): between HB#<startMin:010>#<uid> and LOCK#, so that one
# Query covers a busy window and the configuration (tests/unit/test_key_layout.py checks the order).
CONFIG_PREFIX = "HC#"
HOST_BUSY_PREFIX = "HB#"
PROFILE_SK = f"{CONFIG_PREFIX}PROFILE"


def schedule_sk(schedule_id: int) -> str:
    return f"{CONFIG_PREFIX}SCHEDULE#{schedule_id}"


def calendar_sk(connection_id: int) -> str:
    return f"{CONFIG_PREFIX}CALENDAR#{connection_id}"


def out_of_office_sk(entry_id: int) -> str:
    return f"{CONFIG_PREFIX}OOO#{minute_key(entry_id)}"


def minute_key(minutes: int) -> str:
    return f"{minutes:010d}"


# -- listing index keys ---------------------------------------------------------------------------------------------
LISTING_SHARDS = 4  # ByStart partitions: every booking in one would make one hot partition of the whole service


def start_key(start_min: int, uid: str) -> str:
    """The sort key of every listing index: unique per booking, ordered by start."""
    return f"{minute_key(start_min)}#{uid}"


def host_key(host_id: int) -> str:
    return f"HOST#{host_id}"


def attendee_key(email: str) -> str:
    """The attendee path's key: the address as given, in lower case (a listing matches the mailbox exactly)."""
    return email.strip().lower()


def type_key(event_type_id: int) -> str:
    return f"TYPE#{event_type_id}"


def shard_key(uid: str) -> str:
    import zlib

    return f"SHARD#{zlib.crc32(uid.encode()) % LISTING_SHARDS}"


def shard_keys() -> list[str]:
    return [f"SHARD#{shard}" for shard in range(LISTING_SHARDS)]

