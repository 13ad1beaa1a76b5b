"""Working hours are compiled once per schedule content and shared: the same content gives the same instance, any
change of what the hours depend on gives new hours, and what callers get back is theirs to change."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from booking_core.domain.availability import REMEMBERED_SCHEDULE_ENTRIES, WorkingHours
from booking_core.domain.users import Schedule
from booking_core.timeutil import to_minutes

MONDAY = to_minutes(datetime(2027, 3, 1, tzinfo=timezone.utc))
WEEK = 7 * 24 * 60


def schedule(schedule_id: int = 1, *, zone: str = "UTC", start: str = "09:00",
             overrides: list | None = None) -> Schedule:
    availability = [{"days": ["Monday"], "startTime": start, "endTime": "17:00"}]
    return Schedule.model_validate({"id": schedule_id, "userId": schedule_id, "name": f"Hours {schedule_id}",
                                    "timeZone": zone, "availability": availability, "overrides": overrides or []})


def monday_hours(hours: WorkingHours) -> list[tuple[int, int]]:
    return [w for w in hours.windows(MONDAY, MONDAY + WEEK) if MONDAY <= w[0] < MONDAY + 24 * 60]


def test_hosts_with_the_same_hours_share_one_compiled_schedule():
    first, second = WorkingHours.from_schedule(schedule(1)), WorkingHours.from_schedule(schedule(2))
    assert first is second
    assert monday_hours(first) == [(MONDAY + 9 * 60, MONDAY + 17 * 60)]


def test_every_part_of_the_hours_is_part_of_what_is_remembered():
    base = WorkingHours.from_schedule(schedule())
    later = WorkingHours.from_schedule(schedule(start="10:00"))
    new_york = WorkingHours.from_schedule(schedule(zone="America/New_York"))
    closed = WorkingHours.from_schedule(schedule(overrides=[{"date": "2027-03-01", "startTime": "00:00",
                                                             "endTime": "00:00"}]))
    assert len({id(base), id(later), id(new_york), id(closed)}) == 4
    assert monday_hours(later) == [(MONDAY + 10 * 60, MONDAY + 17 * 60)]
    assert monday_hours(new_york) == [(MONDAY + 14 * 60, MONDAY + 22 * 60)]  # EST is UTC-5 on 1 March
    assert monday_hours(closed) == []
    assert closed.overrides == {date(2027, 3, 1): ()}


def test_the_windows_handed_out_are_copies():
    hours = WorkingHours.from_schedule(schedule())
    windows = hours.windows(MONDAY, MONDAY + WEEK)
    expected = list(windows)
    windows.append((0, 1))
    windows[0] = (2, 3)
    assert hours.windows(MONDAY, MONDAY + WEEK) == expected


def test_a_schedule_over_the_bound_is_compiled_each_time():
    large = schedule(overrides=[{"date": (date(2027, 4, 1) + timedelta(days=day)).isoformat(), "startTime": "09:00",
                                 "endTime": "10:00"} for day in range(REMEMBERED_SCHEDULE_ENTRIES)])  # + 1 rule
    first, second = WorkingHours.from_schedule(large), WorkingHours.from_schedule(large)
    assert first is not second
    assert first.windows(MONDAY, MONDAY + WEEK) == second.windows(MONDAY, MONDAY + WEEK)
