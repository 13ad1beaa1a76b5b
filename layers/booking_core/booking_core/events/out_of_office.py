"""outOfOfficeCreated: a host's out-of-office entry was created. Its detail carries the entry, its user and the user
bookings go to meanwhile (not a booking: the booking path never imports this module)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from booking_core.config import EVENT_SOURCE
from booking_core.domain.out_of_office import OutOfOffice
from booking_core.domain.users import User
from booking_core.events.contracts import OUT_OF_OFFICE_CREATED, _EventModel, _serialised
from booking_core.ports import OutboxEvent
from booking_core.timeutil import iso_z


class UserRef(_EventModel):
    id: int
    name: str
    email: str
    time_zone: str


class OutOfOfficeEntry(_EventModel):
    id: int
    user_id: int
    start: datetime
    end: datetime
    reason: str | None = None
    redirect_to_user_id: int | None = None
    created_at: datetime


class OutOfOfficeDetail(_EventModel):
    """outOfOfficeCreated: the entry, its user and the user bookings are redirected to (if any)."""

    event_id: str
    version: Literal[1] = 1
    occurred_at: datetime
    out_of_office: OutOfOfficeEntry
    user: UserRef
    redirect_to_user: UserRef | None = None


class OutOfOfficeEvent(_EventModel):
    id: str | None = None
    detail_type: Literal["outOfOfficeCreated"] = Field(alias="detail-type")
    source: str = EVENT_SOURCE
    time: datetime | None = None
    account: str | None = None
    detail: OutOfOfficeDetail

    @property
    def event_id(self) -> str:
        return self.detail.event_id


def _user_ref(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "email": user.email, "timeZone": user.time_zone}


def out_of_office_event(entry: OutOfOffice, user: User, redirect_to: User | None, occurred_at: datetime) -> OutboxEvent:
    """The outbox item for a new out-of-office entry, written in the entry's own transaction."""
    event_id = str(uuid.uuid4())
    detail = {
        "eventId": event_id,
        "version": 1,
        "occurredAt": iso_z(occurred_at),
        "outOfOffice": entry.model_dump(mode="json", by_alias=True),
        "user": _user_ref(user),
        "redirectToUser": _user_ref(redirect_to) if redirect_to else None,
    }
    return OutboxEvent(event_id=event_id, detail_type=OUT_OF_OFFICE_CREATED, detail_json=_serialised(detail),
                       created_at=iso_z(occurred_at))
