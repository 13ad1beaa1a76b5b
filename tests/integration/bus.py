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

    def skip_backlog(self) -> None:
        """Start from now: what earlier tests wrote to the outbox or left on the queues is not replayed."""
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
