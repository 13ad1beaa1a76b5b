"""Bookings: the public shape (docs/api.md "Booker API") and the stored record that extends it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from booking_core.domain.booking_fields import FieldLabel
from booking_core.domain.calendars import CalendarEvent, OnlineMeeting
from booking_core.domain.common import CamelModel, Email, Id, TimeZoneName, UtcDatetime, check_answers
from booking_core.timeutil import UTC

BookingStatus = Literal["accepted", "pending", "cancelled", "rejected"]
MAX_OCCURRENCES = 24  # the longest recurring series an event type may declare
MAX_TEAM_HOSTS = 100  # the most hosts an event type may have
MAX_GUESTS = 30  # on a booking, in all
ACTIVE_STATUSES: frozenset[str] = frozenset({"accepted", "pending"})


def normalize_phone(value: str) -> str:
    """An international number in any common formatting -> E.164. Raises ValueError otherwise."""
    import phonenumbers  # only requests with a phone number pay for loading its metadata

    text = value.strip()
    if not text.startswith("+"):
        raise ValueError("phone number must start with + and the country code, e.g. +44 20 7183 8750")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("phone number is not a valid international number") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("phone number is not a valid international number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class LenientModel(BaseModel):
    """Booker input: camelCase, unknown fields ignored so cal.com clients that send extra fields keep working."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True)


class AttendeeInput(LenientModel):
    name: str = Field(min_length=1, max_length=200)
    email: Email
    time_zone: TimeZoneName
    phone_number: str | None = Field(default=None, max_length=40)
    language: str = Field(default="en", min_length=2, max_length=16)

    @field_validator("phone_number")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalize_phone(value) if value is not None else None


class RoutingInput(LenientModel):
    response_id: Id
    team_member_ids: list[Id] | None = Field(default=None, max_length=MAX_TEAM_HOSTS)


