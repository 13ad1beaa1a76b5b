"""publisher: outbox stream -> EventBridge. Failed entries are resent; what still fails is reported so the stream
retries from there (and, after the event source's retries, lands in the publisher DLQ). Nothing is ever skipped."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from booking_core.config import settings
from booking_core.events.publisher import from_stream_records, publish
from booking_core.observability import count, logger, metrics, tracer

_events_client: Any = None


def _put_events(**kwargs: Any) -> dict[str, Any]:
    global _events_client
    if _events_client is None:
        import boto3

        _events_client = boto3.client("events")
    return _events_client.put_events(**kwargs)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    pending = from_stream_records(list(DynamoDBStreamEvent(event).records))
    failed = publish(pending, _put_events, settings().event_bus_name)
    published = len(pending) - len(failed)
    if published:
        count("EventsPublished", published)
    if failed:
        count("EventsPublishFailed", len(failed))
        logger.error("events not published", extra={"failed": len(failed), "first": failed[0].event_id})
    # For stream sources Lambda resumes from the lowest reported sequence number; later records are resent too,
    # which at-least-once consumers (idempotent on eventId) absorb.
    return {"batchItemFailures": [{"itemIdentifier": event.sequence_number} for event in failed]}
