"""One-time EventBridge Scheduler schedules that put a booking's moments on the bus (meeting start / end,
reminders). Names are deterministic per booking and moment, so moving or deleting them needs no lookup."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from booking_core.config import settings
from booking_core.events.contracts import SCHEDULER_SOURCE
from booking_core.timeutil import UTC, iso_z


def schedule_name(kind: str, booking_uid: str, minutes_before: int | None = None) -> str:
    """<= 64 characters of [0-9A-Za-z-_.]: e.g. meetingStarted-<uid> or reminderDue-<uid>-1440."""
    suffix = f"-{minutes_before}" if minutes_before is not None else ""
    return f"{kind}-{booking_uid}{suffix}"


class MomentScheduler:
    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from booking_core.aws import client

            self._client = client("scheduler")
        return self._client

    @staticmethod
    def _config() -> dict[str, str]:
        config = settings().require("EVENT_BUS_ARN", "SCHEDULER_ROLE_ARN")
        return {
            "group": config.schedule_group_name,
            "bus_arn": config.event_bus_arn,
            "role_arn": config.scheduler_role_arn,
            "dlq_arn": config.scheduler_dlq_arn,
        }

    def put(self, name: str, at: datetime, detail_type: str, detail: dict[str, Any], now: datetime) -> bool:
        """Create or move a one-time schedule; a moment already past is not scheduled (returns False)."""
        if at <= now:
            self.delete(name)
            return False
        config = self._config()
        target: dict[str, Any] = {
            "Arn": config["bus_arn"],
            "RoleArn": config["role_arn"],
            "Input": json.dumps(detail, separators=(",", ":")),
            "EventBridgeParameters": {"DetailType": detail_type, "Source": SCHEDULER_SOURCE},
            "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10},
        }
        if config["dlq_arn"]:
            target["DeadLetterConfig"] = {"Arn": config["dlq_arn"]}
        arguments = {
            "Name": name,
            "GroupName": config["group"],
            "ScheduleExpression": f"at({at.astimezone(UTC):%Y-%m-%dT%H:%M:%S})",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": target,
            "ActionAfterCompletion": "DELETE",
        }
        try:
            self.client.create_schedule(**arguments)
        except self.client.exceptions.ConflictException:
            self.client.update_schedule(**arguments)
        return True

    def delete(self, name: str) -> None:
        try:
            self.client.delete_schedule(Name=name, GroupName=self._config()["group"])
        except self.client.exceptions.ResourceNotFoundException:
            pass


def moment_detail(name: str, booking_uid: str, at: datetime, minutes_before: int | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"eventId": f"{name}@{iso_z(at)}", "version": 1, "bookingUid": booking_uid,
                              "scheduledFor": iso_z(at)}
    if minutes_before is not None:
        detail["minutesBefore"] = minutes_before
    return detail
