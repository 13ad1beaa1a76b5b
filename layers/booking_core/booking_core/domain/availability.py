"""The availability engine: working hours, busy time and the slot grid, in whole epoch minutes.

One function decides whether a start is bookable: `compute_slots`. The slots endpoint lists what it returns, and
the booking pipeline books a start only if it is among them, so "a slot is listed exactly when booking it would
succeed" holds by construction. The create transaction's slot locks are the concurrency guarantee; they cover the
same lock-grid intervals this module checks (`held_interval`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from booking_core.config import LOCK_BUCKET_MINUTES
from booking_core.domain.users import WEEKDAYS, Schedule, day_range
from booking_core.timeutil import ceil_to, floor_to, local_date, local_midnight_minutes, local_wall_minutes, zone

Interval = tuple[int, int]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union of half-open intervals; touching intervals are joined."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def intersect(left: Sequence[Interval], right: Sequence[Interval]) -> list[Interval]:
    """Intersection of two sorted, disjoint interval lists."""
    out: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            out.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def held_interval(start: int, end: int, before: int, after: int, bucket: int = LOCK_BUCKET_MINUTES) -> Interval:
    """The interval a booking holds: its buffers added, rounded outward to the lock grid."""
    return floor_to(start - before, bucket), ceil_to(end + after, bucket)


# Working hours are remembered by the schedule's content (time zone, rules, overrides): a team's hosts often share
# one, and a 7-day request over a hundred hosts would otherwise compile and expand the same week a hundred times.
# Bounded by count, by what a schedule holds (a larger one is compiled each time) and by ranges per schedule.
REMEMBERED_SCHEDULES = 512
REMEMBERED_SCHEDULE_ENTRIES = 64  # rules + overrides
REMEMBERED_RANGES = 64  # per compiled schedule

_Rules = tuple[tuple[tuple[str, ...], str, str], ...]  # (days, start, end)
_Overrides = tuple[tuple[date, str, str], ...]  # (date, start, end)


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """A schedule compiled for fast expansion: per weekday ranges and per date overrides, in minutes of day.

    Instances are shared (see `from_schedule`): nothing changes one after it is built but its memo of expanded
    ranges, whose results are handed out as copies."""

    tz: ZoneInfo
    weekly: tuple[tuple[Interval, ...], ...]
    overrides: dict[date, tuple[Interval, ...]]
    _expanded: dict[Interval, tuple[Interval, ...]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_schedule(cls, schedule: Schedule) -> WorkingHours:
        """The schedule compiled; the same instance for schedules of the same content (unless it is larger than
        REMEMBERED_SCHEDULE_ENTRIES)."""
        rules: _Rules = tuple((tuple(rule.days), rule.start_time, rule.end_time) for rule in schedule.availability)
        overrides: _Overrides = tuple((entry.date, entry.start_time, entry.end_time) for entry in schedule.overrides)
        if len(rules) + len(overrides) > REMEMBERED_SCHEDULE_ENTRIES:
            return _compile.__wrapped__(schedule.time_zone, rules, overrides)
        return _compile(schedule.time_zone, rules, overrides)

    def day_ranges(self, day: date) -> tuple[Interval, ...]:
        if day in self.overrides:
            return self.overrides[day]
        return self.weekly[day.weekday()]

    def windows(self, from_min: int, to_min: int) -> list[Interval]:
        """Working windows (epoch minutes) of every local date that can touch [from_min, to_min).

        Each local date's ranges are separate windows, so the slot grid of a date never depends on the query range.
        """
        found = self._expanded.get((from_min, to_min))
        if found is None:
            found = tuple(self._expand(from_min, to_min))
            if len(self._expanded) >= REMEMBERED_RANGES:
                self._expanded.clear()
            self._expanded[(from_min, to_min)] = found
        return list(found)

    def _expand(self, from_min: int, to_min: int) -> list[Interval]:
        first = local_date(from_min, self.tz) - timedelta(days=1)
        last = local_date(to_min, self.tz) + timedelta(days=1)
        out: list[Interval] = []
        day = first
        while day <= last:
            for start, end in self.day_ranges(day):
                out.append((local_wall_minutes(day, start, self.tz), local_wall_minutes(day, end, self.tz)))
            day += timedelta(days=1)
        return out


@lru_cache(maxsize=REMEMBERED_SCHEDULES)
def _compile(time_zone: str, rules: _Rules, overrides: _Overrides) -> WorkingHours:
    weekly: list[list[Interval]] = [[] for _ in WEEKDAYS]
    for days, start_time, end_time in rules:
        span = day_range(start_time, end_time)
        if span is None:
            continue
        for day in days:
            weekly[WEEKDAYS.index(day)].append(span)
    by_date: dict[date, list[Interval]] = {}
    for day, start_time, end_time in overrides:
        spans = by_date.setdefault(day, [])
        span = day_range(start_time, end_time)
        if span is not None:
            spans.append(span)
    return WorkingHours(
        tz=zone(time_zone),
        weekly=tuple(tuple(merge(day)) for day in weekly),
        overrides={day: tuple(merge(spans)) for day, spans in by_date.items()},
    )


@dataclass(slots=True)
class HostAvailability:
    host_id: int
    windows: list[Interval]
    busy: list[Interval] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list, init=False, repr=False)
    _ends: list[int] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        merged = merge(self.busy)
        self._starts = [start for start, _ in merged]
        self._ends = [end for _, end in merged]

    def is_free(self, start: int, end: int) -> bool:
        """True when [start, end) overlaps none of the host's busy time."""
        index = bisect_left(self._starts, end) - 1
        return index < 0 or self._ends[index] <= start


