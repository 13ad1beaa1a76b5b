"""Users (hosts) and their schedules."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from booking_core.domain.common import CamelModel, Email, Id, TimeZoneName, UtcDatetime
from booking_core.timeutil import parse_hhmm

Weekday = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MAX_RULES = 50  # availability rules of one schedule
MAX_OVERRIDES = 400  # date overrides of one schedule (a year and some)
WEEKDAYS: tuple[Weekday, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class UserInput(CamelModel):
    name: str = Field(min_length=1, max_length=200)
    email: Email
    time_zone: TimeZoneName
    locale: str = Field(default="en", min_length=2, max_length=16)


class UserPatch(CamelModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: Email | None = None
    time_zone: TimeZoneName | None = None
    locale: str | None = Field(default=None, min_length=2, max_length=16)
    locked: bool | None = None


class User(UserInput):
    id: int
    default_schedule_id: int | None = None
    locked: bool = False
    last_active_at: UtcDatetime | None = None


def _check_hhmm(value: str) -> str:
    parse_hhmm(value)
    return value


def day_range(start_time: str, end_time: str) -> tuple[int, int] | None:
    """Minutes of day for a start/end pair. An end of 00:00 after a later start means midnight; 00:00-00:00 is closed."""
    start, end = parse_hhmm(start_time), parse_hhmm(end_time)
    if end == 0 and start > 0:
        end = 1440
    if start == end == 0:
        return None
    return start, end


class AvailabilityRule(CamelModel):
    days: list[Weekday] = Field(min_length=1, max_length=7)
    start_time: str
    end_time: str

    _hhmm = field_validator("start_time", "end_time")(_check_hhmm)

    @model_validator(mode="after")
    def _ordered(self) -> AvailabilityRule:
        span = day_range(self.start_time, self.end_time)
        if span is not None and span[0] >= span[1]:
            raise ValueError("endTime must be after startTime")
        return self


class Override(CamelModel):
    date: date
    start_time: str
    end_time: str

    _hhmm = field_validator("start_time", "end_time")(_check_hhmm)

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        span = day_range(self.start_time, self.end_time)
        if span is not None and span[0] >= span[1]:
            raise ValueError("endTime must be after startTime (00:00-00:00 closes the day)")
        return self


class ScheduleInput(CamelModel):
    user_id: Id
    name: str = Field(min_length=1, max_length=200)
    time_zone: TimeZoneName
    is_default: bool | None = None
    availability: list[AvailabilityRule] = Field(default_factory=list, max_length=MAX_RULES)
    overrides: list[Override] = Field(default_factory=list, max_length=MAX_OVERRIDES)


class SchedulePatch(CamelModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    time_zone: TimeZoneName | None = None
    is_default: bool | None = None
    availability: list[AvailabilityRule] | None = Field(default=None, max_length=MAX_RULES)
    overrides: list[Override] | None = Field(default=None, max_length=MAX_OVERRIDES)


class Schedule(ScheduleInput):
    id: int
    is_default: bool = False
