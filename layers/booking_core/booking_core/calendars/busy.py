"""Busy time from the hosts' connected calendars, for availability.

Every selected calendar of every host is asked at once (one concurrent round, each call with a timeout). A
provider that answers only shorter windows (Microsoft Graph's getSchedule: under 42 days) gets one call per piece
of the window, in the same round. A provider that fails or times out does not block the booking: the failure is
logged and counted (CalendarBusyFailed) and the remaining data is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from booking_core.calendars.base import BusyInterval, Credentials
from booking_core.config import settings
from booking_core.crypto import CALENDAR_CREDENTIALS, seal, unseal
from booking_core.calendars.providers import provider_for
from booking_core.concurrency import gather
from booking_core.observability import count, logger
from booking_core.ports import StoredConnection
from booking_core.timeutil import from_minutes, to_minutes

Interval = tuple[int, int]


def timeout_seconds() -> float:
    return settings().calendar_timeout_seconds


def _fetch(stored: StoredConnection, from_min: int, to_min: int,
           save_credentials: Callable[[StoredConnection, str], None] | None) -> list[BusyInterval] | None:
    connection = stored.connection
    try:
        on_change = ((lambda values: save_credentials(stored, seal(values, CALENDAR_CREDENTIALS)))
                     if save_credentials else None)
        creds = Credentials(unseal(stored.encrypted_credentials, CALENDAR_CREDENTIALS), on_change=on_change)
        owners = {c.external_id: c.owner for c in connection.calendars if c.owner}
        return provider_for(connection.type).busy_times(
            creds, connection.selected_calendars, from_minutes(from_min), from_minutes(to_min), timeout_seconds(),
            owners=owners or None,
        )
    except Exception as exc:  # noqa: BLE001 - any provider failure: availability goes on without this calendar
        count("CalendarBusyFailed", provider=connection.type)
        logger.warning("calendar busy times unavailable",
                       extra={"connection_id": connection.id, "user_id": connection.user_id,
                              "provider": connection.type, "error": type(exc).__name__})
        return None


def _pieces(max_days: int | None, from_min: int, to_min: int) -> list[tuple[int, int]]:
    if not max_days:
        return [(from_min, to_min)]
    step = max_days * 24 * 60
    return [(start, min(start + step, to_min)) for start in range(from_min, to_min, step)]


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
            if not stored.connection.selected_calendars:
                continue
            for start, end in _pieces(provider_for(stored.connection.type).max_busy_days, from_min, to_min):
                tasks.append((host_id, lambda s=stored, a=start, b=end: _fetch(s, a, b, save_credentials)))
    if not tasks:
        return {}
    results = gather([call for _, call in tasks])
    busy: dict[int, list[Interval]] = {}
    for (host_id, _), intervals in zip(tasks, results):
        for interval in intervals or []:
            busy.setdefault(host_id, []).append((to_minutes(interval.start), -(-int(interval.end.timestamp()) // 60)))
    return busy
