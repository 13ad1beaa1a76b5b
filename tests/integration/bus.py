"""The event path, pumped synchronously for tests: outbox stream -> publisher -> bus -> rule -> queue -> feature
function (and the webhook delivery queue), with the same pollers the local stack runs in threads."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3

from local.lambdas import FunctionPool
from local.pollers import QueuePoller, StreamPoller


class Bus:
    def __init__(self, stack: Any) -> None:
        session = boto3.session.Session()
        self.sqs = session.client("sqs")
        streams = session.client("dynamodbstreams")
        self.pollers: list[Any] = []
        self._published: list[dict[str, Any]] = []
        self.tap_url = self._tap(session, stack)
        self.pools: dict[str, FunctionPool] = {}
        for logical, spec in stack.functions.items():
            pool = self.pools[logical] = FunctionPool(spec)
            for source in spec.sources:
                if source.kind == "DynamoDB":  # only what is written from now on
                    self.pollers.append(StreamPoller(streams, source.arn, pool.invoke, source.batch_size,
                                                     source.filters, retry_delay=0, starting_position="LATEST"))
                else:
                    url = stack.queue_urls[source.arn]
                    self.pollers.append(QueuePoller(self.sqs, url, source.arn, pool.invoke, source.batch_size,
                                                    retry_visibility=0))
        self.skip_backlog()

    def _tap(self, session: Any, stack: Any) -> str:
        """A test-only rule copying every booking-service event on the bus to a queue of its own (what the local
        stack's GET /_local/events reads)."""
        events = session.client("events")
        url = self.sqs.create_queue(QueueName="test-bus-tap")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = stack.environment()["EVENT_BUS_NAME"]
        events.put_rule(Name="test-bus-tap", EventBusName=bus, EventPattern=json.dumps({"source": ["booking-service"]}))
        events.put_targets(Rule="test-bus-tap", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn}])
        return url

    def published(self) -> list[dict[str, Any]]:
        """Every booking-service event put on the bus since the last skip_backlog(), in order (EventBridge envelopes)."""
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.tap_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return list(self._published)
            self._published += [json.loads(m["Body"]) for m in messages]
            self.sqs.delete_message_batch(QueueUrl=self.tap_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])

    def skip_backlog(self) -> None:
        """Start from now: what earlier tests wrote to the outbox or left on the queues is not replayed."""
        self._drain(self.tap_url)
        self._published.clear()
        for poller in self.pollers:
            if isinstance(poller, StreamPoller):
                poller.reset()
                poller.poll()  # positions the iterators at the end of the stream
            else:
                self._drain(poller.queue_url)

    def _drain(self, url: str) -> None:
        while True:
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return
            self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])

    def pump(self, rounds: int = 50, settle: float = 0.0) -> None:
        """Move events along until nothing is left to do."""
        idle = 0
        for _ in range(rounds):
            busy = False
            for poller in self.pollers:
                busy = poller.poll() or busy
            if busy:
                idle = 0
                continue
            idle += 1
            if idle >= 2:
                return
            time.sleep(settle)

    def dead_letters(self, queue_url: str) -> list[dict]:
        """The messages a DLQ holds (they stay there: received, not deleted)."""
        messages = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]
