"""Deployment settings, read once from the environment the template (or the local stack) sets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
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


# Every function gets these from the template's Globals: without them nothing can be stored or published.
REQUIRED = ("TABLE_NAME", "OUTBOX_TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "EVENT_BUS_NAME")


class MissingSetting(RuntimeError):
    """A variable the function needs is not set. Raised at cold start (while the function's modules are imported),
    naming the variable, so a misconfigured deployment fails its first invocation loudly, not a request later."""

    def __init__(self, variables: list[str]) -> None:
        super().__init__(f"missing environment variable{'s' if len(variables) > 1 else ''} "
                         f"{', '.join(variables)}: set {'them' if len(variables) > 1 else 'it'} in template.yaml "
                         "(Globals or the function's Environment)")
        self.variables = variables


@dataclass(frozen=True)
class Settings:
    """The deployment's settings, typed. Each field is the environment variable of the same name in lower case
    (`region` and `dynamodb_endpoint` take the first of several), so `require("EVENT_BUS_ARN")` names what is
    missing. Empty strings stand for "not set" where a function does not need the value."""

    table_name: str
    outbox_table_name: str
    idempotency_table_name: str
    event_bus_name: str
    admin_api_key: str | None = field(repr=False)
    admin_api_key_secret_arn: str | None
    booker_jwt_secret: str | None = field(repr=False)
    region: str
    dynamodb_endpoint: str | None
    payment_provider: str | None  # "stripe" or "test"; None: priced bookings fail closed
    booker_jwt_issuer: str | None
    booker_jwt_audience: str | None
    booker_jwt_jwks_url: str | None
    rate_limit_per_ip_per_minute: int  # 0 = off
    rate_limit_per_email_per_hour: int  # 0 = off
    # observability: no X-Ray SDK import when true (Powertools' own variable)
    powertools_trace_disabled: bool = False
    # credentials at rest: a KMS key in AWS, a fixed development key locally
    credentials_kms_key_id: str = ""
    credentials_local_key: str = field(default="", repr=False)
    # payments (Stripe): the value itself or the Secrets Manager secret holding it
    stripe_api_key: str = field(default="", repr=False)
    stripe_api_key_secret_arn: str = ""
    stripe_webhook_secret: str = field(default="", repr=False)
    stripe_webhook_secret_secret_arn: str = ""
    stripe_base_url: str = ""
    # the features' own queues and DLQs, and EventBridge Scheduler's target
    publisher_dlq_url: str = ""
    webhook_delivery_queue_url: str = ""
    notifications_queue_url: str = ""
    event_bus_arn: str = ""
    scheduler_role_arn: str = ""
    scheduler_dlq_arn: str = ""
    schedule_group_name: str = "default"
    # emails and texts
    notifications_from: str = "bookings@example.com"
    sms_sender_id: str = ""
    sms_origination_number: str = ""
    # webhooks
    webhook_max_attempts: int = 5  # services.webhooks raises it to the contract's minimum of 4
    webhook_backoff_seconds: float = 30.0
    webhook_timeout_seconds: float = 5.0
    webhook_allow_private_targets: bool = False
    # calendars and meeting apps (empty: the provider's public endpoint)
    calendar_timeout_seconds: float = 3.0
    meeting_link_wait_seconds: float = 30.0
    google_calendar_base_url: str = ""
    google_oauth_url: str = ""
    microsoft_graph_base_url: str = ""
    microsoft_oauth_url: str = ""
    zoom_api_base_url: str = ""
    zoom_oauth_url: str = ""

    def require(self, *variables: str) -> Settings:
        """These settings, checked to hold every variable named (MissingSetting naming the ones that are empty)."""
        missing = [name for name in variables if not getattr(self, name.lower())]
        if missing:
            raise MissingSetting(missing)
        return self


def _count(value: str | None, name: str) -> int:
    try:
        number = int(value or 0)
    except ValueError:
        raise ValueError(f"{name} must be a whole number (0 turns the limit off)") from None
    if number < 0:
        raise ValueError(f"{name} must not be negative")
    return number


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name) or ""
    try:
        return float(value) if value else default
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {value!r}") from None


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "false").strip().lower() == "true"


def from_environment(env: Mapping[str, str]) -> Settings:
    """The settings `env` holds; MissingSetting when one every function needs (REQUIRED) is not set."""
    missing = [name for name in REQUIRED if not env.get(name)]
    if missing:
        raise MissingSetting(missing)
    text = {f.name: env.get(f.name.upper()) or f.default for f in fields(Settings)
            if f.type == "str" and f.default is not MISSING}
    return Settings(
        table_name=env["TABLE_NAME"],
        outbox_table_name=env["OUTBOX_TABLE_NAME"],
        idempotency_table_name=env["IDEMPOTENCY_TABLE_NAME"],
        event_bus_name=env["EVENT_BUS_NAME"],
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
        powertools_trace_disabled=_flag(env, "POWERTOOLS_TRACE_DISABLED"),
        webhook_max_attempts=int(_number(env, "WEBHOOK_MAX_ATTEMPTS", 5)),
        webhook_backoff_seconds=_number(env, "WEBHOOK_BACKOFF_SECONDS", 30.0),
        webhook_timeout_seconds=_number(env, "WEBHOOK_TIMEOUT_SECONDS", 5.0),
        webhook_allow_private_targets=_flag(env, "WEBHOOK_ALLOW_PRIVATE_TARGETS"),
        calendar_timeout_seconds=_number(env, "CALENDAR_TIMEOUT_SECONDS", 3.0),
        meeting_link_wait_seconds=_number(env, "MEETING_LINK_WAIT_SECONDS", 30.0),
        **text,
    )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings, read from the environment once (the first call, at cold start: observability and the
    repositories ask for them when imported). Whoever changes the environment afterwards (the tests) calls
    `settings.cache_clear()`."""
    return from_environment(os.environ)


def require(*variables: str) -> Settings:
    """For a function's app.py, at import: the settings, failing the cold start with MissingSetting unless every
    variable the function needs beyond REQUIRED is set (tests/unit/test_settings.py checks the template sets them)."""
    return settings().require(*variables)
