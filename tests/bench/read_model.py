"""Design probe for docs/proposals/team-read-model.md (not part of `make bench`, and nothing in the service uses it):
what a 100-host request's availability reads would cost with the proposed read model, against the one Query per host
the service makes today (`DynamoBookingStore.host_window`).

The proposed items, written here straight from today's host items so both hold the same busy time:
- a host week, `USER#<id>` / `HW#<ISO year>-W<ISO week>`: one attribute per booking or reservation hold whose held
  interval touches that week (`b<uid>` = "start,end,busyStart,busyEnd,eventTypeId,status" for a booking,
  `h<first lock bucket>` = the same and ",reservedUntil,reservationUid" for a hold), so the booking transaction that
  adds or removes one changes one attribute of one item, without reading it;
- a host's configuration version, `USER#<id>` / `HV`: a number every configuration write would add 1 to, so a
  container knows whether the configuration it remembers is current without reading it again.

For the 7-day slots window and a booking's window (a day each side of the start), over the 100-host team of
section 7: the CPU excluding AWS I/O (as section 2 counts it) of today's hundred Queries and of the read model's
consistent BatchGetItems (100 keys each, concurrently), both turned into the same `HostBooking`s, which are checked
to be equal; and the whole request's CPU today, from which the request's CPU with the read model is estimated (the
rest of the request is unchanged). Each sample makes the request and both reads one after another, so the machine's
drift affects all three alike; the estimate is the median of (request - today's reads + the model's reads).

`python -m tests.bench.read_model` (a few minutes: most of it is writing the team).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

from tests.bench.recorder import Recorder

HOSTS = 100
SAMPLES = 15
WEEK_PREFIX = "HW#"
VERSION_SK = "HV"
BATCH_KEYS = 100
DAY = 24 * 60


def week_sk(minute: int) -> str:
    year, week, _ = datetime.fromtimestamp(minute * 60, tz=timezone.utc).isocalendar()
    return f"{WEEK_PREFIX}{year}-W{week:02d}"


def weeks(from_min: int, to_min: int) -> list[str]:
    return sorted({week_sk(minute) for minute in range(from_min, to_min, DAY)} | {week_sk(to_min - 1)})


def write_read_model(hosts: list[int], from_min: int, to_min: int) -> tuple[int, int]:
    """Each host's week items over [from_min, to_min) (and a version item), from what host_window reads today.
    (intervals written, of which reservation holds)"""
    from booking_core.config import LOCK_BUCKET_MINUTES
    from booking_core.repositories.bookings import DynamoBookingStore
    from booking_core.repositories.tables import Item, availability_client, user_pk

    store, client, written, holds = DynamoBookingStore(), availability_client(), 0, 0
    for host in hosts:
        by_week: dict[str, dict[str, Any]] = {}
        for held in store.host_window(host, from_min, to_min).bookings:
            fields = [held.start_min, held.end_min, held.busy_start_min, held.busy_end_min, held.event_type_id,
                      held.status]
            name = f"b{held.uid}"
            if held.reserved_until is not None:
                fields += [held.reserved_until, held.uid]
                name = f"h{held.busy_start_min // LOCK_BUCKET_MINUTES}"
                holds += 1
            for sk in {week_sk(held.busy_start_min), week_sk(held.busy_end_min - 1)}:
                by_week.setdefault(sk, {})[name] = {"S": ",".join(map(str, fields))}
            written += 1
        key = {"pk": {"S": user_pk(host)}}
        for sk, attributes in by_week.items():
            client.put_item(TableName=Item.Meta.table_name, Item={**key, "sk": {"S": sk}, **attributes})
        client.put_item(TableName=Item.Meta.table_name, Item={**key, "sk": {"S": VERSION_SK}, "v": {"N": "1"}})
    return written, holds


def read_model(hosts: list[int], from_min: int, to_min: int) -> tuple[dict[int, int], dict[int, list[Any]]]:
    """The proposed read: every host's version and weeks in consistent BatchGetItems of 100 keys, concurrently.
    (configuration versions, busy time per host)"""
    from booking_core.concurrency import gather
    from booking_core.ports import HostBooking
    from booking_core.repositories.tables import Item, availability_client, user_pk

    client, table = availability_client(), Item.Meta.table_name
    keys = [{"pk": {"S": user_pk(host)}, "sk": {"S": sk}} for host in hosts
            for sk in (VERSION_SK, *weeks(from_min, to_min))]
    pages = [keys[i:i + BATCH_KEYS] for i in range(0, len(keys), BATCH_KEYS)]
    answers = gather([lambda page=page: client.batch_get_item(
        RequestItems={table: {"Keys": page, "ConsistentRead": True}}) for page in pages])
    versions: dict[int, int] = {}
    busy: dict[int, dict[str, HostBooking]] = {host: {} for host in hosts}
    for answer in answers:
        if answer.get("UnprocessedKeys"):
            raise RuntimeError("unprocessed keys: the proposal retries them, this probe does not")
        for raw in answer["Responses"][table]:
            host = int(raw["pk"]["S"].removeprefix("USER#"))
            if raw["sk"]["S"] == VERSION_SK:
                versions[host] = int(raw["v"]["N"])
                continue
            held = busy[host]
            for name, value in raw.items():
                if name[0] not in "bh" or name in held:  # pk, sk; an interval already read from the week before
                    continue
                start, end, busy_start, busy_end, event_type_id, status, *hold = value["S"].split(",")
                if int(busy_end) > from_min and int(busy_start) < to_min:
                    uid, until = (hold[1], int(hold[0])) if hold else (name[1:], None)
                    held[name] = HostBooking(uid, int(event_type_id), int(start), int(end), int(busy_start),
                                             int(busy_end), status, until)
    return versions, {host: list(held.values()) for host, held in busy.items()}


def today(hosts: list[int], from_min: int, to_min: int) -> dict[int, list[Any]]:
    from booking_core.concurrency import gather
    from booking_core.repositories.bookings import DynamoBookingStore

    store = DynamoBookingStore()
    windows = gather([lambda host=host: store.host_window(host, from_min, to_min) for host in hosts])
    return {host: window.bookings for host, window in zip(hosts, windows)}


def cpu_excluding_io(recorder: Recorder, read: Callable[[], Any]) -> tuple[float, int]:
    """(ms of process CPU minus the CPU inside botocore calls, AWS calls): as section 2 counts a request."""
    mark, started = recorder.mark(), time.process_time()
    read()
    cpu = time.process_time() - started
    calls = recorder.since(mark)
    return (cpu - sum(call.cpu for call in calls)) * 1000, len(calls)


def same(left: dict[int, list[Any]], right: dict[int, list[Any]]) -> bool:
    def key(busy: dict[int, list[Any]]) -> dict[int, list[tuple[Any, ...]]]:
        return {host: sorted((b.uid, b.busy_start_min, b.busy_end_min, b.status) for b in held)
                for host, held in busy.items()}
    return key(left) == key(right)


def main() -> int:
    from tests.bench import test_env
    from tests.bench.__main__ import quiet_stdout
    from tests.bench.flows import Flows
    from tests.bench.stack import booking_api, moto_subprocess
    from tests.bench.teams import FREE_HOURS, TeamBench

    recorder = Recorder()
    recorder.install()
    with moto_subprocess(test_env.MOTO_PORT):
        with quiet_stdout():
            api, handler = booking_api(recorder)
            flows = Flows(api, handler, recorder)
            bench = TeamBench(flows)
            type_id = bench._team(HOSTS, "roundRobin")
            hosts, first, starts = bench.hosts[type_id], date.fromisoformat(flows.day), bench._starts()
            flows.measure(bench._book(type_id, next(starts)), 0.0)  # warm-up, as section 7
            flows.measure(bench._slots(type_id, first), 0.0)
            for offset in (1, 2):  # reservation holds inside both windows (the measured bookings are days before)
                for hour in FREE_HOURS[1:3]:
                    start = f"{first + timedelta(days=offset + 6)}T{hour:02d}:00:00Z"
                    reply = api.call("POST", "/v2/slots/reservations", {"eventTypeId": type_id, "slotStart": start})
                    if reply.status != 201:
                        raise SystemExit(f"reserving {start}: {reply.status} {reply.body}")
        from booking_core.timeutil import to_minutes  # importable once booking_api is loaded

        day_min = to_minutes(datetime(first.year, first.month, first.day, tzinfo=timezone.utc))
        booking_start = day_min + FREE_HOURS[0] * 60 + 7 * DAY
        windows = {"booking": (booking_start - DAY, booking_start + 30 + DAY),
                   "slots": (day_min - DAY, day_min + 8 * DAY)}
        written, holds = write_read_model(hosts, day_min - 2 * DAY, day_min + 10 * DAY)
        if not holds:
            raise SystemExit("no reservation hold was written: the probe would not read any")
        for name, (from_min, to_min) in windows.items():
            if not same(today(hosts, from_min, to_min), read_model(hosts, from_min, to_min)[1]):
                raise SystemExit(f"{name}: the read model's busy time differs from today's")
        # each sample: the whole request, today's reads and the model's, one after another, so drift hits all alike
        samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in windows}
        calls: dict[str, tuple[int, int]] = {}
        for _ in range(SAMPLES):
            for name, (from_min, to_min) in windows.items():
                with quiet_stdout():
                    request = bench._book(type_id, next(starts)) if name == "booking" else bench._slots(type_id, first)
                    whole = flows.measure(request, 0.0).cpu_excluding_io * 1000
                now, now_calls = cpu_excluding_io(recorder, lambda: today(hosts, from_min, to_min))
                model, model_calls = cpu_excluding_io(recorder, lambda: read_model(hosts, from_min, to_min))
                samples[name].append((whole, now, model))
                calls[name] = (now_calls, model_calls)
        print(f"\nRead model probe: {HOSTS} hosts, {written} busy intervals ({holds} reservation holds) written as "
              f"host weeks; CPU excluding AWS I/O, median of {SAMPLES}")
        print(f"{'request':9} {'whole request today':>20} {'reads today':>12} {'calls':>5} {'read model':>11} "
              f"{'calls':>5} {'whole request, estimated':>25}")
        for name, rows in samples.items():
            whole, now, model = (statistics.median(row[i] for row in rows) for i in range(3))
            estimated = statistics.median(row[0] - row[1] + row[2] for row in rows)
            print(f"{name:9} {whole:17.1f} ms {now:9.1f} ms {calls[name][0]:>5} {model:8.1f} ms "
                  f"{calls[name][1]:>5} {estimated:22.1f} ms")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
