"""booking_core.clock: the one place that decides what time it is, and the local stack's forward-only offset."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from booking_core import clock
from tests.conftest import ROOT

WALL_CLOCK_READS = re.compile(r"\b(datetime\.(now|utcnow|today)|date\.today|time\.time)\(")


@pytest.fixture(autouse=True)
def real_time():
    clock.reset()
    yield
    clock.reset()


def test_now_is_the_wall_clock_unless_moved():
    wall = datetime.now(timezone.utc)
    assert abs(clock.now() - wall) < timedelta(seconds=1)
    assert clock.offset() == timedelta(0)
    assert abs(clock.epoch_seconds() - wall.timestamp()) < 1


def test_moved_forward_it_keeps_ticking_from_there_until_reset():
    target = datetime.now(timezone.utc) + timedelta(days=3, hours=2)
    clock.move_to(target)
    first = clock.now()
    assert abs(first - target) < timedelta(seconds=1)
    assert clock.now() >= first  # ticking, never standing still or going back
    assert abs(clock.offset() - timedelta(days=3, hours=2)) < timedelta(seconds=1)
    assert abs(clock.epoch_seconds() - target.timestamp()) < 1
    clock.reset()
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=1)


def test_it_only_moves_forward_and_needs_an_offset():
    clock.move_to(datetime.now(timezone.utc) + timedelta(days=2))
    with pytest.raises(ValueError, match="forward"):
        clock.move_to(datetime.now(timezone.utc) + timedelta(days=1))
    with pytest.raises(ValueError, match="offset"):
        clock.move_to(datetime(2099, 1, 1))
    assert clock.offset() > timedelta(days=1)


def test_nothing_else_in_the_layer_or_the_functions_reads_the_wall_clock():
    sources = [*(ROOT / "layers").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    readers = [str(path.relative_to(ROOT)) for path in sources
               if path.name != "clock.py" and WALL_CLOCK_READS.search(path.read_text(encoding="utf-8"))]
    assert readers == []
