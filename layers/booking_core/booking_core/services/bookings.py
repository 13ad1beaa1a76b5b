"""Reading bookings for the booker API."""

from __future__ import annotations

from typing import Any

from booking_core.errors import not_found
from booking_core.ports import BookingStore


def get_booking(store: BookingStore, uid: str) -> dict[str, Any]:
    record = store.get_booking(uid)
    if record is None:
        raise not_found("booking_not_found_error", f"booking {uid}")
    return record.public()
