"""The bounded wait for a meeting link, in the notification path (emails and webhooks).

A booking whose meeting app makes its meeting through an API (Google Meet, Teams, Zoom) commits without the link;
the app-sync step adds it moments later. The confirmation email and BOOKING_CREATED (and the rescheduled,
reassigned and updated ones, when a new organizer's meeting or a newly chosen app's is being made) wait for it,
within a bound:

- A booking awaits its link when it is accepted, has no `meetingUrl` and its location is still the app's
  placeholder (`integrations:zoom`).
- The notifications and webhooks subscribers then hold the message: they put a `meetingLinkDue` job carrying the
  event on their own queue, delayed until MEETING_LINK_WAIT_SECONDS (default 30) after the change was committed,
  and send nothing yet. No function sleeps while it waits.
- The app-sync step's `bookingMeetingCreated` event releases the message with the link. If the job comes first
  (the provider is slow or down), the message goes out with whatever the stored booking has then: the link, or
  none, and then the next change's emails and webhooks carry it.
- Either way the message goes out once: emails by an idempotency record on the change's eventId, webhooks by
  their delivery ids (event, subscription, trigger), which both paths share.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from booking_core.conferencing import app_of_placeholder
from booking_core.config import settings
from booking_core.domain.bookings import Booking, BookingRecord
from booking_core.events.contracts import MEETING_CREATED, BookingEvent

WAIT_JOB = "meetingLinkDue"
HELD_TYPES = frozenset({"bookingCreated", "bookingConfirmed", "bookingRescheduled", "bookingReassigned",
                        "bookingUpdated"})
_LINK_FIELDS = ("location", "meeting_url", "references")


def wait_seconds() -> float:
    return settings().meeting_link_wait_seconds


def awaits_link(booking: Booking) -> bool:
    return (booking.status == "accepted" and booking.meeting_url is None
            and app_of_placeholder(booking.location) is not None)


def hold(event: BookingEvent, now: datetime) -> tuple[dict[str, Any], int]:
    """(the job that releases `event` when the wait is over, its delay in seconds from now)."""
    due = event.detail.occurred_at.timestamp() + wait_seconds()
    job = {"job": WAIT_JOB, "event": event.model_dump(mode="json", by_alias=True)}
    return job, max(0, math.ceil(due - now.timestamp()))


def event_of(job: dict[str, Any]) -> BookingEvent:
    return BookingEvent.model_validate(job["event"])


def with_link_of(event: BookingEvent, record: BookingRecord | None) -> BookingEvent:
    """`event` with the meeting fields the stored booking has now (the wait is over)."""
    if record is None or record.meeting_url is None:
        return event
    booking = event.detail.booking.model_copy(update={name: getattr(record, name) for name in _LINK_FIELDS})
    return event.model_copy(update={"detail": event.detail.model_copy(update={"booking": booking})})


def cause_of(event: BookingEvent) -> BookingEvent | None:
    """The held change a bookingMeetingCreated event releases: its eventId, detail type, previous booking and
    context, with the booking (and its link) as the app-sync step wrote it."""
    context = event.detail.context
    if (event.detail_type != MEETING_CREATED or not context.cause_event_id
            or context.cause_detail_type not in HELD_TYPES):
        return None
    detail = event.detail.model_copy(update={
        "event_id": context.cause_event_id,
        "context": context.model_copy(update={"cause_event_id": None, "cause_detail_type": None}),
    })
    return event.model_copy(update={"detail_type": context.cause_detail_type, "detail": detail})


__all__ = ["HELD_TYPES", "WAIT_JOB", "awaits_link", "cause_of", "event_of", "hold", "wait_seconds", "with_link_of"]
