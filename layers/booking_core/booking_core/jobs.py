"""A feature's own jobs: messages it puts on one of its queues for itself, optionally delayed (SQS DelaySeconds,
at most 15 minutes). The subscriber runtime dispatches `{"job": name, ...}` messages to the feature's job handlers."""

from __future__ import annotations

import json
from typing import Any

from booking_core.aws import client

MAX_DELAY_SECONDS = 900


def send(queue_url: str, job: dict[str, Any], delay_seconds: int = 0) -> None:
    """Put `job` on the feature's queue at `queue_url` (from config.settings(); its app.py requires it)."""
    client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(job),
                      DelaySeconds=max(0, min(int(delay_seconds), MAX_DELAY_SECONDS)))
