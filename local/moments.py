"""The local scheduler: EventBridge Scheduler in moto stores schedules but never fires them. Here every one-time
schedule fires once it is due by the stack's clock (booking_core.clock, which POST /_local/clock moves): by itself,
from a background loop, or at once for POST /_local/scheduler/run {"until"} as if that time had come."""

from __future__ import annotations

import functools
import re
import threading
from datetime import datetime
from typing import Any

from booking_core.timeutil import UTC, parse_instant

from local.moto_server import backend_access
from local.provision import ACCOUNT, REGION

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_FIRING = threading.Lock()  # the loop and the endpoint never fire the same schedule twice


@functools.lru_cache(maxsize=65536)
def due_at(expression: str) -> datetime | None:
    match = _AT.match(expression)
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC) if match else None


def due_schedules(until: datetime) -> list[tuple[str, str]]:
    """(group, name) of every enabled one-time schedule due by `until`, earliest first.

    Read from moto's scheduler in this process, between two requests: ListSchedules pages 50 at a time and names no
    time, so finding the due ones through the API would cost a GetSchedule per stored schedule on every tick."""
    from moto.scheduler.models import scheduler_backends

    with backend_access():
        groups = list(scheduler_backends[ACCOUNT][REGION].schedule_groups.values())
        stored = [(schedule.schedule_expression, group.name, schedule.name, schedule.state)
                  for group in groups for schedule in list(group.schedules.values())]
    due = []
    for expression, group, name, state in stored:
        at = due_at(expression)
        if at is not None and at <= until and state == "ENABLED":
            due.append((at, group, name))
    return [(group, name) for _, group, name in sorted(due)]


def run_schedules(scheduler: Any, events: Any, sqs: Any, until: datetime) -> list[dict[str, Any]]:
    """Deliver every one-time schedule due by `until` to its target, then delete it (ActionAfterCompletion
    DELETE). Targets: an EventBridge bus (PutEvents with the schedule's detail type and source) or an SQS queue."""
    fired = []
    with _FIRING:
        for group, name in due_schedules(until):
            try:
                schedule = scheduler.get_schedule(Name=name, GroupName=group)
            except scheduler.exceptions.ResourceNotFoundException:
                continue  # deleted meanwhile (the booking was cancelled)
            at = due_at(schedule["ScheduleExpression"])
            if at is None or at > until:
                continue  # moved meanwhile (the booking was rescheduled)
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
            scheduler.delete_schedule(Name=name, GroupName=group)
            fired.append({"name": name, "group": group, "at": at.isoformat().replace("+00:00", "Z"),
                          "detailType": target.get("EventBridgeParameters", {}).get("DetailType")})
    return fired


class SchedulerClock:
    """Fires what is due by the stack's clock, every `interval` seconds, until stopped."""

    def __init__(self, session: Any, interval: float = 1.0) -> None:
        self._clients = (session.client("scheduler"), session.client("events"), session.client("sqs"))
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler-clock", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        from aws_lambda_powertools.logging import Logger

        from booking_core import clock

        log = Logger(service="local-stack", child=False)
        while not self._stop.wait(self._interval):
            try:
                run_schedules(*self._clients, until=clock.now())
            except Exception:  # noqa: BLE001 - the clock must survive any single failure
                log.exception("scheduler tick failed")


def parse_until(body: dict[str, Any]) -> datetime:
    return parse_instant(str(body["until"]))
