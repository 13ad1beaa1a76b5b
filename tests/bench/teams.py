"""Team scale: a round-robin booking and a 7-day GET /v2/slots over teams of 3, 10, 30 and 100 hosts, and a
collective type of 8 hosts (a collective booking holds every host's locks in one transaction of at most 100 items,
so about a dozen hosts is as large as a collective type can be).

Each host has a working week of other bookings around the measured day (BUSY_HOURS on every working day from a week
before to three weeks after it, written straight to the table as the booking path's host items), so the
availability reads return and sweep what a busy team's would. The measured bookings take the free hours.

Per team: AWS calls, sequential round trips and wall time with the injected latency (as in section 1), then the CPU
per request, the median of CPU_SAMPLES warm requests without injected latency: the handler call's process CPU
(time.process_time, every thread) and that CPU excluding AWS I/O (minus the CPU spent inside botocore calls, as in
section 2; the target is on this one, like section 2's).

`python -m tests.bench.teams` runs this section alone.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta

from tests.bench.recorder import by_round, sequential_round_trips
from tests.bench.stack import Invocation

SIZES = (3, 10, 30, 100)
COLLECTIVE_HOSTS = 8
CPU_SAMPLES = 7
BUSY_HOURS = (9, 11, 13, 15)  # other bookings, 30 minutes each; the measured ones start at 10:00, 12:00, ...
FREE_HOURS = (10, 12, 14, 16)
DAYS_BEFORE, DAYS_AFTER = 7, 21


@dataclass
class Measured:
    timed: Invocation  # with the injected latency
    cpu_samples: list[Invocation] = field(default_factory=list)  # without it

    @property
    def calls(self) -> int:
        return len(self.timed.calls)

    @property
    def queries(self) -> int:
        return sum(1 for call in self.timed.calls if call.operation == "Query")

    @property
    def round_trips(self) -> int:
        return sequential_round_trips(self.timed.calls)

    @property
    def wall_ms(self) -> float:
        return self.timed.wall * 1000

    @property
    def cpu_ms(self) -> float:
        """CPU excluding AWS I/O, median of the samples."""
        return statistics.median(sample.cpu_excluding_io * 1000 for sample in self.cpu_samples)

    @property
    def botocore_ms(self) -> float:
        """Of cpu_ms, botocore's own work between 'provide-client-params' and 'before-call' of every call (endpoint
        rules, serialising, headers), median of the samples."""
        return statistics.median((sample.cpu_excluding_io - sample.cpu_excluding_botocore) * 1000
                                 for sample in self.cpu_samples)

    @property
    def process_ms(self) -> float:
        """Process CPU of the handler call (every thread, botocore included), median of the samples."""
        return statistics.median(sample.cpu * 1000 for sample in self.cpu_samples)


@dataclass
class Team:
    label: str
    hosts: int
    booking: Measured
    slots: Measured

    @property
    def cpu_ms(self) -> float:
        """The costlier request's CPU excluding AWS I/O."""
        return max(self.booking.cpu_ms, self.slots.cpu_ms)


def largest_round_robin(teams: list[Team]) -> Team:
    return next(team for team in teams if team.hosts == max(SIZES) and "round robin" in team.label)


def _busy_items(host_ids: list[int], day: date) -> int:
    """Other bookings of every host around `day`, as the booking path stores a host's busy time."""
    from booking_core.pipeline.creation import new_uid
    from booking_core.ports import HostBooking
    from booking_core.repositories.bookings import _host_booking_item
    from booking_core.repositories.tables import Item
    from booking_core.timeutil import to_minutes

    from datetime import datetime, timezone

    written = 0
    with Item.batch_write() as batch:
        for offset in range(-DAYS_BEFORE, DAYS_AFTER + 1):
            current = day + timedelta(days=offset)
            if current.weekday() >= 5:
                continue
            for hour in BUSY_HOURS:
                start = to_minutes(datetime(current.year, current.month, current.day, hour, tzinfo=timezone.utc))
                for host_id in host_ids:
                    uid = new_uid()
                    batch.save(_host_booking_item(host_id, HostBooking(uid, 1, start, start + 30, start, start + 30,
                                                                       "accepted")))
                    written += 1
    return written