@dataclass(frozen=True, slots=True)
class SlotRules:
    length: int
    interval: int
    before: int = 0
    after: int = 0
    earliest: int = 0  # no start before this (now + minimum notice)
    window_start: int | None = None  # booking window's first instant, if any
    window_end: int | None = None  # booking window's end (exclusive), if any
    bucket: int = LOCK_BUCKET_MINUTES

    def held(self, start: int) -> Interval:
        return held_interval(start, start + self.length, self.before, self.after, self.bucket)

    def in_bounds(self, start: int) -> bool:
        if start < self.earliest:
            return False
        if self.window_start is not None and start < self.window_start:
            return False
        return self.window_end is None or start < self.window_end


def _grid(windows: Iterable[Interval], rules: SlotRules, from_min: int, to_min: int) -> Iterable[int]:
    length, step = rules.length, rules.interval
    for window_start, window_end in windows:
        if window_end <= from_min or window_start >= to_min:
            continue
        start = window_start
        if start < from_min:  # jump to the first grid point at or after from_min
            start += -(-(from_min - start) // step) * step
        while start + length <= window_end and start < to_min:
            yield start
            start += step


def _common_windows(hosts: Sequence[HostAvailability]) -> list[Interval]:
    windows = merge(hosts[0].windows) if hosts else []
    for host in hosts[1:]:
        windows = intersect(windows, merge(host.windows))
    return windows


def compute_slots(
    fixed: Sequence[HostAvailability],
    pool: Sequence[HostAvailability],
    rules: SlotRules,
    from_min: int,
    to_min: int,
) -> dict[int, tuple[int, ...]]:
    """Bookable starts in [from_min, to_min) -> the pool hosts free at that start (empty tuple without a pool).

    fixed: hosts who must all attend (the single host, every collective host, mandatory round-robin hosts).
    pool: round-robin hosts, any one of whom may be chosen. With a pool, a start is bookable when every fixed host
    and at least one pool host are free; the grid of each pool host runs over that host's windows intersected with
    the fixed hosts' windows.
    """
    if not fixed and not pool:
        return {}
    fixed_free: dict[int, bool] = {}

    def all_fixed_free(start: int) -> bool:
        cached = fixed_free.get(start)
        if cached is None:
            held_start, held_end = rules.held(start)
            cached = all(host.is_free(held_start, held_end) for host in fixed)
            fixed_free[start] = cached
        return cached

    slots: dict[int, tuple[int, ...]] = {}
    if not pool:
        for start in _grid(_common_windows(fixed), rules, from_min, to_min):
            if rules.in_bounds(start) and all_fixed_free(start):
                slots[start] = ()
        return slots

    fixed_windows = _common_windows(fixed) if fixed else None
    found: dict[int, list[int]] = {}
    # per start, what every pool host shares (a team's hosts mostly share a grid): the interval it holds, or None
    # when the start is out of bounds or a fixed host is busy
    candidates: dict[int, Interval | None] = {}
    for host in pool:
        windows = merge(host.windows)
        if fixed_windows is not None:
            windows = intersect(fixed_windows, windows)
        for start in _grid(windows, rules, from_min, to_min):
            if start not in candidates:
                candidates[start] = rules.held(start) if rules.in_bounds(start) and all_fixed_free(start) else None
            held = candidates[start]
            if held is not None and host.is_free(*held):
                found.setdefault(start, []).append(host.host_id)
    return {start: tuple(found[start]) for start in sorted(found)}


def window_bounds(
    kind: str,
    value: int | list[date],
    rolling: bool,
    tz: ZoneInfo,
    now_min: int,
    has_availability: Callable[[date], bool],
) -> tuple[int | None, int]:
    """(first instant, exclusive end) of an event type's booking window, in epoch minutes.

    calendarDays N: today and the next N days. businessDays N: today and the next N weekdays (Mon-Fri).
    rolling: only days with working hours count towards N. range [first, last]: those dates, whole days, in `tz`.
    """
    if kind == "range":
        assert isinstance(value, list)
        return local_midnight_minutes(value[0], tz), local_midnight_minutes(value[1] + timedelta(days=1), tz)
    assert isinstance(value, int)
    day = local_date(now_min, tz)
    counted = 0
    for _ in range(3 * 366):
        if counted >= value:
            break
        day += timedelta(days=1)
        if kind == "businessDays" and day.weekday() >= 5:
            continue
        if rolling and not has_availability(day):
            continue
        counted += 1
    return None, local_midnight_minutes(day + timedelta(days=1), tz)
