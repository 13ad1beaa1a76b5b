"""Slot reservations: a booker's browser holds a slot for a few minutes while the form is filled in.

A reservation holds exactly what a booking of its slot would: the same slot locks (the fixed hosts and the round-robin
host a booking would get, every occurrence of a recurring type) and the same busy interval per host, until
`reservationUntil`. Nobody else can book or reserve the slot meanwhile; the booking that passes the reservation's uid
takes the locks over in its own transaction and the reservation is gone. After `reservationUntil` the holds count
for nothing: lock conditions and availability both compare the expiry with the request's own clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, Field, field_validator

from booking_core.domain.bookings import LenientModel
from booking_core.domain.common import CamelModel, Id, UtcDatetime
from booking_core.timeutil import UTC

DEFAULT_RESERVATION_MINUTES = 5
MAX_RESERVATION_MINUTES = 15


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


class ReservationInput(LenientModel):
    event_type_id: Id
    slot_start: AwareDatetime
    slot_duration: int | None = Field(default=None, ge=1, le=1440, description="minutes; default: the type's length")
    reservation_duration: int = Field(default=DEFAULT_RESERVATION_MINUTES, ge=1, le=MAX_RESERVATION_MINUTES,
                                      description="minutes the slot is held")
    private_link: str | None = Field(default=None, max_length=200, description="for a hidden event type")

    _start = field_validator("slot_start")(_utc)


class ReservationPatch(LenientModel):
    slot_start: AwareDatetime | None = None
    reservation_duration: int | None = Field(default=None, ge=1, le=MAX_RESERVATION_MINUTES)

    _start = field_validator("slot_start")(_utc)


class Hold(CamelModel):
    """The interval one host is held for (one per host and occurrence), in epoch minutes."""

    host_id: int
    start_min: int
    end_min: int
    busy_start_min: int
    busy_end_min: int


class Reservation(CamelModel):
    uid: str
    event_type_id: int
    slot_start: UtcDatetime
    slot_end: UtcDatetime
    reservation_duration: int
    reservation_until: UtcDatetime
    created_at: UtcDatetime
    private_link: str | None = None
    host_ids: list[int] = Field(default_factory=list, description="the hosts a booking of the slot gets")
    lock_keys: list[tuple[int, int]] = Field(default_factory=list, description="(host id, bucket minute) held")
    holds: list[Hold] = Field(default_factory=list)
    version: int = 1

    @property
    def until_s(self) -> int:
        """Epoch seconds: the holds count until (not including) this second."""
        return int(self.reservation_until.timestamp())

    def is_live(self, now: datetime) -> bool:
        return self.until_s > int(now.timestamp())

    @property
    def length(self) -> int:
        return int((self.slot_end - self.slot_start).total_seconds() // 60)

    def public(self) -> dict[str, Any]:
        body = self.model_dump(mode="json", by_alias=True,
                               include={"event_type_id", "slot_start", "slot_end", "reservation_duration",
                                        "reservation_until"})
        return {"reservationUid": self.uid, **body}


def held_until(now: datetime, minutes: int) -> datetime:
    """The end of a hold of `minutes` from now, to the second (what the lock items store)."""
    return (now + timedelta(minutes=minutes)).replace(microsecond=0)
