"""Event types: what can be booked, with whom, and under which rules."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from booking_core.domain.booking_fields import MAX_BOOKING_FIELDS, BookingField
from booking_core.domain.bookings import MAX_OCCURRENCES, MAX_TEAM_HOSTS
from booking_core.domain.common import CamelModel, Id

SchedulingType = Literal["collective", "roundRobin"]
MAX_LIMIT = 1_000_000  # booking-limit counts and minutes
MAX_NOTICE_MINUTES = 5 * 366 * 1440  # notices longer than five years mean nothing is bookable


class EventTypeHost(CamelModel):
    user_id: Id
    mandatory: bool = False
    priority: int = Field(default=2, ge=0, le=4)
    weight: int = Field(default=100, ge=0, le=10_000)


class BookingWindow(CamelModel):
    type: Literal["businessDays", "calendarDays", "range"]
    value: int | list[date]
    rolling: bool = False

    @model_validator(mode="after")
    def _shape(self) -> BookingWindow:
        if self.type == "range":
            if not isinstance(self.value, list) or len(self.value) != 2 or self.value[0] > self.value[1]:
                raise ValueError("a range window needs value: [firstDate, lastDate]")
        elif not isinstance(self.value, int) or self.value < 0:
            raise ValueError(f"a {self.type} window needs a non-negative integer value")
        return self


class PeriodLimits(CamelModel):
    day: int | None = Field(default=None, ge=1, le=MAX_LIMIT)
    week: int | None = Field(default=None, ge=1, le=MAX_LIMIT)
    month: int | None = Field(default=None, ge=1, le=MAX_LIMIT)
    year: int | None = Field(default=None, ge=1, le=MAX_LIMIT)


class BookerActiveBookingsLimit(CamelModel):
    maximum_active_bookings: int = Field(ge=1, le=1000)
    offer_reschedule: bool = False


class NoticeThreshold(CamelModel):
    unit: Literal["minutes", "hours", "days"]
    count: int = Field(ge=0, le=100_000)

    def minutes(self) -> int:
        return self.count * {"minutes": 1, "hours": 60, "days": 1440}[self.unit]


class ConfirmationPolicy(CamelModel):
    type: Literal["always", "time"]
    notice_threshold: NoticeThreshold | None = None

    @model_validator(mode="after")
    def _threshold(self) -> ConfirmationPolicy:
        if self.type == "time" and self.notice_threshold is None:
            raise ValueError("a time confirmation policy needs noticeThreshold")
        return self


class Seats(CamelModel):
    seats_per_time_slot: int = Field(ge=1, le=1000)
    show_attendee_info: bool = False


class Recurrence(CamelModel):
    frequency: Literal["daily", "weekly", "monthly"]
    interval: int = Field(ge=1, le=99)
    occurrences: int = Field(ge=1, le=MAX_OCCURRENCES)


class Money(CamelModel):
    amount: int = Field(ge=0, le=99_999_999)  # Stripe's largest charge in minor units
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class LinkLocation(CamelModel):
    type: Literal["link"]
    link: str = Field(min_length=1, max_length=1000)


class AddressLocation(CamelModel):
    type: Literal["address"]
    address: str = Field(min_length=1, max_length=1000)


class PhoneLocation(CamelModel):
    type: Literal["phone"]
    phone: str = Field(min_length=1, max_length=100)


class IntegrationLocation(CamelModel):
    """A meeting app: `jitsi` (a room made at booking time), or `google-meet`, `office365-video` (Teams), `zoom`
    (made for the organizer through their Google, Microsoft 365 or Zoom connection after the booking is made)."""

    type: Literal["integration"]
    integration: Literal["jitsi", "google-meet", "office365-video", "zoom"]


Location = Annotated[
    LinkLocation | AddressLocation | PhoneLocation | IntegrationLocation, Field(discriminator="type")
]


class Reminder(CamelModel):
    minutes_before: int = Field(ge=1, le=60 * 24 * 30)
    channel: Literal["email"] = "email"


class EventTypeFields(CamelModel):
    """Every field of an event type; create and patch validate the merged result with EventTypeInput."""

    title: str = Field(min_length=1, max_length=200)
    slug: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")
    length_in_minutes: int = Field(ge=1, le=1440)
    length_in_minutes_options: list[int] | None = Field(default=None, max_length=20)
    description: str | None = Field(default=None, max_length=5000)
    owner_id: Id | None = None
    scheduling_type: SchedulingType | None = None
    hosts: list[EventTypeHost] = Field(default_factory=list, max_length=MAX_TEAM_HOSTS)
    schedule_id: Id | None = None
    slot_interval: int | None = Field(default=None, ge=1, le=1440)
    minimum_booking_notice: int = Field(default=0, ge=0, le=MAX_NOTICE_MINUTES)
    before_event_buffer: int = Field(default=0, ge=0, le=720)
    after_event_buffer: int = Field(default=0, ge=0, le=720)
    booking_window: BookingWindow | None = None
    booking_limits_count: PeriodLimits | None = None
    booking_limits_duration: PeriodLimits | None = None
    booker_active_bookings_limit: BookerActiveBookingsLimit | None = None
    confirmation_policy: ConfirmationPolicy | None = None
    seats: Seats | None = None
    recurrence: Recurrence | None = None
    price: Money | None = None
    hidden: bool = False
    disable_guests: bool = False
    locations: list[Location] = Field(default_factory=list, max_length=10)
    reminders: list[Reminder] | None = Field(default=None, max_length=10)
    minimum_reschedule_notice: int = Field(default=0, ge=0, le=MAX_NOTICE_MINUTES)
    booking_fields: list[BookingField] | None = Field(default=None, max_length=MAX_BOOKING_FIELDS)


class EventTypeInput(EventTypeFields):
    @field_validator("length_in_minutes_options")
    @classmethod
    def _options(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(not 1 <= option <= 1440 for option in value):
            raise ValueError("every option must be between 1 and 1440 minutes")
        return sorted(set(value)) if value else value

    @model_validator(mode="after")
    def _consistent(self) -> EventTypeInput:
        if self.length_in_minutes_options and self.length_in_minutes not in self.length_in_minutes_options:
            raise ValueError("lengthInMinutesOptions must include lengthInMinutes")
        if self.scheduling_type is None:
            if self.hosts:
                raise ValueError("hosts need schedulingType collective or roundRobin; use ownerId for one host")
            if self.owner_id is None:
                raise ValueError("give ownerId (single host) or schedulingType with hosts")
        elif self.owner_id is not None:
            raise ValueError("ownerId is for single-host types; team types list hosts")
        if len({host.user_id for host in self.hosts}) != len(self.hosts):
            raise ValueError("each host may appear once")
        if self.seats is not None and self.price is not None and self.price.amount > 0:
            raise ValueError("seated event types cannot be priced (each seat would need its own payment)")
        if self.seats is not None and self.confirmation_policy is not None:
            raise ValueError("seated event types cannot require confirmation (as in cal.com)")
        slugs = [field.slug for field in self.booking_fields or []]
        if len(set(slugs)) != len(slugs):
            raise ValueError("each booking field slug may appear once")
        return self

    @property
    def lengths(self) -> list[int]:
        return self.length_in_minutes_options or [self.length_in_minutes]

    @property
    def host_ids(self) -> list[int]:
        if self.scheduling_type is None:
            return [self.owner_id] if self.owner_id is not None else []
        return [host.user_id for host in self.hosts]

    def host(self, user_id: int) -> EventTypeHost:
        for host in self.hosts:
            if host.user_id == user_id:
                return host
        return EventTypeHost(user_id=user_id, mandatory=True)

    def is_fixed(self, user_id: int) -> bool:
        """Fixed hosts must all attend: every host of single-host and collective types, mandatory round-robin hosts."""
        return self.scheduling_type != "roundRobin" or self.host(user_id).mandatory


class EventTypePatch(EventTypeFields):
    """PATCH body: every field optional; the merged type is validated again as a whole."""

    title: str | None = Field(default=None, min_length=1, max_length=200)  # type: ignore[assignment]
    slug: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")  # type: ignore[assignment]
    length_in_minutes: int | None = Field(default=None, ge=1, le=1440)  # type: ignore[assignment]


class EventType(EventTypeInput):
    id: int
