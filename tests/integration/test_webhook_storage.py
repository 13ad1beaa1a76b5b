"""Webhook data at rest: signing secrets sealed (and items stored before that still sign), delivery records that
expire. Through the real API and event path against moto, reading the raw items the way an operator (or an attacker
with read access to the table) would."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import datetime

import boto3
import pytest

from booking_core.repositories.tables import TTL_ATTRIBUTE
from booking_core.repositories.webhooks import DELIVERY_RETENTION_DAYS
from tests.support import WebhookReceiver, weekday_ahead

DAY = weekday_ahead(57)


RECEIVER = WebhookReceiver()


@pytest.fixture(scope="module")
def receiver():
    with RECEIVER.running() as url:
        yield url


@pytest.fixture
def table(aws):
    return boto3.resource("dynamodb").Table(aws.resolver.refs["BookingsTable"])


def signed_with(secret: str) -> set[str]:
    """The signature headers of every request received so far that verify with `secret` (cal.com's check)."""
    return {r.headers["X-Cal-Signature-256"] for r in RECEIVER.received
            if hmac.compare_digest(hmac.new(secret.encode(), r.raw, hashlib.sha256).hexdigest(),
                                   r.headers["X-Cal-Signature-256"])}


def book_and_deliver(api, bus, event_type_id: int, hour: int) -> dict:
    RECEIVER.clear()
    booking = api.book(event_type_id, f"{DAY.isoformat()}T{hour:02d}:00:00Z", email=f"store{hour}@example.org")
    assert booking.status == 201, booking.body
    bus.pump()
    assert len(RECEIVER.received) == 1
    return booking.data


def test_the_secret_is_sealed_at_rest_and_deliveries_still_sign_with_it(api, bus, receiver, table):
    host = api.host("Sealed Host")
    event_type = api.event_type(ownerId=host["id"], slug="sealed")
    reply = api.call("POST", "/v2/webhooks", {"subscriberUrl": f"{receiver}/ok", "triggers": ["BOOKING_CREATED"],
                                              "secret": "plain-s3cr3t-value", "eventTypeId": event_type["id"]},
                     admin=True)
    assert reply.status == 201 and reply.data["hasSecret"] is True and "secret" not in reply.data
    item = table.get_item(Key={"pk": f"WEBHOOK#{reply.data['id']}", "sk": "WEBHOOK"}, ConsistentRead=True)["Item"]
    assert "plain-s3cr3t-value" not in json.dumps(item, default=str)
    assert item["sealedSecret"].startswith("v2.")
    assert api.call("GET", f"/v2/webhooks/{reply.data['id']}", admin=True).data["hasSecret"] is True

    book_and_deliver(api, bus, event_type["id"], 9)
    assert signed_with("plain-s3cr3t-value")

    patched = api.call("PATCH", f"/v2/webhooks/{reply.data['id']}", {"active": True}, admin=True)
    assert patched.status == 200 and patched.data["hasSecret"] is True  # a patch without a secret keeps it
    book_and_deliver(api, bus, event_type["id"], 10)
    assert signed_with("plain-s3cr3t-value")

    api.call("PATCH", f"/v2/webhooks/{reply.data['id']}", {"secret": "rotated-secret"}, admin=True)
    book_and_deliver(api, bus, event_type["id"], 11)
    assert signed_with("rotated-secret") and not signed_with("plain-s3cr3t-value")

    removed = api.call("PATCH", f"/v2/webhooks/{reply.data['id']}", {"secret": None}, admin=True)
    assert removed.data["hasSecret"] is False
    book_and_deliver(api, bus, event_type["id"], 12)
    assert RECEIVER.received[0].headers["X-Cal-Signature-256"] == "no-secret-provided"


def test_a_webhook_stored_with_a_plain_secret_still_signs_and_is_sealed_when_saved(api, bus, receiver, table):
    host = api.host("Legacy Host")
    event_type = api.event_type(ownerId=host["id"], slug="legacy")
    reply = api.call("POST", "/v2/webhooks", {"subscriberUrl": f"{receiver}/ok", "triggers": ["BOOKING_CREATED"],
                                              "eventTypeId": event_type["id"]}, admin=True)
    key = {"pk": f"WEBHOOK#{reply.data['id']}", "sk": "WEBHOOK"}
    item = table.get_item(Key=key, ConsistentRead=True)["Item"]
    doc = json.loads(item["doc"])
    doc["secret"] = "legacy-plain"  # how items were written before secrets were sealed
    table.put_item(Item={**{k: v for k, v in item.items() if k != "sealedSecret"}, "doc": json.dumps(doc)})

    assert api.call("GET", f"/v2/webhooks/{reply.data['id']}", admin=True).data["hasSecret"] is True
    book_and_deliver(api, bus, event_type["id"], 13)
    assert signed_with("legacy-plain")

    api.call("PATCH", f"/v2/webhooks/{reply.data['id']}", {"active": True}, admin=True)
    item = table.get_item(Key=key, ConsistentRead=True)["Item"]
    assert "legacy-plain" not in json.dumps(item, default=str) and item["sealedSecret"].startswith("v2.")
    book_and_deliver(api, bus, event_type["id"], 14)
    assert signed_with("legacy-plain")


def test_delivery_records_expire(api, bus, receiver, table, aws):
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=aws.resolver.refs["BookingsTable"])
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": TTL_ATTRIBUTE}

    host = api.host("Expiry Host")
    event_type = api.event_type(ownerId=host["id"], slug="expiry")
    hook = api.call("POST", "/v2/webhooks", {"subscriberUrl": f"{receiver}/ok", "triggers": ["BOOKING_CREATED"],
                                             "eventTypeId": event_type["id"]}, admin=True).data
    book_and_deliver(api, bus, event_type["id"], 15)
    [delivery] = api.call("GET", f"/v2/webhooks/{hook['id']}/deliveries", admin=True).data
    key = {"pk": f"WEBHOOK#{hook['id']}", "sk": f"DELIVERY#{delivery['id']}"}
    item = table.get_item(Key=key, ConsistentRead=True)["Item"]
    created = datetime.fromisoformat(delivery["createdAt"].replace("Z", "+00:00")).timestamp()
    assert int(item[TTL_ATTRIBUTE]) == int(created) + DELIVERY_RETENTION_DAYS * 86400

    # DynamoDB deletes expired items some time later; until then the listing leaves them out itself
    table.update_item(Key=key, UpdateExpression="SET #t = :t", ExpressionAttributeNames={"#t": TTL_ATTRIBUTE},
                      ExpressionAttributeValues={":t": int(time.time()) - 1})
    assert api.call("GET", f"/v2/webhooks/{hook['id']}/deliveries", admin=True).data == []
