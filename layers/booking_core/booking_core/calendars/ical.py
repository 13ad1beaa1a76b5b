"""Just enough iCalendar reading for busy times: VEVENTs with DTSTART / DTEND / DURATION, TZID, all-day dates,
TRANSP and STATUS."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from booking_core.timeutil import UTC

_DURATION = re.compile(r"^(?P<sign>[+-])?P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?"
                       r"(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$")


def unfold(text: str) -> list[str]:
    return re.sub(r"\r?\n[ \t]", "", text).splitlines()


def _property(line: str) -> tuple[str, dict[str, str], str]:
    head, _, value = line.partition(":")
    name, *params = head.split(";")
    parsed = {}
    for param in params:
        key, _, param_value = param.partition("=")
        parsed[key.upper()] = param_value.strip('"')
    return name.upper(), parsed, value


def _moment(value: str, params: dict[str, str], default_tz: ZoneInfo) -> tuple[datetime, bool]:
    """(UTC instant, is_all_day)."""
    if params.get("VALUE") == "DATE" or re.fullmatch(r"\d{8}", value):
        day = date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        return datetime(day.year, day.month, day.day, tzinfo=default_tz).astimezone(UTC), True
    stamp = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    if value.endswith("Z"):
        return stamp.replace(tzinfo=UTC), False
    tz = ZoneInfo(params["TZID"]) if "TZID" in params else default_tz
    return stamp.replace(tzinfo=tz).astimezone(UTC), False


def _duration(value: str) -> timedelta:
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"bad DURATION {value}")
    parts = {k: int(v) for k, v in match.groupdict().items() if v and k != "sign"}
    delta = timedelta(weeks=parts.get("weeks", 0), days=parts.get("days", 0), hours=parts.get("hours", 0),
                      minutes=parts.get("minutes", 0), seconds=parts.get("seconds", 0))
    return -delta if match.group("sign") == "-" else delta


def busy_events(text: str, default_tz: ZoneInfo = ZoneInfo("UTC")) -> list[tuple[datetime, datetime]]:
    """(start, end) of every opaque, non-cancelled VEVENT in an iCalendar document."""
    out = []
    event: dict[str, tuple[dict[str, str], str]] | None = None
    for line in unfold(text):
        if line == "BEGIN:VEVENT":
            event = {}
        elif line == "END:VEVENT" and event is not None:
            interval = _interval(event, default_tz)
            if interval:
                out.append(interval)
            event = None
        elif event is not None and ":" in line:
            name, params, value = _property(line)
            event.setdefault(name, (params, value))
    return out


def _interval(event: dict[str, tuple[dict[str, str], str]], default_tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    if event.get("TRANSP", ({}, "OPAQUE"))[1].upper() == "TRANSPARENT":
        return None
    if event.get("STATUS", ({}, ""))[1].upper() == "CANCELLED":
        return None
    if "DTSTART" not in event:
        return None
    start, all_day = _moment(event["DTSTART"][1], event["DTSTART"][0], default_tz)
    if "DTEND" in event:
        end, _ = _moment(event["DTEND"][1], event["DTEND"][0], default_tz)
    elif "DURATION" in event:
        end = start + _duration(event["DURATION"][1])
    else:
        end = start + (timedelta(days=1) if all_day else timedelta(0))
    return (start, end) if end > start else None
