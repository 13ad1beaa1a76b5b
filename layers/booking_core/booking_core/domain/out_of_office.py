"""Out of office: a host away from `start` to `end` has no availability for any event type then."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator

from booking_core.domain.common import CamelModel, Id, UtcDatetime
from booking_core.timeutil import UTC, to_minutes

MAX_CURRENT_ENTRIES = 100  # entries a user may have that have not ended yet (all of them load with the host)


class OutOfOfficeInput(CamelModel):
    start: AwareDatetime
    end: AwareDatetime
    reason: str | None = Field(default=None, max_length=500)
    redirect_to_user_id: Id | None = Field(default=None, description="another user who takes the bookings meanwhile")

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime, info: ValidationInfo) -> datetime:
        value = value.astimezone(UTC)
        start = info.data.get("start")
        if info.field_name == "end" and start is not None and value <= start:
            raise ValueError("must be after start")
        return value


class OutOfOffice(CamelModel):
    id: int
    user_id: int
    start: UtcDatetime
    end: UtcDatetime
    reason: str | None = None
    redirect_to_user_id: int | None = None
    created_at: UtcDatetime

    @property
    def start_min(self) -> int:
        return to_minutes(self.start)

    @property
    def end_min(self) -> int:
        return to_minutes(self.end)

    def overlaps(self, start_min: int, end_min: int) -> bool:
        return self.start_min < end_min and start_min < self.end_min

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude={"created_at"})


def away_during(entries: list[OutOfOffice], start_min: int, end_min: int) -> OutOfOffice | None:
    """The entry (the earliest starting) that covers part of [start_min, end_min), if any."""
    covering = [entry for entry in entries if entry.overlaps(start_min, end_min)]
    return min(covering, key=lambda entry: entry.start_min) if covering else None
