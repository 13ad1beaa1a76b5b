"""Event source emulation: the DynamoDB stream -> publisher, and SQS queues -> feature functions.

They build the records Lambda's event source mappings send (same shapes), honour batch sizes, filter criteria
and partial batch responses, and retry what failed: stream records from the first failed sequence number,
SQS messages by leaving them on the queue (the queue's redrive policy moves them to the DLQ in the end).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.logging import Logger

from local.provision import REGION

log = Logger(service="local-stack", child=False)


def matches(pattern: dict[str, Any], document: dict[str, Any]) -> bool:
    """EventBridge-style pattern matching for the subset templates use: nested keys and lists of literals."""
    for key, expected in pattern.items():
        if key not in document:
            return False
        value = document[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict) or not matches(expected, value):
                return False
        elif isinstance(expected, list):
            values = value if isinstance(value, list) else [value]
            if not any(v in expected for v in values):
                return False
    return True


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


class _Loop:
    """Polls until stopped. After an idle poll the wait doubles up to IDLE_CEILING and drops back to `interval` as
    soon as there is work: a dozen idle pollers would otherwise keep the one-request-at-a-time moto server busy."""

    IDLE_CEILING = 0.8

    def __init__(self, name: str, interval: float) -> None:
        self._stop = threading.Event()
        self._interval = interval
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        wait = self._interval
        while not self._stop.is_set():
            try:
                busy = self.poll()
            except Exception:  # noqa: BLE001 - a poller must survive any single failure
                log.exception("poller failed", extra={"poller": self._thread.name})
                busy = False
            if busy:
                wait = self._interval
            else:
                self._stop.wait(wait)
                wait = min(wait * 2, max(self.IDLE_CEILING, self._interval))

    def poll(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError


class StreamPoller(_Loop):
    """DynamoDB stream -> function, in order; a reported failure is retried from that record with backoff."""

    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        invoke: Callable[[dict[str, Any]], Any],
        batch_size: int,
        filters: list[dict[str, Any]],
        interval: float = 0.1,
        retry_delay: float = 0.5,
        starting_position: str = "TRIM_HORIZON",
    ) -> None:
        super().__init__(f"stream:{stream_arn.split('/')[1]}", interval)
        self.streams, self.stream_arn, self.invoke = streams, stream_arn, invoke
        self.batch_size, self.filters, self.retry_delay = batch_size, filters, retry_delay
        self.starting_position = starting_position
        self._iterators: dict[str, str] = {}
        self._pending: list[dict[str, Any]] = []
        self._retry_at = 0.0

    def reset(self) -> None:
        """Forget positions and pending records (the next fetch starts again at `starting_position`)."""
        self._iterators.clear()
        self._pending.clear()
        self._retry_at = 0.0

    def _fetch(self) -> None:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=self.starting_position
                )["ShardIterator"]
            response = self.streams.get_records(ShardIterator=self._iterators[shard_id], Limit=1000)
            self._iterators[shard_id] = response.get("NextShardIterator") or self._iterators[shard_id]
            for record in response.get("Records", []):
                record = _jsonable(record)
                record["eventSourceARN"] = self.stream_arn
                if not self.filters or any(matches(f, record) for f in self.filters):
                    self._pending.append(record)

    def poll(self) -> bool:
        if not self._pending:
            self._fetch()
        if not self._pending or time.monotonic() < self._retry_at:
            return False
        batch = self._pending[: self.batch_size]
        try:
            result = self.invoke({"Records": batch}) or {}
            failures = [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]
        except Exception:  # noqa: BLE001 - the function raised: the whole batch is retried
            log.exception("stream batch failed")
            failures = [batch[0]["dynamodb"]["SequenceNumber"]]
        if not failures:
            del self._pending[: len(batch)]
            return True
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        first_failed = min(sequence.index(s) for s in failures if s in sequence) if any(
            s in sequence for s in failures
        ) else 0
        del self._pending[:first_failed]  # everything before the first failure is done
        self._retry_at = time.monotonic() + self.retry_delay
        return False


class QueuePoller(_Loop):
    """SQS queue -> function; messages not reported as failed are deleted, failed ones come back later."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        invoke: Callable[[dict[str, Any]], Any],
        batch_size: int,
        interval: float = 0.1,
        retry_visibility: int = 1,
    ) -> None:
        super().__init__(f"sqs:{queue_arn.rsplit(':', 1)[1]}", interval)
        self.sqs, self.queue_url, self.queue_arn, self.invoke = sqs, queue_url, queue_arn, invoke
        self.batch_size, self.retry_visibility = batch_size, retry_visibility

    def poll(self) -> bool:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.batch_size, 10),
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return False
        event = {"Records": [sqs_record(m, self.queue_arn) for m in messages]}
        try:
            result = self.invoke(event) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:  # noqa: BLE001 - the function raised: every message is retried
            log.exception("queue batch failed")
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        for message in messages:
            if message["MessageId"] in failed:  # local stack: retry in seconds, not the queue's full timeout
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=self.retry_visibility
                )
        return True


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda's SQS event source delivers it."""
    attributes = message.get("Attributes", {})
    body = message["Body"]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
            "SenderId": attributes.get("SenderId", "AIDAIENQZJOLO23YVJ4VO"),
            "ApproximateFirstReceiveTimestamp": attributes.get(
                "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
            ),
        },
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


class EventTap(_Loop):
    """A local-only rule that copies every bus event to a queue, read back in publish order for /_local/events."""

    def __init__(self, sqs: Any, queue_url: str, interval: float = 0.1) -> None:
        super().__init__("tap", interval)
        self.sqs, self.queue_url = sqs, queue_url
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def poll(self) -> bool:
        response = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = response.get("Messages", [])
        if not messages:
            return False
        with self._lock:
            for message in messages:
                envelope = json.loads(message["Body"])
                self.events.append(
                    {
                        "detailType": envelope.get("detail-type"),
                        "source": envelope.get("source"),
                        "time": envelope.get("time"),
                        "detail": envelope.get("detail"),
                    }
                )
        self.sqs.delete_message_batch(
            QueueUrl=self.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        return True

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.events)
