"""Booking latency as data grows: 5,000 bookings through the real booking_api handler against the serial moto server.

The bookings are spread as a busy team's would be: 50 hosts, each with an event type of its own, booked hour by hour
through their working days (8 meetings a host a day), day after day. Each booking's availability Query reads the
bookings around its start (a day each way, plus two days of look-back for long buffers), as many as a busy host has
once the first days are filled, while the tables keep growing: what grows is the data, not the work a booking asks
for. No latency is injected.

Before and after the 5,000, a probe books once for each of 100 new hosts (the same start, an empty calendar): the
same work against a small and against a large table, which shows the cost of the data alone.

Per hundred bookings it prints the median wall time of the handler call and the CPU one booking cost on average:
the handler's process CPU plus the moto subprocess's (from /proc; nothing else runs in either meanwhile). Wall time
on this shared two-core machine moves with whatever else runs on it; the CPU figure is the work itself and is what
the 2x target is judged on.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from tests.bench.stack import MeteredHandler, process_cpu
from tests.support import Api, weekday_ahead

BOOKINGS = 5000
PER_ROW = 100
HOSTS = 50
PROBE_HOSTS = 100
HOURS = range(9, 17)  # meetings start on the hour, 09:00 to 16:00 UTC
FIRST_DAY = weekday_ahead(days=30, weekday=0)  # a Monday


@dataclass
class Row:
    wall_ms: float  # median wall time of the handler call
    cpu_ms: float  # mean CPU per booking, handler process + moto process


@dataclass
class Growth:
    rows: list[Row]  # one per PER_ROW bookings, in order
    probe_before: Row
    probe_after: Row
    items_before: int  # items in the bookings table before the bookings
    items: int  # and after them
    seconds: float

    def ratio(self, attribute: str) -> float:
        return getattr(self.rows[-1], attribute) / getattr(self.rows[0], attribute)


def working_days(first: date) -> Iterator[date]:
    day = first
    while True:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def starts(type_ids: list[int]) -> Iterator[tuple[int, str]]:
    for day in working_days(FIRST_DAY):
        for hour in HOURS:
            for type_id in type_ids:
                yield type_id, f"{day}T{hour:02d}:00:00Z"


class Booker:
    def __init__(self, api: Api, handler: MeteredHandler, moto_pid: int) -> None:
        self.api, self.handler, self.moto_pid = api, handler, moto_pid
        self.count = 0
        self._walls: list[float] = []
        self._cpu_mark = 0.0

    def event_types(self, hosts: int, prefix: str) -> list[int]:
        ids = []
        for index in range(hosts):
            host = self.api.host(f"{prefix} Host {index}", time_zone="UTC")
            ids.append(int(self.api.event_type(slug=f"{prefix.lower()}-{index}", ownerId=host["id"])["id"]))
        return ids

    def _cpu(self) -> float:
        return time.process_time() + process_cpu(self.moto_pid)

    def start_row(self) -> None:
        self._walls, self._cpu_mark = [], self._cpu()

    def book(self, type_id: int, start: str) -> None:
        self.count += 1
        reply = self.api.book(type_id, start, email=f"growth{self.count}@example.org")
        if reply.status != 201:
            raise RuntimeError(f"booking failed: {reply.status} {reply.body}")
        assert self.handler.last is not None
        self._walls.append(self.handler.last.wall)

    def end_row(self) -> Row:
        return Row(statistics.median(self._walls) * 1000, (self._cpu() - self._cpu_mark) / len(self._walls) * 1000)

    def probe(self, name: str) -> Row:
        """One booking for each of PROBE_HOSTS new hosts, all at the same start, each on an empty calendar."""
        type_ids = self.event_types(PROBE_HOSTS, name)
        start = f"{FIRST_DAY}T10:00:00Z"
        self.start_row()
        for type_id in type_ids:
            self.book(type_id, start)
        return self.end_row()


def measure(api: Api, handler: MeteredHandler, moto_pid: int, bookings: int = BOOKINGS) -> Growth:
    began = time.monotonic()
    booker = Booker(api, handler, moto_pid)
    type_ids = booker.event_types(HOSTS, "Growth")
    items_before = table_items()
    before = booker.probe("Before")
    rows: list[Row] = []
    booker.start_row()
    for count, (type_id, start) in enumerate(starts(type_ids), start=1):
        booker.book(type_id, start)
        if count % PER_ROW == 0:
            rows.append(booker.end_row())
            booker.start_row()
        if count == bookings:
            break
    after = booker.probe("After")
    return Growth(rows, before, after, items_before, table_items(), time.monotonic() - began)


def table_items() -> int:
    import boto3

    table = boto3.client("dynamodb").describe_table(TableName=os.environ["TABLE_NAME"])
    return int(table["Table"]["ItemCount"])
