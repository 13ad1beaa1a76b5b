"""Commit -> outbox stream -> publisher -> bus -> rule -> queue -> subscriber, with the path broken for a while."""

from __future__ import annotations

import json
import sys

import boto3
import pytest

from local.lambdas import LambdaContext, load_handler
from local.pollers import _jsonable, sqs_record
from tests.support import weekday_ahead


@pytest.fixture(scope="module")
def tap(aws):
    """A test-only rule on the bus copying bookingCreated events to a queue we can read."""
    sqs, events = boto3.client("sqs"), boto3.client("events")
    url = sqs.create_queue(QueueName="test-outbox-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = aws.resolver.refs["EventBus"]
    events.put_rule(Name="test-outbox-tap", EventBusName=bus,
                    EventPattern=json.dumps({"source": ["booking-service"], "detail-type": ["bookingCreated"]}))
    events.put_targets(Rule="test-outbox-tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
    return url


def drain(url: str) -> list[dict]:
    sqs = boto3.client("sqs")
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]).get("Messages", [])
        if not batch:
            return messages
        messages.extend(batch)
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                         for i, m in enumerate(batch)])


def outbox_records(aws, booking_uid: str) -> list[dict]:
    streams = boto3.client("dynamodbstreams")
    arn = aws.stream_arns["OutboxTable"]
    found = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
            record = _jsonable(record)
            if booking_uid in record["dynamodb"]["NewImage"]["detail"]["S"]:
                record["eventSourceARN"] = arn
                found.append(record)
    return found


def test_event_survives_a_publisher_outage_and_reaches_a_deduping_subscriber_once(aws, api, tap, monkeypatch):
    host = api.host("Outbox Host")
    event_type = api.event_type(ownerId=host["id"], slug="outbox")
    drain(tap)
    booking = api.book(event_type["id"], f"{weekday_ahead(35).isoformat()}T10:00:00Z").data

    records = outbox_records(aws, booking["uid"])
    assert [r["eventName"] for r in records] == ["INSERT"]  # written in the booking's own transaction
    stream_event = {"Records": records}
    sequence = records[0]["dynamodb"]["SequenceNumber"]

    spec = aws.functions["PublisherFunction"]
    publisher = load_handler(spec.code_dir, spec.module_file, spec.handler_name, "publisher-test")
    module = sys.modules[publisher.__module__]
    real_put_events = module._put_events
    outage = {"calls": 0}

    def broken(**kwargs):
        outage["calls"] += 1
        raise ConnectionError("EventBridge unreachable")

    context = LambdaContext(function_name="local-PublisherFunction", timeout_seconds=10)
    monkeypatch.setattr(module, "_put_events", broken)
    monkeypatch.setattr("booking_core.events.publisher.BACKOFF_SECONDS", 0.0)
    for _ in range(3):  # the stream keeps retrying from the failed record while the outage lasts
        assert publisher(stream_event, context) == {"batchItemFailures": [{"itemIdentifier": sequence}]}
    assert outage["calls"] == 3 * 4  # every attempt resent the entry
    assert drain(tap) == []  # nothing reached the bus

    monkeypatch.setattr(module, "_put_events", real_put_events)
    assert publisher(stream_event, context) == {"batchItemFailures": []}
    # the process dies before the stream checkpoint: the same record is published again
    assert publisher(stream_event, context) == {"batchItemFailures": []}

    delivered = drain(tap)
    ids = [json.loads(m["Body"])["detail"]["eventId"] for m in delivered]
    assert len(ids) == 2 and len(set(ids)) == 1  # at least once on the bus ...

    from booking_core.repositories.entities import UserRepository

    touched: list[int] = []
    original = UserRepository.touch_last_active
    monkeypatch.setattr(UserRepository, "touch_last_active",
                        lambda self, user_id, when: touched.append(user_id) or original(self, user_id, when))
    hosts_spec = aws.functions["HostsFunction"]
    hosts = load_handler(hosts_spec.code_dir, hosts_spec.module_file, hosts_spec.handler_name, "hosts-test")
    queue_arn = "arn:aws:sqs:us-east-1:123456789012:test-outbox-tap"
    for message in delivered:  # ... exactly once at a subscriber that dedupes on eventId
        result = hosts({"Records": [sqs_record(message, queue_arn)]},
                       LambdaContext(function_name="local-HostsFunction", timeout_seconds=10))
        assert result == {"batchItemFailures": []}
    assert touched == [host["id"]]
    user = api.call("GET", f"/v2/users/{host['id']}", admin=True).data
    assert user["lastActiveAt"] == booking["createdAt"]


def stream_record(aws, sequence: int, event_id: str, detail: dict) -> dict:
    """An outbox INSERT as the stream event source delivers it."""
    image = {"eventId": {"S": event_id}, "detailType": {"S": "bookingCreated"},
             "detail": {"S": json.dumps(detail, separators=(",", ":"))}, "createdAt": {"S": "2030-01-02T09:00:00.000Z"},
             "expiresAt": {"N": "1893456000"}}
    return {"eventID": event_id, "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1", "eventSourceARN": aws.stream_arns["OutboxTable"],
            "dynamodb": {"ApproximateCreationDateTime": 1893456000, "Keys": {"eventId": {"S": event_id}},
                         "NewImage": image, "SequenceNumber": f"{sequence:021d}", "SizeBytes": 100,
                         "StreamViewType": "NEW_IMAGE"}}


def test_an_event_too_large_to_publish_is_parked_and_the_ones_behind_it_flow_on(aws, tap):
    """One outbox record over PutEvents' 256 KB sits between two ordinary ones: it goes to the publisher DLQ (a
    reference: its eventId, type and size) at once, the batch reports no failure, and the others reach the bus."""
    spec = aws.functions["PublisherFunction"]
    publisher = load_handler(spec.code_dir, spec.module_file, spec.handler_name, "publisher-park-test")
    dlq_url = aws.queue_urls[aws.resolver.attrs[("PublisherDLQ", "Arn")]]
    drain(tap)
    drain(dlq_url)
    records = [stream_record(aws, 1, "evt-before", {"eventId": "evt-before", "n": 1}),
               stream_record(aws, 2, "evt-huge", {"eventId": "evt-huge", "pad": "x" * (301 * 1024)}),
               stream_record(aws, 3, "evt-after", {"eventId": "evt-after", "n": 3})]
    context = LambdaContext(function_name="local-PublisherFunction", timeout_seconds=10)
    assert publisher({"Records": records}, context) == {"batchItemFailures": []}

    published = [json.loads(m["Body"])["detail"]["eventId"] for m in drain(tap)]
    assert published == ["evt-before", "evt-after"]
    parked = [json.loads(m["Body"]) for m in drain(dlq_url)]
    assert [(p["eventId"], p["detailType"]) for p in parked] == [("evt-huge", "bookingCreated")]
    assert parked[0]["sizeBytes"] > 256 * 1024 and parked[0]["sequenceNumber"] == f"{2:021d}"


def test_the_publisher_dlq_has_an_alarm():
    from local.cfn import load_template, resources

    template = load_template()
    alarmed = {alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
               for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
               if alarm["Properties"].get("Namespace") == "AWS/SQS"}
    assert "PublisherDLQ" in alarmed
    publisher = template["Resources"]["PublisherFunction"]["Properties"]
    assert publisher["Environment"]["Variables"]["PUBLISHER_DLQ_URL"] == {"Ref": "PublisherDLQ"}
