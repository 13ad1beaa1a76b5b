"""Workflows: what to send, to whom and when, around a booking (cal.com's post-booking actions).

A workflow is active on some event types (or all), has one trigger and a list of steps. `newEvent`, `eventCancelled`
and `rescheduleEvent` steps run when that change happens; `beforeEvent` / `afterEvent` steps run `offset` before the
start / after the end of an accepted booking. Each step sends one message per recipient: an email (attendees and
guests, the hosts, or one address) or a text message (each attendee's number, or one number).

Templates use `{VARIABLE}`s, checked when the workflow is saved (an unknown one is a 400): see VARIABLES.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from booking_core.domain.common import CamelModel, Id, UtcDatetime, email_address

Trigger = Literal["newEvent", "eventCancelled", "rescheduleEvent", "beforeEvent", "afterEvent"]
Action = Literal["emailAttendee", "emailHost", "emailAddress", "smsAttendee", "smsNumber"]
TIMED_TRIGGERS: frozenset[str] = frozenset({"beforeEvent", "afterEvent"})
SMS_ACTIONS: frozenset[str] = frozenset({"smsAttendee", "smsNumber"})
MAX_STEPS = 10
MAX_EVENT_TYPES = 40  # a workflow and its scope index items are written in one transaction
MAX_WORKFLOWS = 50  # every booking change reads, and may schedule, the workflows active on its type
MAX_OFFSET_MINUTES = 366 * 1440
SMS_MAX_CHARS = 480

# name -> what it renders to (documentation; rendering is `render`)
VARIABLES: dict[str, str] = {
    "EVENT_NAME": "the booking's title",
    "ORGANIZER_NAME": "the organizer's name",
    "ATTENDEE_NAME": "the attendee's name (the recipient's own, for attendee steps)",
    "EVENT_DATE": "the start's date in the recipient's time zone, e.g. Wednesday 13 January 2027",
    "EVENT_TIME": "the start's time in the recipient's time zone, e.g. 10:00",
    "TIMEZONE": "the recipient's time zone, e.g. Europe/Paris",
    "LOCATION": "the location (or the meeting app's name while its link is being made)",
    "MEETING_URL": "the meeting link",
    "CANCELLATION_REASON": "the reason given when the booking was cancelled",
    "RESPONSES.<slug>": "the booking-field answer with that slug",
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.\-]+)\}")
_RESPONSE = re.compile(r"^RESPONSES\.([A-Za-z0-9][A-Za-z0-9_\-]{0,39})$")


def unknown_variables(template: str) -> list[str]:
    """The `{NAME}`s of `template` that are not variables (braces around anything else are kept as written)."""
    names = _PLACEHOLDER.findall(template)
    return [name for name in dict.fromkeys(names) if name not in VARIABLES and not _RESPONSE.match(name)]


def _checked(template: str | None) -> str | None:
    if template is not None and (unknown := unknown_variables(template)):
        known = ", ".join(f"{{{name}}}" for name in VARIABLES)
        raise ValueError(f"unknown variable {', '.join(f'{{{n}}}' for n in unknown)}; known: {known}")
    return template


class Offset(CamelModel):
    value: int = Field(ge=0, le=MAX_OFFSET_MINUTES)
    unit: Literal["minutes", "hours", "days"]

    @property
    def minutes(self) -> int:
        return self.value * {"minutes": 1, "hours": 60, "days": 1440}[self.unit]

    @model_validator(mode="after")
    def _bounded(self) -> Offset:
        if self.minutes > MAX_OFFSET_MINUTES:
            raise ValueError("an offset is at most 366 days")
        return self


class ActiveOn(CamelModel):
    """`{eventTypeIds: [...]}` or `{all: true}`."""

    event_type_ids: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_EVENT_TYPES)
    all: Literal[True] | None = None

    @model_validator(mode="after")
    def _one(self) -> ActiveOn:
        if (self.event_type_ids is None) == (self.all is None):
            raise ValueError("give either eventTypeIds or all: true")
        if self.event_type_ids is not None:
            self.event_type_ids = list(dict.fromkeys(self.event_type_ids))
        return self



class Step(CamelModel):
    action: Action
    to: str | None = Field(default=None, max_length=320, validate_default=True,
                           description="emailAddress: an email; smsNumber: an international number (+country code)")
    subject: str | None = Field(default=None, max_length=200, description="email steps; default: {EVENT_NAME}")
    body: str = Field(min_length=1, max_length=5000)

    _templates = field_validator("subject", "body")(_checked)

    @field_validator("to")
    @classmethod
    def _recipient(cls, value: str | None, info: ValidationInfo) -> str | None:
        action = info.data.get("action")
        if action is None:  # the action itself is invalid: that is the error
            return value
        if action not in ("emailAddress", "smsNumber"):
            if value is not None:
                raise ValueError(f"{action} steps send to the booking's people: no `to`")
            return None
        if value is None:
            raise ValueError(f"{action} steps need `to`")
        if action == "smsNumber":
            from booking_core.domain.bookings import normalize_phone

            return normalize_phone(value)
        return email_address(value)

    @field_validator("subject")
    @classmethod
    def _no_sms_subject(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("action") in SMS_ACTIONS:
            raise ValueError("text messages have no subject")
        return value


class WorkflowInput(CamelModel):
    name: str = Field(min_length=1, max_length=200)
    active_on: ActiveOn
    trigger: Trigger
    offset: Offset | None = Field(default=None, validate_default=True,
                                  description="beforeEvent / afterEvent: how long before the start / after the end")
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)

    @field_validator("offset")
    @classmethod
    def _offset(cls, value: Offset | None, info: ValidationInfo) -> Offset | None:
        trigger = info.data.get("trigger")
        if trigger in TIMED_TRIGGERS and value is None:
            raise ValueError(f"{trigger} needs an offset")
        if trigger is not None and trigger not in TIMED_TRIGGERS and value is not None:
            raise ValueError(f"only beforeEvent and afterEvent take an offset, not {trigger}")
        return value


class WorkflowPatch(CamelModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    active_on: ActiveOn | None = None
    trigger: Trigger | None = None
    offset: Offset | None = None
    steps: list[Step] | None = Field(default=None, min_length=1, max_length=MAX_STEPS)


class Workflow(WorkflowInput):
    id: int
    created_at: UtcDatetime
    updated_at: UtcDatetime

    @property
    def is_timed(self) -> bool:
        return self.trigger in TIMED_TRIGGERS

    def is_active_on(self, event_type_id: int) -> bool:
        return bool(self.active_on.all) or event_type_id in (self.active_on.event_type_ids or [])

    def due(self, start: datetime, end: datetime) -> datetime | None:
        """When a timed step of this workflow fires for a booking from `start` to `end` (None if not timed)."""
        if self.offset is None or not self.is_timed:
            return None
        if self.trigger == "beforeEvent":
            return start - timedelta(minutes=self.offset.minutes)
        return end + timedelta(minutes=self.offset.minutes)


# -- rendering ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Recipient:
    """Who one message goes to: an address or an E.164 number, with the name and zone the template speaks to."""

    address: str
    time_zone: str
    attendee_name: str | None = None  # the recipient's own name when they are an attendee


def _answer(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_answer(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_answer(item)}" for key, item in value.items())
    return str(value)


def render(template: str, values: dict[str, str], responses: dict[str, Any]) -> str:
    """Every `{VARIABLE}` replaced; `{RESPONSES.slug}` by that answer (empty when there is none)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        answer = _RESPONSE.match(name)
        if answer:
            return _answer(responses.get(answer.group(1)))
        return match.group(0)

    return _PLACEHOLDER.sub(replace, template)


def fit_sms(text: str) -> str:
    """At most SMS_MAX_CHARS characters: a longer text is cut and ends with '...'."""
    text = text.strip()
    return text if len(text) <= SMS_MAX_CHARS else text[: SMS_MAX_CHARS - 3].rstrip() + "..."


_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def phone_in(responses: dict[str, Any]) -> str | None:
    """The first booking-field answer that is an international number in E.164 (how phone fields are stored)."""
    for value in responses.values():
        if isinstance(value, str) and _E164.match(value.strip()):
            return value.strip()
    return None
