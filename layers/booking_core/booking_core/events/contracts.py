"""The booking events on the bus: detail types, the `detail` document and its parsed, typed form."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from booking_core.config import EVENT_SOURCE
from booking_core.domain.booking_fields import FieldLabel
from booking_core.domain.bookings import Booking, BookingRecord, HostRef
from booking_core.ports import OutboxEvent
from booking_core.timeutil import iso_z

DetailType = Literal[
    "bookingCreated",
    "bookingRequested",
    "bookingPaymentInitiated",
    "bookingConfirmed",
    "bookingRejected",
    "bookingPaid",
    "bookingRescheduled",
    "bookingCancelled",
    "bookingMeetingCreated",
    "bookingNoShowUpdated",
    "bookingReassigned",
    "bookingUpdated",
]
DETAIL_TYPES: tuple[str, ...] = DetailType.__args__  # type: ignore[attr-defined]
TriggeredBy = Literal["booker", "host", "system"]
# The app-sync step's follow-up when it has made a booking's meeting (Meet, Teams, Zoom) and the link is on the
# booking: `booking` carries the link, `previousBooking` and `context` are those of the change that caused it, and
# `context.causeEventId` / `causeDetailType` name that change. The emails and webhooks held for the link go out on
# it (no webhook trigger of its own).
MEETING_CREATED = "bookingMeetingCreated"

# Events EventBridge Scheduler puts on the bus at a booking's moments (one-time schedules). `workflowStepDue` is a
# workflow's timed step for one booking (it names the workflow and the step).
SCHEDULER_SOURCE = f"{EVENT_SOURCE}.scheduler"
ScheduledType = Literal["meetingStarted", "meetingEnded", "reminderDue", "workflowStepDue"]
SCHEDULED_TYPES: tuple[str, ...] = ScheduledType.__args__  # type: ignore[attr-defined]
# A host's out-of-office entry was created (not a booking change: its detail carries the entry and its users; the
# models are in events/out_of_office.py, which the booking path does not import).
OUT_OF_OFFICE_CREATED = "outOfOfficeCreated"


class _EventModel(BaseModel):
    # Consumers tolerate fields added later (additive changes keep version 1).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True)


class NoShowAttendee(_EventModel):
    email: str
    no_show: bool


class NoShowChange(_EventModel):
    """What a mark-absent request set (bookingNoShowUpdated): the host's flag when given, and the attendees named."""

    host: bool | None = None
    attendees: list[NoShowAttendee] = Field(default_factory=list)


class EventContext(_EventModel):
    private_link: str | None = None
    routing_form_response_id: int | None = None
    seat_uid: str | None = None
    triggered_by: TriggeredBy = "booker"
    cause_event_id: str | None = None  # bookingMeetingCreated only: the change it follows
    cause_detail_type: str | None = None
    no_show: NoShowChange | None = None  # bookingNoShowUpdated only
    reassign_reason: str | None = None  # bookingReassigned only: the host's reason, when given


class EventBooking(Booking):
    """The booking as published: the public booking plus its organizer, price and who rescheduled it."""

    model_config = ConfigDict(extra="ignore")

    organizer: HostRef
    attendees_total: int | None = None  # set when `attendees` was cut (see BookingEventDetail.truncated)
    price: int | None = None
    currency: str | None = None
    rescheduled_by: str | None = None
    booking_fields: list[FieldLabel] | None = None  # the type's questions: labels of bookingFieldsResponses


class BookingSummary(_EventModel):
    """`previousBooking` cut to what changed, in an event that would otherwise be too large (`truncated`)."""

    id: int
    uid: str
    status: str
    start: datetime
    end: datetime
    duration: int | None = None
    event_type_id: int | None = None
    location: str | None = None
    meeting_url: str | None = None
    rescheduled_to_uid: str | None = None
    rescheduled_from_uid: str | None = None
    ical_uid: str | None = Field(default=None, alias="iCalUID")
    ical_sequence: int = Field(default=0, alias="iCalSequence")
    seat_uid: str | None = None
    organizer: HostRef | None = None


class BookingEventDetail(_EventModel):
    event_id: str
    version: Literal[1] = 1
    occurred_at: datetime
    booking: EventBooking
    previous_booking: EventBooking | BookingSummary | None = None
    context: EventContext = Field(default_factory=EventContext)
    truncated: list[str] = Field(default_factory=list, description="parts cut to keep the event publishable")


