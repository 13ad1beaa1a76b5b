"""Who may book: blocklist entries, private links, routing form responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from booking_core.domain.common import CamelModel, UtcDatetime, check_answers, normalize_email

BlockAction = Literal["block", "requireLogin"]


class BlocklistInput(CamelModel):
    type: Literal["email", "domain"]
    value: str = Field(min_length=3, max_length=254)
    action: BlockAction

    @model_validator(mode="after")
    def _normalise(self) -> BlocklistInput:
        value = self.value.strip().lower()
        if self.type == "email":
            if "@" not in value or value.startswith("@") or value.endswith("@"):
                raise ValueError("an email entry needs a full address")
            self.value = normalize_email(value)
        else:
            value = value.lstrip("@")
            if "@" in value or "." not in value or " " in value:
                raise ValueError("a domain entry needs a domain such as example.com")
            self.value = value
        return self


class BlocklistEntry(BlocklistInput):
    id: int
    created_at: UtcDatetime


def lookup_keys(email: str) -> list[tuple[str, str]]:
    """Entries that can match an address: the address itself (case and +tag ignored), its domain and parents."""
    normalized = normalize_email(email)
    domain = normalized.rpartition("@")[2]
    keys = [("email", normalized)]
    parts = domain.split(".")
    for index in range(len(parts) - 1):
        keys.append(("domain", ".".join(parts[index:])))
    return keys


def strongest(entries: list[BlocklistEntry]) -> BlockAction | None:
    """`block` beats `requireLogin`."""
    actions = {entry.action for entry in entries}
    if "block" in actions:
        return "block"
    return "requireLogin" if actions else None


class PrivateLinkInput(CamelModel):
    expires_at: AwareDatetime | None = None
    max_usage_count: int | None = Field(default=None, ge=1, le=1_000_000)


class PrivateLink(CamelModel):
    link_id: str
    event_type_id: int
    expires_at: UtcDatetime | None = None
    max_usage_count: int | None = None
    usage_count: int = 0
    created_at: UtcDatetime

    @property
    def counts_usage(self) -> bool:
        """Time-limited links are not usage-counted; links without an expiry are."""
        return self.expires_at is None

    def is_expired(self, now: datetime) -> bool:
        if self.expires_at is not None and self.expires_at <= now:
            return True
        return self.max_usage_count is not None and self.usage_count >= self.max_usage_count

    def public(self, now: datetime) -> dict[str, Any]:
        return {**self.dump(), "isExpired": self.is_expired(now)}


class RoutingFormResponseInput(CamelModel):
    form_id: str = Field(min_length=1, max_length=200)
    response: dict[str, Any]

    @field_validator("response")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_answers(value, "response")


class RoutingFormResponse(RoutingFormResponseInput):
    id: int
    created_at: UtcDatetime