class CreateBookingInput(LenientModel):
    start: AwareDatetime
    event_type_id: Id
    attendee: AttendeeInput
    guests: list[Email] = Field(default_factory=list, max_length=MAX_GUESTS)
    length_in_minutes: int | None = Field(default=None, ge=1, le=1440)
    location: str | None = Field(default=None, max_length=1000)
    metadata: dict[str, str] = Field(default_factory=dict)
    booking_fields_responses: dict[str, Any] = Field(default_factory=dict)
    routing: RoutingInput | None = None
    private_link: str | None = Field(default=None, max_length=200)
    recurrence_count: int | None = Field(default=None, ge=1, le=MAX_OCCURRENCES)
    is_dry_run: bool = False
    reservation_uid: str | None = Field(default=None, max_length=100,
                                        description="the booker's slot reservation of this very slot: consumed")

    @field_validator("booking_fields_responses")
    @classmethod
    def _responses(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_answers(value, "bookingFieldsResponses")

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 50:
            raise ValueError("metadata allows at most 50 keys")
        for key, item in value.items():
            if len(key) > 40 or len(item) > 500:
                raise ValueError("metadata keys are at most 40 characters and values at most 500")
        return value

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


class RescheduleInput(LenientModel):
    start: AwareDatetime
    rescheduled_by: Email | None = None
    rescheduling_reason: str | None = Field(default=None, max_length=2000)
    seat_uid: str | None = Field(default=None, max_length=100)

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


class CancelInput(LenientModel):
    cancellation_reason: str | None = Field(default=None, max_length=2000)
    seat_uid: str | None = Field(default=None, max_length=100)
    cancel_subsequent_bookings: bool = False  # a recurring series: this occurrence and every later one


# -- host operations (management bodies: unknown fields are errors) ---------------------------------------------------
class AbsentAttendee(CamelModel):
    email: Email
    absent: bool


class MarkAbsentInput(CamelModel):
    host: bool | None = None
    attendees: list[AbsentAttendee] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _something(self) -> MarkAbsentInput:
        if self.host is None and not self.attendees:
            raise ValueError("say who was absent: host and/or attendees")
        return self


class ReassignInput(CamelModel):
    user_id: Id | None = None
    reason: str | None = Field(default=None, max_length=2000)


class RequestRescheduleInput(CamelModel):
    reason: str | None = Field(default=None, max_length=2000)


class GuestInput(CamelModel):
    email: Email
    name: str | None = Field(default=None, max_length=200)


class AddGuestsInput(CamelModel):
    guests: list[GuestInput] = Field(min_length=1, max_length=MAX_GUESTS)


class LocationInput(CamelModel):
    location: str = Field(min_length=1, max_length=1000)


class DeclineInput(LenientModel):
    reason: str | None = Field(default=None, max_length=2000)


class Attendee(CamelModel):
    name: str
    email: str
    time_zone: str
    language: str = "en"
    phone_number: str | None = None
    absent: bool = False  # a no-show, as the host recorded it (mark-absent)


class HostRef(CamelModel):
    id: int
    name: str
    email: str
    time_zone: str
    locale: str = "en"


class EventTypeRef(CamelModel):
    id: int
    slug: str


class AssignmentReason(CamelModel):
    routing_form_response_id: int
    reason: str


ReferenceType = Literal["caldav", "google_calendar", "office365_calendar", "jitsi", "google_meet", "office365_video",
                        "zoom"]
CALENDAR_REFERENCE_TYPE: dict[str, str] = {"caldav": "caldav", "google": "google_calendar",
                                           "office365": "office365_calendar"}
CALENDAR_REFERENCES: frozenset[str] = frozenset(CALENDAR_REFERENCE_TYPE.values())


class Reference(CamelModel):
    """Where the booking lives outside the service: the event in the organizer's calendar (caldav: the event URL,
    google_calendar / office365_calendar: the event id) and the online meeting (jitsi: the room, google_meet: the
    conference id, office365_video: the event holding the Teams meeting, zoom: the meeting id), with its link."""

    type: ReferenceType
    uid: str
    meeting_url: str | None = None


# Optional booking fields shown only when they apply (the contract marks them with "?").
OPTIONAL_FIELDS = ("seatUid", "seatsRemaining", "recurringBookingUid", "paymentRequired", "paymentUid",
                   "assignmentReason", "references", "isDryRun", "iCalUID", "rescheduleRequested")


class Booking(CamelModel):
    """The booking as users see it."""

    id: int
    uid: str
    title: str
    description: str | None = None
    status: BookingStatus
    start: UtcDatetime
    end: UtcDatetime
    duration: int
    event_type_id: int
    event_type: EventTypeRef
    hosts: list[HostRef]
    attendees: list[Attendee]
    guests: list[str] = Field(default_factory=list)
    location: str | None = None
    meeting_url: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    booking_fields_responses: dict[str, Any] = Field(default_factory=dict)
    created_at: UtcDatetime
    updated_at: UtcDatetime
    cancellation_reason: str | None = None
    rescheduling_reason: str | None = None
    rescheduled_from_uid: str | None = None
    rescheduled_to_uid: str | None = None
    seat_uid: str | None = None
    seats_remaining: int | None = None
    recurring_booking_uid: str | None = None
    payment_required: bool | None = None
    payment_uid: str | None = None
    assignment_reason: AssignmentReason | None = None
    references: list[Reference] | None = None
    is_dry_run: bool | None = None
    ical_uid: str | None = Field(default=None, alias="iCalUID")
    ical_sequence: int = Field(default=0, alias="iCalSequence")
    absent_host: bool = False
    reschedule_requested: bool | None = None  # the host asked the booker to pick another time (request-reschedule)


class BookingRecord(Booking):
    """What is stored: the public booking plus what the service needs to release and describe it later."""

    busy_start_min: int = Field(description="start of the lock-grid interval the booking holds (epoch minutes)")
    busy_end_min: int
    lock_keys: list[tuple[int, int]] = Field(default_factory=list, description="(host id, bucket minute) held")
    duplicate_key: str | None = None
    routing_form_response_id: int | None = None
    private_link: str | None = None
    version: int = 1
    before_buffer: int = 0
    after_buffer: int = 0
    booker_email: str | None = Field(default=None, description="the attendee email as used for matching")
    paid: bool = False
    needs_confirmation: bool = False
    price_amount: int | None = None
    price_currency: str | None = None
    seats_capacity: int | None = None
    show_attendee_info: bool = False
    limit_keys: list[str] = Field(default_factory=list, description="booking-limit counters this booking counts in")
    round_robin_key: tuple[int, str, int] | None = None
    rescheduled_by: str | None = None
    team_member_ids: list[int] | None = None
    reminder_minutes: list[int] = Field(default_factory=list, description="reminders scheduled for this booking")
    calendar_event: CalendarEvent | None = None
    meeting_app: str | None = Field(default=None, description="the meeting app the app-sync step makes a meeting in")
    online_meeting: OnlineMeeting | None = None
    booking_fields: list[FieldLabel] | None = Field(default=None, description="the type's questions when booked")

    @property
    def organizer(self) -> HostRef:
        return self.hosts[0]

    @property
    def is_seated(self) -> bool:
        return self.seats_capacity is not None

    def public(self) -> dict[str, Any]:
        body = self.model_dump(mode="json", by_alias=True, include=set(Booking.model_fields), exclude_none=False)
        for key in OPTIONAL_FIELDS:
            if body.get(key) is None:
                body.pop(key, None)
        return body


def is_active(status: str) -> bool:
    return status in ACTIVE_STATUSES


__all__ = [
    "ACTIVE_STATUSES",
    "Attendee",
    "AttendeeInput",
    "Booking",
    "BookingRecord",
    "CreateBookingInput",
    "EventTypeRef",
    "HostRef",
    "RoutingInput",
    "normalize_phone",
]
