"""The IAM guard the integration suite runs under (tests/iam_policy.py): it sees every function's calls, and it refuses
what a role does not allow. Without these, a guard that checked nothing would look like a green IAM test."""

from __future__ import annotations

from booking_core.repositories.entities import UserRepository
from local.lambdas import invoking
from tests.integration.conftest import GUARD
from tests.support import weekday_ahead

DAY = weekday_ahead(64)


def test_every_function_is_checked_on_the_real_event_path(api, bus, aws):
    host = api.host("Guarded Host")
    event_type = api.event_type(ownerId=host["id"], slug="guarded")
    hook = api.call("POST", "/v2/webhooks", {"subscriberUrl": "http://127.0.0.1:9/hook",
                                             "triggers": ["BOOKING_CREATED"], "secret": "guarded"}, admin=True)
    assert hook.status == 201
    before = GUARD.checked.copy()
    booking = api.book(event_type["id"], f"{DAY.isoformat()}T10:00:00Z", email="guarded@example.org")
    assert booking.status == 201, booking.body
    bus.pump()
    api.call("DELETE", f"/v2/webhooks/{hook.data['id']}", admin=True)
    grown = {function for function, count in GUARD.checked.items() if count > before.get(function, 0)}
    assert grown >= {"BookingApiFunction", "PublisherFunction", "HostsFunction", "WebhooksFunction",
                     "NotificationsFunction", "CalendarSyncFunction"}


def test_a_call_outside_the_role_is_a_violation(aws):
    hosts = aws.functions["HostsFunction"]
    token = invoking.set(hosts.code_dir)
    try:
        with GUARD.expecting_violations() as found:
            UserRepository().get(1)  # hosts may update profiles, not read them
    finally:
        invoking.reset(token)
    [violation] = found
    assert violation.function == "HostsFunction" and violation.request.action == "dynamodb:GetItem"
    assert violation.request.context == {"dynamodb:LeadingKeys": ["USER#1"]}


def test_a_key_outside_the_granted_prefixes_is_a_violation(aws):
    import boto3

    table = aws.resolver.refs["BookingsTable"]
    token = invoking.set(aws.functions["NotificationsFunction"].code_dir)
    try:
        with GUARD.expecting_violations() as found:
            client = boto3.client("dynamodb")
            client.get_item(TableName=table, Key={"pk": {"S": "BOOKING#nope"}, "sk": {"S": "BOOKING"}})
            client.get_item(TableName=table, Key={"pk": {"S": "USER#1"}, "sk": {"S": "HC#PROFILE"}})
            client.scan(TableName=table, Limit=1)
            boto3.client("sqs").get_queue_attributes(
                QueueUrl=aws.queue_urls[aws.resolver.attrs[("HostsQueue", "Arn")]], AttributeNames=["All"])
    finally:
        invoking.reset(token)
    assert [(v.call, v.request.context.get("dynamodb:LeadingKeys")) for v in found] == [
        ("dynamodb:GetItem", ["USER#1"]), ("dynamodb:Scan", None), ("sqs:GetQueueAttributes", None)]
