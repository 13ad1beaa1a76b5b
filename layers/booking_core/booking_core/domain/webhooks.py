"""Webhook subscriptions and their deliveries (docs/api.md "Management API", docs/events.md "Webhook deliveries")."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from booking_core.domain.common import CamelModel, Id, UtcDatetime

Trigger = Literal[
    "BOOKING_CREATED",
    "BOOKING_REQUESTED",
    "BOOKING_PAYMENT_INITIATED",
    "BOOKING_PAID",
    "BOOKING_REJECTED",
    "BOOKING_RESCHEDULED",
    "BOOKING_CANCELLED",
    "MEETING_STARTED",
    "MEETING_ENDED",
    "BOOKING_NO_SHOW_UPDATED",
    "BOOKING_REASSIGNED",
    "BOOKING_UPDATED",
    "OOO_CREATED",
]
DeliveryStatus = Literal["pending", "delivered", "retrying", "failed"]


def _unique(values: list[Trigger]) -> list[Trigger]:
    return list(dict.fromkeys(values))


class WebhookInput(CamelModel):
    subscriber_url: str = Field(min_length=8, max_length=2048)
    triggers: list[Trigger] = Field(min_length=1, max_length=50)
    secret: str | None = Field(default=None, min_length=1, max_length=256)
    active: bool = True
    event_type_id: Id | None = None
    user_id: Id | None = None

    _triggers = field_validator("triggers")(_unique)

    @model_validator(mode="after")
    def _one_scope(self) -> WebhookInput:
        if self.event_type_id is not None and self.user_id is not None:
            raise ValueError("a webhook is scoped to an event type or to a host, not both")
        return self


class WebhookPatch(CamelModel):
    subscriber_url: str | None = Field(default=None, min_length=8, max_length=2048)
    triggers: list[Trigger] | None = Field(default=None, min_length=1, max_length=50)
    secret: str | None = Field(default=None, min_length=1, max_length=256)
    active: bool | None = None


class Webhook(WebhookInput):
    """A stored subscription. `secret` is the plain secret only while it is being set (create, patch) or for an item
    stored before secrets were sealed; otherwise the repository hands out `sealed_secret` and opens it only where a
    delivery is signed."""

    id: int
    created_at: UtcDatetime
    sealed_secret: str | None = None

    @property
    def has_secret(self) -> bool:
        return self.secret is not None or self.sealed_secret is not None

    def public(self) -> dict[str, Any]:
        """The secret is write-only: responses say whether one is set."""
        body = self.model_dump(mode="json", by_alias=True, exclude={"secret", "sealed_secret"})
        body["hasSecret"] = self.has_secret
        return body


class Attempt(CamelModel):
    attempt: int
    at: UtcDatetime
    response_status: int | None = None
    error: str | None = None


class Delivery(CamelModel):
    id: str
    webhook_id: int
    event_id: str
    trigger_event: Trigger
    booking_uid: str | None = None  # None for OOO_CREATED
    status: DeliveryStatus = "pending"
    attempts: int = 0
    last_response_status: int | None = None
    last_error: str | None = None
    history: list[Attempt] = Field(default_factory=list, description="every attempt, oldest first")
    body: str = Field(exclude=True)
    created_at: UtcDatetime
    updated_at: UtcDatetime
