"""The local scheduler clock: EventBridge Scheduler in moto stores schedules but never fires them, so
POST /_local/scheduler/run fires every schedule due before a given time, as if that time had come."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from booking_core.timeutil import UTC, parse_instant

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")


def due_at(expression: str) -> datetime | None:
    match = _AT.match(expression)
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC) if match else None


def run_schedules(scheduler: Any, events: Any, sqs: Any, until: datetime) -> list[dict[str, Any]]:
    """Deliver every one-time schedule due before `until` to its target, then delete it (ActionAfterCompletion
    DELETE). Targets: an EventBridge bus (PutEvents with the schedule's detail type and source) or an SQS queue."""
    fired = []
    for group in scheduler.list_schedule_groups()["ScheduleGroups"]:
        for summary in scheduler.list_schedules(GroupName=group["Name"])["Schedules"]:
            schedule = scheduler.get_schedule(Name=summary["Name"], GroupName=group["Name"])
            at = due_at(schedule["ScheduleExpression"])
            if at is None or at > until:
                continue
            target = schedule["Target"]
            if ":event-bus/" in target["Arn"]:
                parameters = target.get("EventBridgeParameters", {})
                events.put_events(Entries=[{"EventBusName": target["Arn"].rsplit("/", 1)[1],
                                            "Source": parameters.get("Source", "aws.scheduler"),
                                            "DetailType": parameters.get("DetailType", "Scheduled Event"),
                                            "Detail": target.get("Input", "{}")}])
            elif target["Arn"].startswith("arn:aws:sqs:"):
                queue = target["Arn"].rsplit(":", 1)[1]
                sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=queue)["QueueUrl"],
                                 MessageBody=target.get("Input", "{}"))
            scheduler.delete_schedule(Name=summary["Name"], GroupName=group["Name"])
            fired.append({"name": summary["Name"], "group": group["Name"], "at": at.isoformat().replace("+00:00", "Z"),
                          "detailType": target.get("EventBridgeParameters", {}).get("DetailType")})
    return sorted(fired, key=lambda item: item["at"])


def parse_until(body: dict[str, Any]) -> datetime:
    return parse_instant(str(body["until"]))
