"""Time helpers. The availability engine works in whole epoch minutes (ints) for speed and exactness."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc
MINUTE = 60


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """A cached ZoneInfo; raises ValueError for an unknown IANA name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def is_valid_zone(name: str) -> bool:
    try:
        zone(name)
    except ValueError:
        return False
    return True


def parse_instant(value: str) -> datetime:
    """Parse an ISO 8601 instant with an offset (or Z) into an aware UTC datetime."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("an instant needs a UTC offset, e.g. 2026-12-01T09:00:00Z")
    return parsed.astimezone(UTC)


def to_minutes(moment: datetime) -> int:
    """Whole epoch minutes of an aware datetime (seconds are dropped)."""
    return int(moment.timestamp()) // MINUTE


def from_minutes(minutes: int) -> datetime:
    return datetime.fromtimestamp(minutes * MINUTE, UTC)


def iso_z(moment: datetime) -> str:
    """UTC with milliseconds and Z, the service's output format: 2026-12-01T09:00:00.000Z."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def iso_z_minutes(minutes: int) -> str:
    return iso_z(from_minutes(minutes))


def iso_local(minutes: int, tz: ZoneInfo) -> str:
    """Local time with offset and milliseconds: 2026-12-01T10:00:00.000+01:00."""
    local = from_minutes(minutes).astimezone(tz)
    return local.strftime("%Y-%m-%dT%H:%M:%S.000") + _offset(local)


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset() or timedelta(0)
    total = int(delta.total_seconds()) // 60
    sign = "+" if total >= 0 else "-"
    total = abs(total)
    return f"{sign}{total // 60:02d}:{total % 60:02d}"


def local_midnight_minutes(day: date, tz: ZoneInfo) -> int:
    """Epoch minutes of 00:00 of `day` in `tz`."""
    return to_minutes(datetime(day.year, day.month, day.day, tzinfo=tz))


def local_wall_minutes(day: date, minute_of_day: int, tz: ZoneInfo) -> int:
    """Epoch minutes of a wall-clock time on `day` in `tz`.

    minute_of_day may be 1440 (24:00, the next midnight). Wall times that do not exist (the hour skipped when DST
    starts) resolve forward, as zoneinfo does; times that exist twice take the first occurrence.
    """
    if minute_of_day >= 1440:
        return local_midnight_minutes(day + timedelta(days=1), tz)
    hour, minute = divmod(minute_of_day, 60)
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
    # Round-trip through UTC to normalise nonexistent wall times (zoneinfo keeps them as-is otherwise).
    return to_minutes(local.astimezone(UTC))


def local_date(minutes: int, tz: ZoneInfo) -> date:
    return from_minutes(minutes).astimezone(tz).date()


def parse_hhmm(value: str) -> int:
    """'09:30' -> 570. '24:00' is allowed and means end of day."""
    try:
        hours_text, minutes_text = value.split(":")
        hours, minutes = int(hours_text), int(minutes_text)
    except ValueError as exc:
        raise ValueError(f"time {value!r} must be HH:MM") from exc
    if len(hours_text) != 2 or len(minutes_text) != 2 or not (0 <= minutes < 60) or not (0 <= hours <= 24):
        raise ValueError(f"time {value!r} must be HH:MM")
    if hours == 24 and minutes:
        raise ValueError(f"time {value!r} must be HH:MM")
    return hours * 60 + minutes


def floor_to(value: int, step: int) -> int:
    return value - value % step


def ceil_to(value: int, step: int) -> int:
    return -((-value) // step) * step
