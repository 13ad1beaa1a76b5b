"""Webhook subscriptions (with scope indexes) and their delivery records.

| item              | pk                              | sk                   |
|-------------------|---------------------------------|----------------------|
| webhook           | WEBHOOK#<id>                    | WEBHOOK              |
| listing           | WEBHOOKS                        | <id:010>             |
| scope index       | WEBHOOKSCOPE#<all|eventType#n|user#n> | <id:010>       |
| delivery          | WEBHOOK#<id>                    | DELIVERY#<deliveryId>|

A webhook's signing secret is stored sealed (booking_core.crypto, purpose webhook-secret) in `sealedSecret`, never in
`doc`; it is opened only where a delivery is signed (`signing_secret`). Items written before secrets were sealed keep
the plain secret in `doc`: they still sign (the plain value is used as is) and are sealed the next time they are saved.

Delivery records expire: `expiresAt` (the table's TTL attribute) is set DELIVERY_RETENTION_DAYS after the delivery
was recorded, and listings leave out records past that moment even before DynamoDB deletes them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.transactions import TransactWrite

from booking_core import clock
from booking_core.concurrency import gather
from booking_core.crypto import WEBHOOK_SECRET, seal, unseal
from booking_core.domain.webhooks import Delivery, Webhook, WebhookInput
from booking_core.repositories.bookings import batch_get
from booking_core.repositories.counters import next_id
from booking_core.repositories.tables import (
    DeliveryItem,
    Item,
    WebhookIndexItem,
    WebhookItem,
    connection,
    minute_key,
)
from booking_core.timeutil import iso_z


DELIVERY_RETENTION_DAYS = 30


def _key(webhook_id: int) -> tuple[str, str]:
    return f"WEBHOOK#{webhook_id}", "WEBHOOK"


def _delivery_key(webhook_id: int, delivery_id: str) -> tuple[str, str]:
    return f"WEBHOOK#{webhook_id}", f"DELIVERY#{delivery_id}"


def _delivery_from(item: DeliveryItem) -> Delivery:
    return Delivery.model_validate({**item.doc, "status": item.status, "attempts": int(item.attempts)})


def _webhook_item(webhook: Webhook) -> WebhookItem:
    """The stored form: the secret sealed beside the document, never inside it."""
    sealed = seal({"secret": webhook.secret}, WEBHOOK_SECRET) if webhook.secret is not None else webhook.sealed_secret
    return WebhookItem(*_key(webhook.id), doc=webhook.model_dump(mode="json", by_alias=True,
                                                                 exclude={"secret", "sealed_secret"}),
                       sealed_secret=sealed)


def _type_scope(event_type_id: int) -> str:
    return f"eventType#{event_type_id}"


def _user_scope(user_id: int) -> str:
    return f"user#{user_id}"


def _scope(webhook: Webhook) -> str:
    """The one scope a subscription is found under: its event type, else its user, else every booking."""
    if webhook.event_type_id is not None:
        return _type_scope(webhook.event_type_id)
    if webhook.user_id is not None:
        return _user_scope(webhook.user_id)
    return "all"


def _scope_key(scope: str) -> str:
    return f"WEBHOOKSCOPE#{scope}"


def _webhook_from(item: WebhookItem) -> Webhook:
    return Webhook.model_validate({**item.doc, "sealedSecret": item.sealed_secret})


class WebhookRepository:
    def create(self, data: WebhookInput, now: datetime) -> Webhook:
        webhook = Webhook(**data.model_dump(), id=next_id("webhook"), created_at=now)
        with TransactWrite(connection=connection()) as tx:
            tx.save(_webhook_item(webhook), condition=Item.pk.does_not_exist())
            tx.save(WebhookIndexItem("WEBHOOKS", minute_key(webhook.id), webhook_id=webhook.id))
            tx.save(WebhookIndexItem(_scope_key(_scope(webhook)), minute_key(webhook.id), webhook_id=webhook.id))
        return webhook

    def get(self, webhook_id: int) -> Webhook | None:
        try:
            item = WebhookItem.get(*_key(webhook_id), consistent_read=True)
        except DoesNotExist:
            return None
        return _webhook_from(item)

    def save(self, webhook: Webhook) -> None:
        _webhook_item(webhook).save(condition=Item.pk.exists())

    @staticmethod
    def signing_secret(webhook: Webhook) -> str | None:
        """The plain secret deliveries are signed with (opened here, and only here)."""
        if webhook.secret is not None:  # being set now, or an item stored before secrets were sealed
            return webhook.secret
        if webhook.sealed_secret is None:
            return None
        return str(unseal(webhook.sealed_secret, WEBHOOK_SECRET)["secret"])

    def delete(self, webhook: Webhook) -> None:
        with TransactWrite(connection=connection()) as tx:
            tx.delete(WebhookItem(*_key(webhook.id)))
            tx.delete(WebhookIndexItem("WEBHOOKS", minute_key(webhook.id)))
            tx.delete(WebhookIndexItem(_scope_key(_scope(webhook)), minute_key(webhook.id)))

    def list(self) -> list[Webhook]:
        ids = [int(item.webhook_id) for item in WebhookIndexItem.query("WEBHOOKS", consistent_read=True)]
        return self._load(ids)

    def matching(self, event_type_id: int | None, host_ids: list[int]) -> list[Webhook]:
        """Subscriptions for every booking, this event type (if any), or one of these hosts: one concurrent round of
        Queries on the scope indexes, then one BatchGetItem."""
        scopes = ["all", *([_type_scope(event_type_id)] if event_type_id is not None else []),
                  *(_user_scope(host) for host in host_ids)]
        pages = gather([lambda scope=scope: list(WebhookIndexItem.query(_scope_key(scope), consistent_read=True))
                        for scope in scopes])
        return self._load(sorted({int(item.webhook_id) for page in pages for item in page}))

    def _load(self, ids: list[int]) -> list[Webhook]:
        found = [_webhook_from(item) for item in batch_get(_key(i) for i in ids) if isinstance(item, WebhookItem)]
        return sorted(found, key=lambda webhook: webhook.id)

    # -- deliveries ----------------------------------------------------------------------------------------------
    def add_delivery(self, delivery: Delivery) -> bool:
        """Record a delivery once per (event, webhook, trigger): False when it already exists."""
        doc = delivery.model_dump(mode="json", by_alias=True, exclude={"status", "attempts"})
        doc["body"] = delivery.body
        expires = delivery.created_at + timedelta(days=DELIVERY_RETENTION_DAYS)
        try:
            DeliveryItem(*_delivery_key(delivery.webhook_id, delivery.id), doc=doc, status=delivery.status,
                         attempts=delivery.attempts, expires_at=int(expires.timestamp())
                         ).save(condition=Item.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get_delivery(self, webhook_id: int, delivery_id: str) -> Delivery | None:
        try:
            item = DeliveryItem.get(*_delivery_key(webhook_id, delivery_id), consistent_read=True)
        except DoesNotExist:
            return None
        return _delivery_from(item)

    def deliveries(self, webhook_id: int) -> list[Delivery]:
        items = DeliveryItem.query(f"WEBHOOK#{webhook_id}", DeliveryItem.sk.startswith("DELIVERY#"), consistent_read=True)
        now = clock.epoch_seconds()
        current = (item for item in items if item.expires_at is None or item.expires_at > now)
        return sorted((_delivery_from(item) for item in current), key=lambda d: (d.created_at, d.id))

    def claim_attempt(self, delivery: Delivery, attempt: int) -> bool:
        """Take attempt number `attempt` (only if no other worker took it and it is not settled)."""
        try:
            DeliveryItem(*_delivery_key(delivery.webhook_id, delivery.id)).update(
                actions=[DeliveryItem.attempts.set(attempt)],
                condition=(DeliveryItem.attempts == attempt - 1) & DeliveryItem.status.is_in("pending", "retrying"),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def record_attempt(self, delivery: Delivery, attempt: int, status: str, response_status: int | None,
                       error: str | None, now: datetime) -> None:
        doc: dict[str, Any] = delivery.model_dump(mode="json", by_alias=True, exclude={"status", "attempts"})
        doc.update(body=delivery.body, lastResponseStatus=response_status, lastError=error, updatedAt=iso_z(now))
        doc["history"] = [*doc.get("history", []), {"attempt": attempt, "at": iso_z(now),
                                                    "responseStatus": response_status, "error": error}]
        DeliveryItem(*_delivery_key(delivery.webhook_id, delivery.id)).update(
            actions=[DeliveryItem.status.set(status), DeliveryItem.doc.set(doc)]
        )

