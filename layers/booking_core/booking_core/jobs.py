"""A feature's own jobs: messages it puts on one of its queues for itself, optionally delayed (SQS DelaySeconds,
at most 15 minutes). The subscriber runtime dispatches `{"job": name, ...}` messages to the feature's job handlers."""

from __future__ import annotations

import json
import os
from typing import Any

from booking_core.aws import client

MAX_DELAY_SECONDS = 900


def send(queue_url_variable: str, job: dict[str, Any], delay_seconds: int = 0) -> None:
    """Put `job` on the queue whose URL the environment variable `queue_url_variable` names."""
    client("sqs").send_message(QueueUrl=os.environ[queue_url_variable], MessageBody=json.dumps(job),
                      DelaySeconds=max(0, min(int(delay_seconds), MAX_DELAY_SECONDS)))
