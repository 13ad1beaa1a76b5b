"""`make bench` (python -m tests.bench): measures, prints a report, and ends with one machine-readable line:

    bench: single_rt=<n> rr_rt=<n> single_known_rt=<n> import_ratio=<x.xx> slots_cpu_ms=<y.y> reschedule_rt=<n>
           seat_open_rt=<n> seat_join_rt=<n> seat_reschedule_rt=<n> calendar_rounds=<n> list_rt=<n> list_calls=<n>
           growth_ratio=<x.xx> reserve_rt=<n> reserved_booking_rt=<n> rr100_rt=<n> slots100_rt=<n> team100_cpu_ms=<y.y>

1. AWS calls by operation and SEQUENTIAL round trips on the booker's critical path, for a single-host booking and a
   round-robin booking over 3 hosts, through the real booking_api handler against the serial moto server provisioned
   from template.yaml. Calls are counted by botocore hooks on every client; a 30 ms client-side latency is injected
   per call so that concurrent calls overlap, and the round trips are the longest chain of calls each starting after
   the previous one ended (recorder.py). Each books an event type new to the container; `single_known_rt` is a
   single-host booking of a type the container has booked before, whose host it reads ahead (pipeline/reads.py).
2. CPU per request excluding AWS I/O: process CPU of the handler call (time.process_time, all threads) minus the
   CPU the calling threads spent inside botocore calls ('before-call' to 'after-call', time.thread_time per call,
   summed). moto runs in a subprocess (moto_process.py), so none of the emulator's CPU is in this process's CPU time;
   no other thread of this process works during a request. Median of 20 warm requests, no injected latency.
3. Slot computation CPU on already-loaded data, no AWS (slots.py).
4. Cold-start import time of booking_api against boto3 + a DynamoDB client, fresh interpreters (imports.py).
5. Listing bookings over 10,000 bookings of one host (listing.py): calls and sequential round trips of a filtered
   page, the next page, an attendee's page and an unfiltered page over the 4 shards.
6. Booking latency as data grows: 5,000 bookings through the real handler against the serial moto server, the median
   of each hundred (growth.py; a few minutes).
7. Team scale (teams.py): a round-robin booking and a 7-day GET /v2/slots over 3, 10, 30 and 100 hosts and a
   collective type of 8: calls, sequential round trips, wall time with the injected latency, CPU per request.
   `python -m tests.bench.teams` runs this section alone (a few minutes instead of the whole bench).
Nothing here asserts a figure: targets are printed as PASS / MISS.

Not part of `make bench`: `python -m tests.bench.read_model`, a probe of the read model proposed in
docs/proposals/team-read-model.md (what a 100-host team's availability reads would cost with it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.bench import growth, test_env
from tests.bench.flows import CPU_SAMPLES, LATENCY_SECONDS, Flows
from tests.bench.recorder import Recorder, by_operation, by_round, sequential_round_trips
from tests.bench.stack import booking_api, moto_subprocess


@contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null: the handler's structured logs and EMF metrics are real work of each
    request (so they stay on), but not part of the report."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_growth(grown: growth.Growth, line: str) -> None:
    rows = grown.rows
    print(f"\n6. Booking latency as data grows: {len(rows) * growth.PER_ROW:,} bookings, {growth.HOSTS} hosts booked "
          f"{len(growth.HOURS)} a day, day after day; no injected latency ({grown.seconds:.0f} s)")
    print(line)
    print(f"{'bookings':>13}  {'wall, median':>12}  {'CPU per booking':>15}   (handler + moto processes)")
    shown = sorted({0, *range(4, len(rows), 5), len(rows) - 1})
    for index in shown:
        row = rows[index]
        first, last = index * growth.PER_ROW + 1, (index + 1) * growth.PER_ROW
        print(f"{first:>6}-{last:<6} {row.wall_ms:>9.1f} ms {row.cpu_ms:>12.1f} ms")
    cpu = [row.cpu_ms for row in rows]
    print(f"every hundred: CPU per booking {min(cpu):.1f}-{max(cpu):.1f} ms (it follows the week: a host's Monday "
          "has fewer neighbouring bookings to read than its Friday)")
    print(f"same booking on {growth.PROBE_HOSTS} new hosts before and after, table {grown.items_before:,} -> "
          f"{grown.items:,} items: wall {grown.probe_before.wall_ms:.1f} -> {grown.probe_after.wall_ms:.1f} ms, "
          f"CPU {grown.probe_before.cpu_ms:.1f} -> {grown.probe_after.cpu_ms:.1f} ms")
    ratio = grown.ratio("cpu_ms")
    print(f"last hundred / first hundred: CPU {ratio:.2f}x, wall {grown.ratio('wall_ms'):.2f}x   target <= 2 (CPU; wall "
          f"moves with the shared machine's load)   {verdict(ratio <= 2)}")


def main() -> int:
    recorder = Recorder()
    recorder.install()
    with moto_subprocess(test_env.MOTO_PORT) as moto, quiet_stdout():
        api, handler = booking_api(recorder)
        flows = Flows(api, handler, recorder)
        results = flows.run()
        others = flows.other_paths()
        calendar_invocation, calendar_calls, calendar_rounds = flows.calendar_round()
        others["round robin, 3 hosts with Google calendars"] = calendar_invocation
        grown = growth.measure(api, handler, moto.pid)
        from tests.bench import listing  # after the growth run, which measures its own 5,000 bookings

        pages = listing.measure(flows, LATENCY_SECONDS)
        from tests.bench import teams

        team_figures = teams.TeamBench(flows).run()
    all_operations = recorder.operations()

    from tests.bench import imports, slots  # booking_core is importable now (the layer is on sys.path)

    slot_figures = [slots.measure("roundRobin"), slots.measure("collective")]
    import_figures = imports.measure(test_env.ROOT)

    single = results["single-host booking"]
    rr = results["round-robin booking, 3 hosts"]
    single_rt = sequential_round_trips(single.timed.calls)
    rr_rt = sequential_round_trips(rr.timed.calls)
    slots_cpu_ms = slot_figures[0].slots_ms
    ratio = import_figures.ratio
    scans = all_operations.get("Scan", 0)

    line = "-" * 118
    print(f"\n1. AWS calls on the booker's critical path (warm container, fresh hosts and event type, "
          f"{LATENCY_SECONDS * 1000:.0f} ms injected per call)")
    print(line)
    print(f"{'request':36} {'round trips':>11} {'calls':>6}  calls by operation / by round")
    print(line)
    timed = {name: result.timed for name, result in results.items()} | others
    for name, invocation in timed.items():
        calls = invocation.calls
        print(f"{name:36} {sequential_round_trips(calls):>11} {len(calls):>6}  {by_operation(calls)}")
        print(f"{'':57}by round: {by_round(calls)}")
    print(line)
    goal = "goal 3 met" if single_rt <= 3 else "goal 3 not met"
    print(f"single-host booking: {single_rt} sequential round trips   target <= 4 ({goal})   {verdict(single_rt <= 4)}")
    print(f"round-robin booking, 3 hosts: {rr_rt} sequential round trips   (no target)")
    print(f"busy times of 3 hosts' calendars: {calendar_calls} freeBusy calls in {calendar_rounds} concurrent "
          f"round(s) (100 ms each)   target 1   {verdict(calendar_rounds == 1)}")
    print(f"Scan calls: {scans} of {sum(all_operations.values())} AWS calls in the whole run (set-up included)   "
          f"target 0   {verdict(scans == 0)}")

    print(f"\n2. CPU per request excluding AWS I/O (median of {CPU_SAMPLES} warm requests, no injected latency, "
          "moto in a subprocess)")
    print(line)
    print(f"{'request':36} {'handler CPU':>12} {'in botocore':>12} {'excl. AWS I/O':>14} {'excl. all botocore':>19}"
          f" {'wall':>9}")
    for result in results.values():
        print(f"{result.name:36} {result.cpu_ms:>9.1f} ms {result.cpu_in_calls_ms:>9.1f} ms "
              f"{result.cpu_excluding_io_ms:>11.1f} ms {result.cpu_excluding_botocore_ms:>16.1f} ms "
              f"{result.wall_ms:>6.1f} ms")
    print("  in botocore: 'before-call' to 'after-call' per call (send, sign, parse); 'excl. all botocore' also takes "
          "out request\n  serialisation (from 'provide-client-params'). wall: against local moto, for reference only.")

    print(f"\n3. Slot computation CPU: 30 days, 3 hosts, 300 bookings, already loaded, no AWS "
          f"(median of {slots.RUNS})")
    print(line)
    for figures in slot_figures:
        print(f"{figures.scheduling:12} engine (available_slots) {figures.engine_ms:6.1f} ms   "
              f"GET /v2/slots logic (get_slots, formatting included) {figures.slots_ms:6.1f} ms   "
              f"{figures.slots_listed} slots")
    print(f"slots_cpu_ms (round robin, get_slots) = {slots_cpu_ms:.1f} ms   target < 50   {verdict(slots_cpu_ms < 50)}")

    print(f"\n4. Cold-start import time, fresh interpreter, median of {imports.RUNS}")
    print(line)
    print(f"{'':52} {'wall':>9} {'CPU':>9}")
    print(f"booking_api  `import app`                            {import_figures.app_ms:7.1f} ms "
          f"{import_figures.app_cpu_ms:6.1f} ms")
    print(f"baseline     `import boto3; boto3.client('dynamodb')` {import_figures.boto3_ms:7.1f} ms "
          f"{import_figures.boto3_cpu_ms:6.1f} ms")
    print(f"third-party  the modules `import app` loads, alone            {import_figures.third_party_cpu_ms:6.1f} ms"
          f"   (ratio {import_figures.third_party_ratio:.2f}: the stack's floor)")
    print(f"import_ratio = {ratio:.2f} on CPU time (wall: {import_figures.wall_ratio:.2f})   target <= 1.5   "
          f"{verdict(ratio <= 1.5)}")

    print(f"\n5. Listing over {listing.BOOKINGS:,} bookings of one host (GET /v2/bookings, take={listing.TAKE}, "
          f"{LATENCY_SECONDS * 1000:.0f} ms injected per call)")
    print(line)
    print(f"{'page':36} {'round trips':>11} {'calls':>6} {'bookings':>9}  calls by round")
    print(line)
    for name, (invocation, count) in pages.items():
        calls = invocation.calls
        print(f"{name:36} {sequential_round_trips(calls):>11} {len(calls):>6} {count:>9}  {by_round(calls)}")
    list_rt = max(sequential_round_trips(invocation.calls) for invocation, _ in pages.values())
    print(f"worst listing page: {list_rt} sequential round trips   target <= 2   {verdict(list_rt <= 2)}")

    worst = max(sequential_round_trips(others[name].calls) for name in others if "Idempotency" not in name)
    print(f"worst booking flow (reschedules and seats included, without Idempotency-Key): {worst} sequential round "
          f"trips   target <= 5   {verdict(worst <= 5)}")
    print_growth(grown, line)
    teams.report(team_figures, line)
    largest = teams.largest_round_robin(team_figures)
    keys = {
        "single_rt": single_rt,
        "rr_rt": rr_rt,
        "single_known_rt": sequential_round_trips(others["single-host booking, type known"].calls),
        "import_ratio": f"{ratio:.2f}",
        "slots_cpu_ms": f"{slots_cpu_ms:.1f}",
        "reschedule_rt": sequential_round_trips(others["reschedule, single host"].calls),
        "seat_open_rt": sequential_round_trips(others["seated booking, first attendee"].calls),
        "seat_join_rt": sequential_round_trips(others["seated booking, joining attendee"].calls),
        "seat_reschedule_rt": sequential_round_trips(others["reschedule, one seat"].calls),
        "calendar_rounds": calendar_rounds,
        "list_rt": list_rt,
        "list_calls": len(pages["host + type + upcoming, page 1"][0].calls),
        "growth_ratio": f"{grown.ratio('cpu_ms'):.2f}",
        "reserve_rt": sequential_round_trips(others["slot reservation"].calls),
        "reserved_booking_rt": sequential_round_trips(others["single-host booking with its reservation"].calls),
        "rr100_rt": largest.booking.round_trips,
        "slots100_rt": largest.slots.round_trips,
        "team100_cpu_ms": f"{largest.cpu_ms:.1f}",
    }
    print("bench: " + " ".join(f"{key}={value}" for key, value in keys.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
