"""Base model and field types shared by the domain models."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

from booking_core.timeutil import is_valid_zone, iso_z

# Ids the service assigns are positive integers that JSON carries exactly (2**53 - 1 at most): anything larger is
# refused at the edge instead of reaching a key or a counter.
MAX_ID = 2**53 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
MAX_UID = 100  # booking, seat and payment uids are 22 characters; anything much longer is not one
# A free-form answer map (booking-field responses, routing form responses): at most this many keys and bytes as JSON.
MAX_ANSWER_KEYS = 50
MAX_ANSWER_BYTES = 16 * 1024

# Instants leave the service as UTC with milliseconds and Z: 2026-12-01T09:00:00.000Z.
UtcDatetime = Annotated[datetime, PlainSerializer(iso_z, return_type=str, when_used="json")]


class CamelModel(BaseModel):
    """camelCase on the wire, snake_case in Python. Unknown fields are errors (management input)."""

    # defer_build: a model's validator is built the first time it is used, not at import (cold start)
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("must be a valid email address")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def email_address(value: str) -> str:
    """An email address as the `Email` type accepts it (domain lower case), or ValueError."""
    return _email(value)


def _time_zone(value: str) -> str:
    if not is_valid_zone(value):
        raise ValueError("must be an IANA time zone such as Europe/London")
    return value


Email = Annotated[str, Field(max_length=320), AfterValidator(_email)]
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]


def normalize_email(email: str) -> str:
    """The form used for matching blocklists, the active-bookings limit and abuse limits: lower case, '+tag'
    dropped. (The duplicate guard only lower-cases: `a+x@` and `a@` are two attendees there.)"""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    return f"{local}@{domain}"


def check_answers(value: dict[str, Any], what: str) -> dict[str, Any]:
    """At most MAX_ANSWER_KEYS keys and MAX_ANSWER_BYTES of JSON: bounded work and bounded events downstream."""
    import json

    if len(value) > MAX_ANSWER_KEYS:
        raise ValueError(f"{what} allows at most {MAX_ANSWER_KEYS} keys")
    if len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()) > MAX_ANSWER_BYTES:
        raise ValueError(f"{what} allows at most {MAX_ANSWER_BYTES // 1024} KB as JSON")
    return value


ModelT = TypeVar("ModelT", bound=BaseModel)


def merged(model: type[ModelT], current: BaseModel, patch: BaseModel) -> ModelT:
    """`current` with the fields `patch` sets, validated as a whole (a PATCH): an invalid result (`"timeZone":
    null`, a length no longer among the options) is a 400 naming the fields, never a crash."""
    from pydantic import ValidationError
    from pydantic.alias_generators import to_camel

    from booking_core.errors import DomainError

    try:
        return model.model_validate({**current.model_dump(), **patch.model_dump(exclude_unset=True)})
    except ValidationError as exc:
        items = [{"field": ".".join(to_camel(str(part)) for part in error["loc"]) or "body",
                  "message": str(error["msg"]).removeprefix("Value error, ")} for error in exc.errors()]
        raise DomainError("request_body_invalid_error", items[0]["message"], {"errors": items}) from None
