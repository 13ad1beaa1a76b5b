"""Webhooks: subscription management, fan-out of bus events to matching subscriptions, and delivery attempts
with exponential backoff (each attempt recorded)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from booking_core import jobs, meeting_wait
from booking_core.config import settings
from booking_core.domain.bookings import BookingRecord
from booking_core.domain.common import merged
from booking_core.domain.webhooks import Delivery, Webhook, WebhookInput, WebhookPatch
from booking_core.errors import invalid, not_found
from booking_core.events.contracts import BookingEvent
from booking_core.events.out_of_office import OutOfOfficeEvent
from booking_core.observability import count, logger
from booking_core.repositories.webhooks import WebhookRepository
from booking_core.scheduling import moment_detail, schedule_name
from booking_core.webhooks.payload import (
    OOO_TRIGGER,
    TRIGGERS,
    build_meeting_payload,
    build_ooo_payload,
    build_payload,
    to_json,
)
from booking_core.webhooks.signing import headers_for
from booking_core.webhooks.ssrf import UnsafeUrl, allow_private_targets, check_url

DELIVERY_JOB = "deliverWebhook"


def max_attempts() -> int:
    return max(settings().webhook_max_attempts, 4)


def backoff_base() -> float:
    return settings().webhook_backoff_seconds


def timeout_seconds() -> float:
    return settings().webhook_timeout_seconds


def delivery_id(event_id: str, webhook_id: int, trigger: str) -> str:
    return hashlib.sha256(f"{event_id}:{webhook_id}:{trigger}".encode()).hexdigest()[:32]


class WebhookService:
    def __init__(self, repository: WebhookRepository | None = None,
                 enqueue: Callable[[dict[str, Any], int], None] | None = None) -> None:
        self.repository = repository or WebhookRepository()
        self._enqueue = enqueue

    # -- management ----------------------------------------------------------------------------------------------
    @staticmethod
    def _check_target(url: str) -> None:
        try:
            check_url(url, allow_private=allow_private_targets())
        except UnsafeUrl as exc:
            raise invalid("subscriberUrl", f"refused target: {exc}") from exc

    def create(self, data: WebhookInput, now: datetime) -> dict[str, Any]:
        self._check_target(data.subscriber_url)
        return self.repository.create(data, now).public()

    def get(self, webhook_id: int) -> Webhook:
        webhook = self.repository.get(webhook_id)
        if webhook is None:
            raise not_found("not_found_error", f"webhook {webhook_id}")
        return webhook

    def patch(self, webhook_id: int, patch: WebhookPatch) -> dict[str, Any]:
        current = self.get(webhook_id)
        changes = patch.model_dump(exclude_unset=True)
        if "subscriber_url" in changes:
            self._check_target(changes["subscriber_url"])
        updated = merged(Webhook, current, patch)
        if "secret" in changes:  # a new secret (or none) replaces the stored one
            updated.sealed_secret = None
        self.repository.save(updated)
        return updated.public()

    def delete(self, webhook_id: int) -> None:
        self.repository.delete(self.get(webhook_id))

    def list(self) -> list[dict[str, Any]]:
        return [webhook.public() for webhook in self.repository.list()]

    def deliveries(self, webhook_id: int) -> list[dict[str, Any]]:
        self.get(webhook_id)
        return [delivery.model_dump(mode="json", by_alias=True, include={
            "id", "trigger_event", "booking_uid", "status", "attempts", "last_response_status", "created_at",
            "history"})
            for delivery in self.repository.deliveries(webhook_id)]

    # -- fan-out -------------------------------------------------------------------------------------------------
    def _subscribers(self, trigger: str, event_type_id: int, host_ids: list[int]) -> list[Webhook]:
        return [w for w in self.repository.matching(event_type_id, host_ids) if w.active and trigger in w.triggers]

    def announce(self, event: BookingEvent, now: datetime) -> int:
        """fan_out now, or, while the booking's meeting link is being made and someone subscribes to this trigger,
        when the link comes or the bounded wait ends (`meeting_wait`): a job on the delivery queue holds it."""
        booking = event.detail.booking
        if meeting_wait.awaits_link(booking) and self._subscribers(
                TRIGGERS[event.detail_type], booking.event_type_id, _host_ids(event)):
            job, delay = meeting_wait.hold(event, now)
            self.enqueue(job, delay)
            logger.info("webhooks held for the meeting link", extra={"booking_uid": booking.uid, "seconds": delay})
            return 0
        return self.fan_out(event, now)

    def link_due(self, job: dict[str, Any], store: Any, now: datetime) -> int:
        """The wait is over: deliver with the link if the booking has it by now, else without. A delivery the link's
        arrival recorded first is not recorded twice (same delivery ids)."""
        event = meeting_wait.event_of(job)
        return self.fan_out(meeting_wait.with_link_of(event, store.get_booking(event.detail.booking.uid)), now)

    def fan_out(self, event: BookingEvent, now: datetime) -> int:
        """Record one delivery per matching subscription and trigger, and queue its first attempt."""
        trigger = TRIGGERS[event.detail_type]
        booking = event.detail.booking
        subscribers = self._subscribers(trigger, booking.event_type_id, _host_ids(event))
        body = None
        for webhook in subscribers:
            body = body or to_json(build_payload(trigger, event, created_at=now))
            self._record(webhook, event.event_id, trigger, booking.uid, body, now)
        return len(subscribers)

    def fan_out_moment(self, trigger: str, event_id: str, booking: BookingRecord, now: datetime) -> int:
        """MEETING_STARTED / MEETING_ENDED for an accepted booking."""
        subscribers = [w for w in self.repository.matching(booking.event_type_id, [h.id for h in booking.hosts])
                       if w.active and trigger in w.triggers]
        body = to_json(build_meeting_payload(trigger, booking, created_at=now))
        for webhook in subscribers:
            self._record(webhook, event_id, trigger, booking.uid, body, now)
        return len(subscribers)

    def fan_out_ooo(self, event: OutOfOfficeEvent, now: datetime) -> int:
        """OOO_CREATED to the subscriptions of every booking and of that user (a user's webhooks cover what happens
        to them; event-type webhooks are about bookings of the type)."""
        subscribers = [w for w in self.repository.matching(None, [event.detail.user.id])
                       if w.active and OOO_TRIGGER in w.triggers]
        body = to_json(build_ooo_payload(event, created_at=now))
        for webhook in subscribers:
            self._record(webhook, event.event_id, OOO_TRIGGER, None, body, now)
        return len(subscribers)

    def _record(self, webhook: Webhook, event_id: str, trigger: str, booking_uid: str | None, body: str,
                now: datetime) -> None:
        delivery = Delivery(id=delivery_id(event_id, webhook.id, trigger), webhook_id=webhook.id, event_id=event_id,
                            trigger_event=trigger, booking_uid=booking_uid, body=body, created_at=now, updated_at=now)
        if self.repository.add_delivery(delivery):
            self.enqueue({"job": DELIVERY_JOB, "webhookId": webhook.id, "deliveryId": delivery.id, "attempt": 1}, 0)
        else:  # a redelivered event: the delivery exists; make sure its attempt is queued (idempotent downstream)
            existing = self.repository.get_delivery(webhook.id, delivery.id)
            if existing and existing.status == "pending" and existing.attempts == 0:
                self.enqueue({"job": DELIVERY_JOB, "webhookId": webhook.id, "deliveryId": delivery.id,
                              "attempt": 1}, 0)

    def enqueue(self, job: dict[str, Any], delay_seconds: int) -> None:
        if self._enqueue is not None:
            self._enqueue(job, delay_seconds)
            return
        send_job(job, delay_seconds)

    # -- one attempt ---------------------------------------------------------------------------------------------
    def attempt(self, job: dict[str, Any], now: datetime) -> str:
        """Try a delivery once; schedule the next attempt with exponential backoff, or give up as `failed`."""
        webhook = self.repository.get(int(job["webhookId"]))
        delivery = self.repository.get_delivery(int(job["webhookId"]), str(job["deliveryId"]))
        attempt = int(job["attempt"])
        if webhook is None or delivery is None:
            return "gone"
        secret = self.repository.signing_secret(webhook)  # before the claim: a failure here leaves the attempt free
        if not self.repository.claim_attempt(delivery, attempt):
            return "skipped"  # a duplicate job, or the delivery is already settled
        from booking_core.webhooks import delivery as transport  # the subscriber's job, not the API's

        body = delivery.body.encode()
        result = transport.deliver(webhook.subscriber_url, body, headers_for(body, secret),
                                   timeout=timeout_seconds(), allow_private=allow_private_targets())
        if result.delivered:
            status = "delivered"
        elif attempt >= max_attempts():
            status = "failed"
        else:
            status = "retrying"
        self.repository.record_attempt(delivery, attempt, status, result.status, result.error, now)
        count("WebhookAttempts", outcome=status)
        logger.info("webhook attempt", extra={"webhook_id": webhook.id, "delivery_id": delivery.id,
                                              "attempt": attempt, "status": status, "http_status": result.status})
        if status == "retrying":
            delay = transport.backoff_delays(max_attempts(), backoff_base())[attempt - 1]
            self.enqueue({**job, "attempt": attempt + 1}, int(min(delay, 900)))
        return status


def _host_ids(event: BookingEvent) -> list[int]:
    """Whose host-scoped subscriptions an event reaches: the booking's hosts, and for a reassignment also the host
    who left it (they were a host of this booking until now)."""
    hosts = [host.id for host in event.detail.booking.hosts]
    previous = event.detail.previous_booking
    if event.detail_type == "bookingReassigned" and previous is not None:
        before = previous.hosts if hasattr(previous, "hosts") else [previous.organizer] if previous.organizer else []
        hosts += [host.id for host in before if host.id not in hosts]
    return hosts


def send_job(job: dict[str, Any], delay_seconds: int) -> None:
    jobs.send(settings().webhook_delivery_queue_url, job, delay_seconds)


# -- MEETING_STARTED / MEETING_ENDED moments ---------------------------------------------------------------------------
MEETING_MOMENTS = (("meetingStarted", "start"), ("meetingEnded", "end"))


def schedule_meeting(moments: Any, booking: Any, now: datetime) -> None:
    """One-time schedules at an accepted booking's start and end (moved by re-putting the same names)."""
    if booking.status != "accepted":
        return
    for kind, attribute in MEETING_MOMENTS:
        name = schedule_name(kind, booking.uid)
        at = getattr(booking, attribute)
        moments.put(name, at, kind, moment_detail(name, booking.uid, at), now)


def clear_meeting(moments: Any, booking_uid: str) -> None:
    for kind, _ in MEETING_MOMENTS:
        moments.delete(schedule_name(kind, booking_uid))
