"""Deployment settings, read once from the environment the template (or the local stack) sets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

# Slot locks cover fixed time buckets of this many minutes (see docs/architecture.md, "Shape"). Busy time is rounded
# outward to this grid both when slots are computed and when locks are written, so the two always agree.
LOCK_BUCKET_MINUTES = 5
# DynamoDB accepts at most 100 items in one transaction; a booking keeps a few for itself.
MAX_TRANSACTION_ITEMS = 100
# The longest meeting the service books. Host bookings are looked up this far back from a window's start.
MAX_BOOKING_MINUTES = 24 * 60
EVENT_SOURCE = "booking-service"
# Request bodies above this are refused with 413 before anything parses them.
MAX_REQUEST_BODY_BYTES = 256 * 1024


@dataclass(frozen=True)
class Settings:
    table_name: str
    outbox_table_name: str
    idempotency_table_name: str
    event_bus_name: str
    admin_api_key: str | None
    admin_api_key_secret_arn: str | None
    booker_jwt_secret: str | None
    region: str
    dynamodb_endpoint: str | None
    payment_provider: str | None  # "stripe" or "test"; None: priced bookings fail closed
    booker_jwt_issuer: str | None
    booker_jwt_audience: str | None
    booker_jwt_jwks_url: str | None
    rate_limit_per_ip_per_minute: int  # 0 = off
    rate_limit_per_email_per_hour: int  # 0 = off


def _count(value: str | None, name: str) -> int:
    try:
        number = int(value or 0)
    except ValueError:
        raise ValueError(f"{name} must be a whole number (0 turns the limit off)") from None
    if number < 0:
        raise ValueError(f"{name} must not be negative")
    return number


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    return Settings(
        table_name=env.get("TABLE_NAME", "booking-service"),
        outbox_table_name=env.get("OUTBOX_TABLE_NAME", "booking-service-outbox"),
        idempotency_table_name=env.get("IDEMPOTENCY_TABLE_NAME", "booking-service-idempotency"),
        event_bus_name=env.get("EVENT_BUS_NAME", "bookings"),
        admin_api_key=env.get("ADMIN_API_KEY") or None,
        admin_api_key_secret_arn=env.get("ADMIN_API_KEY_SECRET_ARN") or None,
        booker_jwt_secret=env.get("BOOKER_JWT_SECRET") or None,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        dynamodb_endpoint=env.get("AWS_ENDPOINT_URL_DYNAMODB") or env.get("AWS_ENDPOINT_URL") or None,
        payment_provider=env.get("PAYMENT_PROVIDER") or None,
        booker_jwt_issuer=env.get("BOOKER_JWT_ISSUER") or None,
        booker_jwt_audience=env.get("BOOKER_JWT_AUDIENCE") or None,
        booker_jwt_jwks_url=env.get("BOOKER_JWT_JWKS_URL") or None,
        rate_limit_per_ip_per_minute=_count(env.get("RATE_LIMIT_PER_IP_PER_MINUTE"), "RATE_LIMIT_PER_IP_PER_MINUTE"),
        rate_limit_per_email_per_hour=_count(env.get("RATE_LIMIT_PER_EMAIL_PER_HOUR"),
                                             "RATE_LIMIT_PER_EMAIL_PER_HOUR"),
    )
