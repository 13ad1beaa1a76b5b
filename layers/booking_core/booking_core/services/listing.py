"""Listing bookings: `GET /v2/bookings` (admin) and `GET /v2/me/bookings` (the signed-in booker's own).

Filters combine with AND; `status` is a comma-separated list of categories, any of which a booking may be in:
`upcoming` (accepted or pending, end >= now), `unconfirmed` (pending, end >= now), `past` (end < now, neither cancelled
nor rejected), `cancelled` (cancelled or rejected), `recurring` (upcoming and part of a series). The index narrows
(repositories/listing.py); every row is checked here against the booking itself, so the answer is exact.

A page evaluates at most `take` index entries (per partition) and reads their documents: it may hold fewer than
`take` bookings (even none) while `hasNextPage` is true, and it stops early rather than answer over
MAX_PAGE_BYTES. The cursor is opaque: the position where the page ended, sealed with AES-GCM under a key derived
from the deployment's admin key and bound to the query's filters (another query's cursor, or a changed one, is a 400).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from booking_core.domain.bookings import BookingRecord
from booking_core.domain.seats import seated_view
from booking_core.errors import invalid
from booking_core.ports import BookingListing, ListCriteria, ListedRow, Position
from booking_core.timeutil import to_minutes

CATEGORIES = ("upcoming", "unconfirmed", "past", "cancelled", "recurring")
DEFAULT_TAKE, MAX_TAKE = 100, 250
MAX_PAGE_BYTES = 5 * 1024 * 1024  # Lambda answers at most 6 MB: a page of large bookings stops before that
_CURSOR_CONTEXT = b"booking-list-cursor/v1"


def parse_statuses(value: str | None) -> frozenset[str]:
    if not value:
        return frozenset()
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in CATEGORIES]
    if unknown:
        raise invalid("status", f"unknown status {unknown[0]!r}: use {', '.join(CATEGORIES)}")
    return frozenset(names)


def parse_instant(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise invalid(field, "must be an ISO 8601 instant, e.g. 2026-12-01T09:00:00Z") from None
    if moment.tzinfo is None:
        raise invalid(field, "needs a UTC offset or Z")
    return moment


@dataclass(frozen=True, slots=True)
class Filters:
    """What the caller asked for, as given (instants kept exact for the final check)."""

    statuses: frozenset[str] = frozenset()
    attendee_email: str | None = None
    event_type_id: int | None = None
    host_id: int | None = None
    after_start: datetime | None = None
    before_end: datetime | None = None
    descending: bool = False

    def criteria(self, now: datetime) -> ListCriteria:
        return ListCriteria(
            now_min=to_minutes(now), host_id=self.host_id, attendee_email=self.attendee_email,
            event_type_id=self.event_type_id, statuses=self.statuses,
            after_start_min=-(-int(self.after_start.timestamp()) // 60) if self.after_start else None,
            before_end_min=int(self.before_end.timestamp()) // 60 if self.before_end else None,
            descending=self.descending)

    def fingerprint(self, audience: str) -> str:
        data = {**asdict(self), "statuses": sorted(self.statuses), "audience": audience,
                "after_start": self.after_start.timestamp() if self.after_start else None,
                "before_end": self.before_end.timestamp() if self.before_end else None}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]


def _in_category(record: BookingRecord, name: str, now: datetime) -> bool:
    active = record.status in ("accepted", "pending")
    if name == "cancelled":
        return record.status in ("cancelled", "rejected")
    if name == "past":
        return active and record.end < now
    if name == "unconfirmed":
        return record.status == "pending" and record.end >= now
    upcoming = active and record.end >= now
    return upcoming and (name == "upcoming" or record.recurring_booking_uid is not None)


def matches(row: ListedRow, filters: Filters, now: datetime) -> bool:
    """The final word on a row: every filter, on the booking as stored now."""
    record = row.record
    if filters.statuses and not any(_in_category(record, name, now) for name in filters.statuses):
        return False
    if filters.event_type_id is not None and record.event_type_id != filters.event_type_id:
        return False
    if filters.host_id is not None and filters.host_id not in {host.id for host in record.hosts}:
        return False
    if filters.attendee_email is not None:
        wanted = filters.attendee_email.strip().lower()
        emails = [row.seat.attendee.email] if row.seat else ([] if record.is_seated else
                                                             [a.email for a in record.attendees])
        if wanted not in {email.lower() for email in emails}:
            return False
    if filters.after_start is not None and record.start < filters.after_start:
        return False
    return filters.before_end is None or record.end <= filters.before_end


def view(row: ListedRow) -> dict[str, Any]:
    """A seated booking shows the seat the row stands for (the caller's own on /v2/me/bookings), else no attendee:
    its full attendee list is GET /v2/bookings/{uid} with the admin key (a page stays bounded whatever the seats)."""
    record = row.record
    if not record.is_seated:
        return record.public()
    return seated_view(record, [], row.seat, taken=row.seats_taken or 0).public()


# -- the cursor ---------------------------------------------------------------------------------------------------
def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _CURSOR_CONTEXT, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def seal_cursor(position: Position, fingerprint: str, secret: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    plain = json.dumps({"p": list(position), "f": fingerprint}, separators=(",", ":")).encode()
    return _b64(nonce + AESGCM(_key(secret)).encrypt(nonce, plain, _CURSOR_CONTEXT))


def open_cursor(cursor: str, fingerprint: str, secret: str) -> Position:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        plain = json.loads(AESGCM(_key(secret)).decrypt(raw[:12], raw[12:], _CURSOR_CONTEXT))
        minute, uid = plain["p"]
        found = plain["f"]
    except (InvalidTag, ValueError, TypeError, KeyError, UnicodeError):
        raise invalid("cursor", "not a cursor this listing issued (take nextCursor from the previous page)") from None
    if not isinstance(minute, int) or not isinstance(uid, str) or found != fingerprint:
        raise invalid("cursor", "this cursor belongs to a listing with other filters: keep the filters unchanged")
    return minute, uid


# -- the listing --------------------------------------------------------------------------------------------------
def list_bookings(listing: BookingListing, filters: Filters, now: datetime, take: int, cursor: str | None,
                  secret: str, audience: str = "admin") -> dict[str, Any]:
    """`{status, data, pagination: {returnedItems, hasNextPage, nextCursor}}`. `audience` is "admin" or the
    signed-in booker ("me:<email>"): a cursor is valid only for the audience and filters that issued it."""
    fingerprint = filters.fingerprint(audience)
    after = open_cursor(cursor, fingerprint, secret) if cursor else None
    page = listing.page(filters.criteria(now), after, take)
    data: list[dict[str, Any]] = []
    size, end, last = 0, page.end, None
    for row in page.rows:
        if not matches(row, filters, now):
            continue
        body = view(row)
        size += len(json.dumps(body))
        if last is not None and size > MAX_PAGE_BYTES:
            end = last  # the next page starts after the last booking this one holds
            break
        data.append(body)
        last = row.position
    return {"status": "success", "data": data,
            "pagination": {"returnedItems": len(data), "hasNextPage": end is not None,
                           "nextCursor": seal_cursor(end, fingerprint, secret) if end is not None else None}}


__all__ = ["CATEGORIES", "DEFAULT_TAKE", "MAX_TAKE", "Filters", "list_bookings", "matches", "open_cursor",
           "parse_instant", "parse_statuses", "seal_cursor", "view"]