class TeamBench:
    def __init__(self, flows) -> None:
        self.flows = flows
        self._ids = itertools.count(1)
        self.hosts: dict[int, list[int]] = {}  # event type id -> its hosts

    def _team(self, size: int, scheduling: str) -> int:
        api = self.flows.api
        hosts = [int(api.host(f"Team Host {next(self._ids)}", time_zone="UTC")["id"]) for _ in range(size)]
        _busy_items(hosts, date.fromisoformat(self.flows.day))
        type_id = int(api.event_type(slug=f"bench-team-{next(self._ids)}", schedulingType=scheduling,
                                     hosts=[{"userId": host} for host in hosts])["id"])
        self.hosts[type_id] = hosts
        return type_id

    def _starts(self) -> itertools.cycle:
        day = date.fromisoformat(self.flows.day)
        days = [day + timedelta(days=offset) for offset in (0, 1, 2, 7, 8, 9)]  # Wednesday to Friday, two weeks
        return itertools.cycle([(d, hour) for d in days for hour in FREE_HOURS])

    def _book(self, type_id: int, start: tuple[date, int]):
        day, hour = start
        flows = self.flows
        body = {"start": f"{day}T{hour:02d}:00:00Z", "eventTypeId": type_id,
                "attendee": {"name": "Booker", "email": f"team{next(self._ids)}@example.org",
                             "timeZone": "Europe/London"}}
        return lambda: flows.api.call("POST", "/v2/bookings", body)

    def _slots(self, type_id: int, first: date):
        end = (first + timedelta(days=6)).isoformat()
        path = f"/v2/slots?eventTypeId={type_id}&start={first.isoformat()}&end={end}&timeZone=Europe/London"
        return lambda: self.flows.api.call("GET", path)

    def measure(self, label: str, size: int, scheduling: str) -> Team:
        from tests.bench.flows import LATENCY_SECONDS

        flows = self.flows
        type_id = self._team(size, scheduling)
        starts = self._starts()
        first = date.fromisoformat(flows.day)
        flows.measure(self._book(type_id, next(starts)), 0.0)  # warm-up: this team's first booking
        flows.measure(self._slots(type_id, first), 0.0)
        booking = Measured(flows.measure(self._book(type_id, next(starts)), LATENCY_SECONDS))
        slots = Measured(flows.measure(self._slots(type_id, first), LATENCY_SECONDS))
        for _ in range(CPU_SAMPLES):
            booking.cpu_samples.append(flows.measure(self._book(type_id, next(starts)), 0.0))
            slots.cpu_samples.append(flows.measure(self._slots(type_id, first), 0.0))
        return Team(label, size, booking, slots)

    def run(self) -> list[Team]:
        teams = [self.measure(f"round robin, {size} hosts", size, "roundRobin") for size in SIZES]
        teams.append(self.measure(f"collective, {COLLECTIVE_HOSTS} hosts", COLLECTIVE_HOSTS, "collective"))
        return teams


def report(teams: list[Team], line: str) -> None:
    print("\n7. Team scale: round-robin booking and 7-day GET /v2/slots over larger teams (each host with 4 other "
          "bookings\n   a working day, a week before to three weeks after; 30 ms injected per AWS call; CPU: median "
          f"of {CPU_SAMPLES} without it,\n   the handler's process CPU and that CPU excluding AWS I/O)")
    print(line)
    print(f"{'team':26} {'booking: calls':>14} {'rt':>3} {'wall':>8} {'CPU':>8} {'excl. I/O':>9}   "
          f"{'slots: calls':>12} {'rt':>3} {'wall':>8} {'CPU':>8} {'excl. I/O':>9}")
    print(line)
    for team in teams:
        b, s = team.booking, team.slots
        print(f"{team.label:26} {b.calls:>14} {b.round_trips:>3} {b.wall_ms:>5.0f} ms {b.process_ms:>5.1f} ms "
              f"{b.cpu_ms:>6.1f} ms   {s.calls:>12} {s.round_trips:>3} {s.wall_ms:>5.0f} ms {s.process_ms:>5.1f} ms "
              f"{s.cpu_ms:>6.1f} ms")
    print(line)
    worst_rt = max(max(team.booking.round_trips, team.slots.round_trips) for team in teams)
    biggest = largest_round_robin(teams)
    per_host = max(biggest.booking.queries, biggest.slots.queries) / biggest.hosts
    print(f"Queries per host at {biggest.hosts} hosts (booking and slots): {per_host:.2f}   target <= 1   "
          f"{'PASS' if per_host <= 1 else 'MISS'}")
    for name, measured in (("booking", biggest.booking), ("slots", biggest.slots)):
        queries = sorted(call.start for call in measured.timed.calls if call.operation == "Query")
        print(f"{biggest.hosts} hosts, {name} by round: {by_round(measured.timed.calls)}; the Queries were issued over "
              f"{(queries[-1] - queries[0]) * 1000:.0f} ms")
    print(f"worst team request: {worst_rt} sequential round trips   target <= 3   "
          f"{'PASS' if worst_rt <= 3 else 'MISS'}")
    print(f"CPU per request at {biggest.hosts} hosts, excluding AWS I/O: {biggest.cpu_ms:.1f} ms (process CPU "
          f"{max(biggest.booking.process_ms, biggest.slots.process_ms):.1f} ms)   target < 50   "
          f"{'PASS' if biggest.cpu_ms < 50 else 'MISS'}")
    print(f"of which botocore's work before each call is sent: booking {biggest.booking.botocore_ms:.1f} ms, slots "
          f"{biggest.slots.botocore_ms:.1f} ms (the rest: ours, boto3's wrapper, the thread pool)")


def main() -> int:
    """`python -m tests.bench.teams`: this section alone (a few minutes instead of the whole bench)."""
    from tests.bench import test_env
    from tests.bench.__main__ import quiet_stdout
    from tests.bench.flows import Flows
    from tests.bench.recorder import Recorder
    from tests.bench.stack import booking_api, moto_subprocess

    recorder = Recorder()
    recorder.install()
    with moto_subprocess(test_env.MOTO_PORT), quiet_stdout():
        api, handler = booking_api(recorder)
        teams = TeamBench(Flows(api, handler, recorder)).run()
    report(teams, "-" * 118)
    largest = largest_round_robin(teams)
    print(f"bench (section 7): rr100_rt={largest.booking.round_trips} slots100_rt={largest.slots.round_trips} "
          f"team100_cpu_ms={largest.cpu_ms:.1f}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
