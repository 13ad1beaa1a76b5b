"""publisher: outbox stream -> EventBridge. Failed entries are resent; what still fails is reported so the stream
retries from there (and, after the event source's retries, lands in the publisher DLQ).

An event that can never be published (over PutEvents' 256 KB) is parked at once: a reference to it (its eventId,
type and size; the outbox item keeps the event for a week) goes to the publisher DLQ, whose alarm fires, and the
events behind it flow on instead of waiting for a day of retries."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from booking_core.aws import client
from booking_core.config import require, settings
from booking_core.events.publisher import PendingEvent, entry_size, from_stream_records, publish, publishable
from booking_core.observability import count, logger, metrics, tracer

require("PUBLISHER_DLQ_URL")  # at cold start, or fail there


def _put_events(**kwargs: Any) -> dict[str, Any]:
    return client("events").put_events(**kwargs)


def _park(event: PendingEvent, bus_name: str) -> None:
    """A reference to an unpublishable event, in the publisher DLQ (the event itself may not fit a message)."""
    reference = {"reason": "event larger than PutEvents accepts", "eventId": event.event_id,
                 "detailType": event.detail_type, "createdAt": event.created_at,
                 "sizeBytes": entry_size(event, bus_name), "sequenceNumber": event.sequence_number}
    client("sqs").send_message(QueueUrl=settings().publisher_dlq_url, MessageBody=json.dumps(reference))
    count("EventsParked")
    logger.error("event parked: too large to publish", extra={k: v for k, v in reference.items() if k != "reason"})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    bus_name = settings().event_bus_name
    pending = []
    for item in from_stream_records(list(DynamoDBStreamEvent(event).records)):
        if publishable(item, bus_name):
            pending.append(item)
        else:
            _park(item, bus_name)
    failed = publish(pending, _put_events, bus_name)
    published = len(pending) - len(failed)
    if published:
        count("EventsPublished", published)
    if failed:
        count("EventsPublishFailed", len(failed))
        logger.error("events not published", extra={"failed": len(failed), "first": failed[0].event_id})
    # For stream sources Lambda resumes from the lowest reported sequence number; later records are resent too,
    # which at-least-once consumers (idempotent on eventId) absorb.
    return {"batchItemFailures": [{"itemIdentifier": item.sequence_number} for item in failed]}
