"""The workarounds of local/moto_workarounds.py, against the serial moto server every suite and the local stack use.

Each test here fails when its workaround is removed: moto 5.2.5 swaps in a copy of every table a cancelled
transaction touched (so a stream shard iterator taken before it reads an orphaned shard, and the table object
changes), and sorts the whole table for each Query.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local import moto_workarounds
from local.apigw import http_api_event, response_parts
from local.lambdas import FunctionPool
from local.moto_server import backend_access
from local.provision import ACCOUNT, REGION
from tests.support import weekday_ahead

DAY = weekday_ahead(63)


def live_table(name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    with backend_access():
        return dynamodb_backends[ACCOUNT][REGION].tables[name]


@pytest.fixture
def table(aws) -> str:
    """A small table of its own with a stream, as the outbox has."""
    name = f"workaround-{uuid.uuid4().hex[:8]}"
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    yield name
    client.delete_table(TableName=name)


def item(pk: str, sk: str = "A", **attributes: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{key: {"S": value} for key, value in attributes.items()}}


def put(table: str, pk: str, sk: str = "A", **attributes: str) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": item(pk, sk, **attributes),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def stored(table: str) -> list[tuple[str, str]]:
    items = boto3.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted((i["pk"]["S"], i["sk"]["S"]) for i in items)


class Stream:
    """A DynamoDB Streams reader holding one shard iterator from the start, as the stream poller does."""

    def __init__(self, table: str) -> None:
        self.client = boto3.client("dynamodbstreams")
        arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shard = self.client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.client.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                       ShardIteratorType="LATEST")["ShardIterator"]

    def read(self) -> list[tuple[str, str]]:
        response = self.client.get_records(ShardIterator=self.iterator)
        self.iterator = response["NextShardIterator"]
        return [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in response["Records"]]


def cancellation(error: pytest.ExceptionInfo[ClientError]) -> list[str]:
    assert error.value.response["Error"]["Code"] == "TransactionCanceledException"
    return [reason["Code"] for reason in error.value.response["CancellationReasons"]]


def test_the_workarounds_are_installed_by_the_serial_server(aws):
    assert moto_workarounds.installed()


def test_a_cancelled_transaction_keeps_the_table_and_its_stream(table):
    client = boto3.client("dynamodb")
    client.put_item(TableName=table, Item=item("taken"))
    before = live_table(table)
    stream = Stream(table)

    with pytest.raises(ClientError) as error:
        client.transact_write_items(TransactItems=[put(table, "new"), put(table, "taken")])
    assert cancellation(error) == ["None", "ConditionalCheckFailed"]

    assert live_table(table) is before  # moto 5.2.5 put a copy taken before the transaction in its place
    assert stored(table) == [("taken", "A")]
    client.put_item(TableName=table, Item=item("later"))
    assert stream.read() == [("INSERT", "later")]  # the iterator taken before still sees what comes after


def test_cancellation_reasons_are_per_operation_in_order_and_nothing_is_written(table):
    client = boto3.client("dynamodb")
    client.put_item(TableName=table, Item=item("taken", colour="red"))
    stream = Stream(table)
    with pytest.raises(ClientError) as error:
        client.transact_write_items(TransactItems=[
            {"ConditionCheck": {"TableName": table, "Key": item("taken"),
                                "ConditionExpression": "colour = :blue", "ExpressionAttributeValues": {":blue": {"S": "blue"}},
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            put(table, "one"),
            {"Update": {"TableName": table, "Key": item("counter"), "UpdateExpression": "ADD hits :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Delete": {"TableName": table, "Key": item("missing"), "ConditionExpression": "attribute_exists(pk)"}},
        ])
    assert cancellation(error) == ["ConditionalCheckFailed", "None", "None", "ConditionalCheckFailed"]
    assert error.value.response["CancellationReasons"][0]["Item"]["colour"] == {"S": "red"}
    assert stored(table) == [("taken", "A")]
    assert stream.read() == []  # no record of writes that never happened


def test_malformed_transactions_are_refused_as_moto_refuses_them(table):
    client = boto3.client("dynamodb")
    with pytest.raises(ClientError) as twice:
        client.transact_write_items(TransactItems=[put(table, "same"), put(table, "same")])
    assert twice.value.response["Error"]["Code"] == "ValidationException"
    assert "multiple operations on one item" in twice.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as too_many:
        client.transact_write_items(TransactItems=[put(table, f"n{i}") for i in range(101)])
    assert too_many.value.response["Error"]["Code"] == "ValidationException"
    assert stored(table) == []


def test_a_failure_while_applying_puts_back_exactly_what_was_touched(table):
    client = boto3.client("dynamodb")
    client.put_item(TableName=table, Item=item("text", value="not a number"))
    client.put_item(TableName=table, Item=item("kept", value="before"))
    before = live_table(table)
    stream = Stream(table)
    with pytest.raises(ClientError) as error:  # the conditions pass; ADD to a string fails only while applying
        client.transact_write_items(TransactItems=[
            put(table, "new"),
            {"Update": {"TableName": table, "Key": item("kept"), "UpdateExpression": "SET #v = :after",
                        "ExpressionAttributeNames": {"#v": "value"}, "ExpressionAttributeValues": {":after": {"S": "after"}}}},
            {"Update": {"TableName": table, "Key": item("text"), "UpdateExpression": "ADD #v :one",
                        "ExpressionAttributeNames": {"#v": "value"}, "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert live_table(table) is before
    assert stored(table) == [("kept", "A"), ("text", "A")]
    kept = client.get_item(TableName=table, Key=item("kept"), ConsistentRead=True)["Item"]
    assert kept["value"] == {"S": "before"}
    assert stream.read() == []
    client.put_item(TableName=table, Item=item("later"))
    assert stream.read() == [("INSERT", "later")]


def test_a_committed_transaction_writes_everything_and_streams_it(table):
    client = boto3.client("dynamodb")
    stream = Stream(table)
    client.transact_write_items(TransactItems=[put(table, "a"), put(table, "b")])
    assert stored(table) == [("a", "A"), ("b", "A")]
    assert stream.read() == [("INSERT", "a"), ("INSERT", "b")]


def test_a_query_reads_its_partition_only(table):
    client = boto3.client("dynamodb")
    for pk in ("p", "q"):
        for sk in ("c", "a", "b", "d"):
            client.put_item(TableName=table, Item=item(pk, sk))
    live = live_table(table)

    def whole_table() -> list[Any]:
        raise AssertionError("Query sorted the whole table")

    live.all_items = whole_table  # what moto 5.2.5's Query does first, whatever partition is asked for
    try:
        def query(**extra: Any) -> dict[str, Any]:
            return client.query(TableName=table, KeyConditionExpression="pk = :p",
                                ExpressionAttributeValues={":p": {"S": "p"}, **extra.pop("values", {})}, **extra)

        assert [i["sk"]["S"] for i in query()["Items"]] == ["a", "b", "c", "d"]
        page = query(Limit=2, ScanIndexForward=False)
        assert [i["sk"]["S"] for i in page["Items"]] == ["d", "c"]
        rest = query(Limit=2, ScanIndexForward=False, ExclusiveStartKey=page["LastEvaluatedKey"])
        assert [i["sk"]["S"] for i in rest["Items"]] == ["b", "a"]
        ranged = client.query(TableName=table, KeyConditionExpression="pk = :p AND sk BETWEEN :lo AND :hi",
                              ExpressionAttributeValues={":p": {"S": "q"}, ":lo": {"S": "b"}, ":hi": {"S": "c"}})
        assert [i["sk"]["S"] for i in ranged["Items"]] == ["b", "c"]
        empty = client.query(TableName=table, KeyConditionExpression="pk = :p",
                             ExpressionAttributeValues={":p": {"S": "nobody"}})
        assert empty["Items"] == [] and empty["Count"] == 0
    finally:
        del live.all_items


# -- through the real handlers: a race for one slot, then every later booking's event reaches the bus -------------
def test_after_a_race_for_one_slot_later_bookings_still_reach_the_bus(api, bus, aws):
    host = api.host("Race Host")
    event_type = api.event_type(ownerId=host["id"], slug="race-then-book")
    pool = FunctionPool(aws.functions["BookingApiFunction"])
    racers = 10
    for _ in range(racers):
        pool.warm()
    barrier = threading.Barrier(racers)
    statuses: list[int] = []

    def race(index: int) -> None:
        body = {"start": f"{DAY}T10:00:00Z", "eventTypeId": event_type["id"],
                "attendee": {"name": f"Racer {index}", "email": f"racer{index}@example.org", "timeZone": "UTC"}}
        event = http_api_event("POST", "/v2/bookings", {"content-type": "application/json"}, json.dumps(body))
        barrier.wait()
        statuses.append(response_parts(pool.invoke(event))[0])

    threads = [threading.Thread(target=race, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert Counter(statuses) == {201: 1, 409: racers - 1}

    later = [api.book(event_type["id"], f"{DAY}T{hour}:00:00Z", email=f"later{hour}@example.org").data["uid"]
             for hour in (11, 12, 13)]
    uid = api.call("POST", f"/v2/bookings/{later[0]}/cancel", {}).data["uid"]
    bus.pump()
    published = bus.published()
    created = [e["detail"]["booking"]["uid"] for e in published if e["detail-type"] == "bookingCreated"]
    cancelled = [e["detail"]["booking"]["uid"] for e in published if e["detail-type"] == "bookingCancelled"]
    assert set(later) <= set(created) and len(created) == len(set(created)) == 4  # the race's winner and 3 later
    assert cancelled == [uid]


# -- EventBridge target messages and SQS receives ------------------------------------------------------------------
@pytest.fixture
def rule_queue(aws):
    """A bus of its own with a rule sending every event to a queue."""
    name = f"workaround-{uuid.uuid4().hex[:8]}"
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name=name)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=name, EventPattern=json.dumps({"source": ["workaround"]}))
    events.put_targets(Rule=name, EventBusName=name, Targets=[{"Id": "queue", "Arn": arn}])
    yield name, url
    events.remove_targets(Rule=name, EventBusName=name, Ids=["queue"])
    events.delete_rule(Name=name, EventBusName=name)
    events.delete_event_bus(Name=name)
    sqs.delete_queue(QueueUrl=url)


def test_event_target_messages_compile_their_paths_once_and_keep_moto_s_envelope(rule_queue, monkeypatch):
    import jsonpath_ng.ext

    bus, url = rule_queue
    events, sqs = boto3.client("events"), boto3.client("sqs")

    def put(number: int) -> None:
        events.put_events(Entries=[{"EventBusName": bus, "Source": "workaround", "DetailType": "tested",
                                    "Detail": json.dumps({"n": number})}])

    put(1)  # compiles what it needs (if nothing before did)
    compiled: list[str] = []
    original = jsonpath_ng.ext.parse
    monkeypatch.setattr(jsonpath_ng.ext, "parse", lambda text: compiled.append(text) or original(text))
    put(2)
    assert compiled == []  # moto 5.2.5 compiled eight JSONPath expressions per rule target and event
    bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert sorted(body["detail"]["n"] for body in bodies) == [1, 2]
    assert {body["detail-type"] for body in bodies} == {"tested"} and {body["source"] for body in bodies} == {"workaround"}
    assert all(set(body) == {"id", "time", "version", "detail-type", "source", "region", "resources", "detail"}
               for body in bodies)  # moto's envelope, without `account`, as before


def test_receiving_a_message_does_not_count_the_queue(rule_queue, monkeypatch):
    from moto.sqs.models import Queue

    _, url = rule_queue
    sqs = boto3.client("sqs")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)])

    def counted(_: Any) -> dict[str, Any]:
        raise AssertionError("all the queue's attributes were computed (messages counted) to receive one")

    monkeypatch.setattr(Queue, "attributes", property(counted))  # moto 5.2.5 did so twice per message received
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert sorted(m["Body"] for m in received) == sorted(f"m{i}" for i in range(10))
