"""Booking fields: the questions an event type asks its bookers, and the check of a booking's answers to them.

An event type may declare `bookingFields` (at most 30). A booking's `bookingFieldsResponses` are then checked against
them, every problem at once (`{field: "bookingFieldsResponses.<slug>", message}`), and normalised: phone numbers to
E.164, emails with a lower-case domain, numbers as numbers, lists without repeats; an optional field answered with
nothing is left out. A type without booking fields takes any answers within the body's size limits.
"""

from __future__ import annotations

import math
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from booking_core.domain.common import CamelModel

FieldType = Literal["text", "textarea", "number", "boolean", "checkbox", "select", "radio", "multiselect", "email",
                    "phone", "url", "multiemail"]
MAX_BOOKING_FIELDS = 30
MAX_OPTIONS = 50
MAX_TEXT = 10_000  # no answer is longer (the answers together stay within 16 KB anyway)
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
# Answered through the booking body itself (attendee, guests, location): a question cannot take these names.
RESERVED_SLUGS = frozenset({"name", "email", "guests", "location"})
_CHOICE_TYPES = frozenset({"select", "radio", "multiselect"})
_LENGTH_TYPES = frozenset({"text", "textarea"})


class BookingField(CamelModel):
    slug: str = Field(pattern=SLUG_PATTERN)
    label: str = Field(min_length=1, max_length=200)
    type: FieldType
    required: bool = False
    placeholder: str | None = Field(default=None, max_length=200)
    options: list[str] | None = Field(default=None, min_length=1, max_length=MAX_OPTIONS)
    min_length: int | None = Field(default=None, ge=0, le=MAX_TEXT)
    max_length: int | None = Field(default=None, ge=1, le=MAX_TEXT)
    min: float | None = Field(default=None, ge=-1e15, le=1e15)
    max: float | None = Field(default=None, ge=-1e15, le=1e15)
    hidden: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> BookingField:
        if self.slug in RESERVED_SLUGS:
            raise ValueError(f"{self.slug!r} is answered by the booking itself; choose another slug")
        if self.type in _CHOICE_TYPES:
            if not self.options:
                raise ValueError(f"a {self.type} field needs options")
            if any(not 1 <= len(option) <= 200 for option in self.options) or len(set(self.options)) != len(
                    self.options):
                raise ValueError("options are 1 to 200 characters each, without repeats")
        elif self.options is not None:
            raise ValueError(f"a {self.type} field takes no options")
        if (self.min_length is not None or self.max_length is not None) and self.type not in _LENGTH_TYPES:
            raise ValueError("minLength and maxLength apply to text and textarea fields")
        if (self.min is not None or self.max is not None) and self.type != "number":
            raise ValueError("min and max apply to number fields")
        if self.min_length is not None and self.max_length is not None and self.min_length > self.max_length:
            raise ValueError("minLength is above maxLength")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        return self


class FieldLabel(CamelModel):
    """What a booking keeps of its type's question, to show an answer with its label (webhooks, emails)."""

    slug: str
    label: str
    hidden: bool = False


def labels_of(fields: list[BookingField] | None) -> list[FieldLabel] | None:
    return [FieldLabel(slug=f.slug, label=f.label, hidden=f.hidden) for f in fields] if fields else None


class _Invalid(ValueError):
    pass


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value)


def _text(field: BookingField, value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid("must be text")
    limit = field.max_length or MAX_TEXT
    if len(value) > limit:
        raise _Invalid(f"at most {limit} characters")
    if field.min_length is not None and len(value.strip()) < field.min_length:
        raise _Invalid(f"at least {field.min_length} characters")
    return value


def _number(field: BookingField, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Invalid("must be a number")
    if abs(value) > 1e15:
        raise _Invalid("is out of range")
    if field.min is not None and value < field.min:
        raise _Invalid(f"must be at least {field.min:g}")
    if field.max is not None and value > field.max:
        raise _Invalid(f"must be at most {field.max:g}")
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _email(value: Any) -> str:
    from booking_core.domain.common import _email as normal_email

    if not isinstance(value, str):
        raise _Invalid("must be an email address")
    try:
        return normal_email(value)
    except ValueError as exc:
        raise _Invalid(str(exc)) from None


def _url(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 2000:
        raise _Invalid("must be an http or https URL")
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        raise _Invalid("must be an http or https URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise _Invalid("must be an http or https URL")
    return value.strip()


def _list(value: Any, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise _Invalid("must be a list")
    if len(value) > limit:
        raise _Invalid(f"at most {limit} values")
    return value


def _answer(field: BookingField, value: Any) -> Any:
    """The normalised answer, or _Invalid."""
    kind = field.type
    if kind in _LENGTH_TYPES:
        return _text(field, value)
    if kind == "number":
        return _number(field, value)
    if kind in ("boolean", "checkbox"):
        if not isinstance(value, bool):
            raise _Invalid("must be true or false")
        if kind == "checkbox" and field.required and value is not True:
            raise _Invalid("must be checked")
        return value
    if kind in ("select", "radio"):
        if value not in (field.options or []):
            raise _Invalid("must be one of the options")
        return value
    if kind == "multiselect":
        chosen = _list(value, MAX_OPTIONS)
        if any(not isinstance(item, str) or item not in (field.options or []) for item in chosen):
            raise _Invalid("every value must be one of the options")
        return list(dict.fromkeys(chosen))
    if kind == "email":
        return _email(value)
    if kind == "phone":
        from booking_core.domain.bookings import normalize_phone

        if not isinstance(value, str) or len(value) > 40:
            raise _Invalid("must be an international phone number")
        try:
            return normalize_phone(value)
        except ValueError as exc:
            raise _Invalid(str(exc)) from None
    if kind == "url":
        return _url(value)
    emails = [_email(item) for item in _list(value, 30)]  # multiemail
    return list(dict.fromkeys(emails))


def check_responses(fields: list[BookingField], responses: dict[str, Any]) -> tuple[dict[str, Any],
                                                                                   list[dict[str, str]]]:
    """(the normalised answers, every problem as {field, message}) for `responses` to `fields`."""
    declared = {field.slug: field for field in fields}
    problems: list[dict[str, str]] = []
    answers: dict[str, Any] = {}

    def problem(slug: str, message: str) -> None:
        problems.append({"field": f"bookingFieldsResponses.{slug}", "message": message})

    for slug in responses:
        if slug not in declared:
            problem(slug, "not a booking field of this event type")
    for field in fields:
        value = responses.get(field.slug)
        if _empty(value):
            if field.required:
                problem(field.slug, "is required")
            continue
        try:
            answers[field.slug] = _answer(field, value)
        except _Invalid as exc:
            problem(field.slug, str(exc))
    return answers, problems


__all__ = ["MAX_BOOKING_FIELDS", "BookingField", "FieldLabel", "check_responses", "labels_of"]
