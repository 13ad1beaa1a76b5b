"""Busy time from the hosts' connected calendars, for availability.

Every selected calendar of every host is asked at once (one concurrent round, each call with a timeout). A
provider that fails or times out does not block the booking: the failure is logged and counted
(CalendarBusyFailed) and the remaining data is used.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from booking_core.calendars.base import BusyInterval, Credentials
from booking_core.crypto import CALENDAR_CREDENTIALS, seal, unseal
from booking_core.calendars.providers import provider_for
from booking_core.concurrency import gather
from booking_core.observability import count, logger
from booking_core.ports import StoredConnection
from booking_core.timeutil import from_minutes, to_minutes

Interval = tuple[int, int]


def timeout_seconds() -> float:
    return float(os.environ.get("CALENDAR_TIMEOUT_SECONDS", "3"))


def _fetch(stored: StoredConnection, from_min: int, to_min: int,
           save_credentials: Callable[[StoredConnection, str], None] | None) -> list[BusyInterval] | None:
    connection = stored.connection
    try:
        creds = Credentials(unseal(stored.encrypted_credentials, CALENDAR_CREDENTIALS))
        busy = provider_for(connection.type).busy_times(
            creds, connection.selected_calendars, from_minutes(from_min), from_minutes(to_min), timeout_seconds()
        )
        if creds.changed and save_credentials is not None:
            save_credentials(stored, seal(creds.values, CALENDAR_CREDENTIALS))
        return busy
    except Exception as exc:  # noqa: BLE001 - any provider failure: availability goes on without this calendar
        count("CalendarBusyFailed", provider=connection.type)
        logger.warning("calendar busy times unavailable",
                       extra={"connection_id": connection.id, "user_id": connection.user_id,
                              "provider": connection.type, "error": type(exc).__name__})
        return None


def external_busy(
    connections: dict[int, list[StoredConnection]],
    from_min: int,
    to_min: int,
    save_credentials: Callable[[StoredConnection, str], None] | None = None,
) -> dict[int, list[Interval]]:
    """{host id: busy intervals (epoch minutes)} from every selected calendar, fetched concurrently."""
    tasks: list[tuple[int, Callable[[], Any]]] = []
    for host_id, stored_list in connections.items():
        for stored in stored_list:
            if stored.connection.selected_calendars:
                tasks.append((host_id, lambda s=stored: _fetch(s, from_min, to_min, save_credentials)))
    if not tasks:
        return {}
    results = gather([call for _, call in tasks])
    busy: dict[int, list[Interval]] = {}
    for (host_id, _), intervals in zip(tasks, results):
        for interval in intervals or []:
            busy.setdefault(host_id, []).append((to_minutes(interval.start), -(-int(interval.end.timestamp()) // 60)))
    return busy
