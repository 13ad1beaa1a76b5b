"""Base model and field types shared by the domain models."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

from booking_core.timeutil import is_valid_zone, iso_z

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


def _time_zone(value: str) -> str:
    if not is_valid_zone(value):
        raise ValueError("must be an IANA time zone such as Europe/London")
    return value


Email = Annotated[str, AfterValidator(_email)]
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]


def normalize_email(email: str) -> str:
    """The form used for matching (duplicates, blocklists, limits): lower case, '+tag' dropped."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    return f"{local}@{domain}"
