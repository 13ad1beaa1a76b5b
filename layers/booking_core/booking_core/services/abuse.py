"""The abuse limits of a request, built from the deployment's settings (RATE_LIMIT_PER_IP_PER_MINUTE,
RATE_LIMIT_PER_EMAIL_PER_HOUR; 0 = off)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from booking_core.config import settings
from booking_core.domain.abuse import RateWindow, per_email, per_ip, too_many
from booking_core.ports import RateLimited


def ip_admission(source_ip: str | None, now: datetime) -> Callable[[], None] | None:
    """The per-IP check of one request, to run in the request's first round of reads (None when off)."""
    window = per_ip(source_ip, settings().rate_limit_per_ip_per_minute, now)
    if window is None:
        return None

    def admit() -> None:
        from booking_core.repositories.abuse import admit as count

        try:
            count(window)
        except RateLimited as limited:
            raise too_many(limited.window, now) from None

    return admit


def email_window(email: str, now: datetime) -> RateWindow | None:
    """The per-email window a new booking counts in, written in the booking's own transaction (None when off)."""
    return per_email(email, settings().rate_limit_per_email_per_hour, now)