class BookingEvent(_EventModel):
    """A bus event as a subscriber receives it (EventBridge envelope fields that matter, with a typed detail)."""

    id: str | None = None
    detail_type: DetailType = Field(alias="detail-type")
    source: str = EVENT_SOURCE
    time: datetime | None = None
    account: str | None = None  # absent in some emulated envelopes
    detail: BookingEventDetail

    @property
    def event_id(self) -> str:
        return self.detail.event_id


class ScheduledDetail(_EventModel):
    """What a one-time schedule carries: which booking and moment. Handlers re-read the booking when it fires."""

    event_id: str
    version: Literal[1] = 1
    booking_uid: str
    scheduled_for: datetime
    minutes_before: int | None = None
    workflow_id: int | None = Field(default=None, description="workflowStepDue: the workflow")
    step: int | None = Field(default=None, description="workflowStepDue: the step's index in the workflow (from 0)")


class ScheduledEvent(_EventModel):
    id: str | None = None
    detail_type: ScheduledType = Field(alias="detail-type")
    source: str = SCHEDULER_SOURCE
    time: datetime | None = None
    account: str | None = None
    detail: ScheduledDetail

    @property
    def event_id(self) -> str:
        return self.detail.event_id


def published_booking(record: BookingRecord) -> dict[str, Any]:
    body = record.public()
    body["organizer"] = record.organizer.model_dump(mode="json", by_alias=True)
    body["price"] = record.price_amount
    body["currency"] = record.price_currency
    body["rescheduledBy"] = record.rescheduled_by
    if record.booking_fields:
        body["bookingFields"] = [label.dump() for label in record.booking_fields]
    return body


# PutEvents takes at most 256 KB per request, counting Source, DetailType and Detail of every entry. A detail stays
# well under it, so one event always fits a request of its own and an outbox item stays far from DynamoDB's 400 KB.
MAX_DETAIL_BYTES = 200 * 1024
# What `previousBooking` keeps when the event would be too large: enough to know what changed.
PREVIOUS_SUMMARY = ("id", "uid", "status", "start", "end", "duration", "eventTypeId", "location", "meetingUrl",
                    "rescheduledToUid", "rescheduledFromUid", "iCalUID", "iCalSequence", "seatUid", "organizer")


def _serialised(detail: dict[str, Any]) -> str:
    return json.dumps(detail, separators=(",", ":"))  # ASCII: its length is its size in bytes


def _size(detail: dict[str, Any]) -> int:
    return len(_serialised(detail))


def fit(detail: dict[str, Any]) -> dict[str, Any]:
    """Keep the detail within MAX_DETAIL_BYTES: first `previousBooking` shrinks to its summary, then the attendee
    list (a large seated booking) is cut, and `detail.truncated` names what was cut so a consumer that needs all
    of it reads the booking. Everything the schema bounds is far smaller; this is the guarantee."""
    if _size(detail) <= MAX_DETAIL_BYTES:
        return detail
    truncated: list[str] = []
    previous = detail.get("previousBooking")
    if previous:
        detail["previousBooking"] = {key: previous.get(key) for key in PREVIOUS_SUMMARY if key in previous}
        truncated.append("previousBooking")
    attendees = detail["booking"].get("attendees") or []
    if _size(detail) > MAX_DETAIL_BYTES and attendees:
        detail["booking"]["attendeesTotal"] = len(attendees)
        while attendees and _size(detail) > MAX_DETAIL_BYTES - 64:
            attendees = attendees[: len(attendees) * 3 // 4]
            detail["booking"]["attendees"] = attendees
        truncated.append("booking.attendees")
    detail["truncated"] = truncated
    return detail


# Context fields that only some events carry: left out of the others.
_CONTEXT_WHEN_SET = ("cause_event_id", "cause_detail_type", "no_show", "reassign_reason")


def new_event(
    detail_type: DetailType,
    booking: BookingRecord,
    *,
    occurred_at: datetime,
    previous: BookingRecord | None = None,
    context: EventContext | None = None,
) -> OutboxEvent:
    """Build the outbox item for one booking change; it is written in the same transaction as the change."""
    event_id = str(uuid.uuid4())
    detail = fit({
        "eventId": event_id,
        "version": 1,
        "occurredAt": iso_z(occurred_at),
        "booking": published_booking(booking),
        "previousBooking": published_booking(previous) if previous else None,
        "context": (context or EventContext()).model_dump(mode="json", by_alias=True,
                                                          exclude={k for k in _CONTEXT_WHEN_SET
                                                                   if getattr(context, k, None) is None}),
    })
    return OutboxEvent(
        event_id=event_id,
        detail_type=detail_type,
        detail_json=_serialised(detail),
        created_at=iso_z(occurred_at),
    )
