"""Abuse limits on the public mutating routes: requests per source IP per minute, new bookings per attendee email per
hour. Each is a counter for one fixed window; a request over the limit is refused with 429 and `Retry-After` (the
seconds until its window ends), and writes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking_core.domain.common import normalize_email
from booking_core.errors import DomainError


@dataclass(frozen=True, slots=True)
class RateWindow:
    """At most `limit` counted requests for `subject` in the window [starts_at, ends_at) (epoch seconds)."""

    kind: str  # "ip" or "email"
    subject: str
    limit: int
    starts_at: int
    ends_at: int

    def retry_after(self, now: datetime) -> int:
        return max(1, self.ends_at - int(now.timestamp()))


def _window(kind: str, subject: str, limit: int, now: datetime, seconds: int) -> RateWindow | None:
    if limit <= 0 or not subject:
        return None  # 0 turns the limit off
    start = int(now.timestamp()) // seconds * seconds
    return RateWindow(kind, subject, limit, start, start + seconds)


def per_ip(source_ip: str | None, limit: int, now: datetime) -> RateWindow | None:
    return _window("ip", (source_ip or "")[:64], limit, now, 60)


def per_email(email: str, limit: int, now: datetime) -> RateWindow | None:
    """New bookings per attendee email (case and +tags ignored, as for blocklists and duplicates)."""
    return _window("email", normalize_email(email), limit, now, 3600)


def too_many(window: RateWindow, now: datetime) -> DomainError:
    what = "requests from this address" if window.kind == "ip" else "new bookings for this email address"
    per = "minute" if window.kind == "ip" else "hour"
    return DomainError("too_many_requests", f"too many {what}: at most {window.limit} per {per}",
                       headers={"Retry-After": str(window.retry_after(now))})
