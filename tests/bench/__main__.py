"""`make bench`: what a booking costs, measured (never asserted).

- AWS calls by operation and SEQUENTIAL round trips on the booker's critical path, counted with botocore event hooks
  on every client (boto3's and PynamoDB's). A fixed client-side latency is injected per call so that calls made
  concurrently overlap in time; the round trips are the longest chain of calls each starting after the previous
  one ended.
- CPU per request excluding AWS I/O: process CPU of the handler call minus the CPU the calling threads spent inside
  botocore calls (serialising, signing, parsing). moto runs in a separate process, so its CPU is not counted.
- Slot computation CPU for 30 days, 3 hosts, 300 existing bookings (the slots service on in-memory data).
- Cold-start import time of booking_api next to `import boto3; boto3.client("dynamodb")`, each in fresh
  interpreters, median of 5, with bytecode compiled as a built layer has it.

The last line is machine-readable: `bench: key=value ...`.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import tests.conftest as test_env  # the environment (table names, endpoint on a reserved port) before any import

ROOT = Path(__file__).resolve().parents[2]
LATENCY_SECONDS = 0.04
CPU_RUNS = 20


# -- counting AWS calls ------------------------------------------------------------------------------------------------
class Recorder:
    def __init__(self) -> None:
        self.enabled = False
        self.latency = 0.0
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def before_call(self, model: Any, context: dict, **_: Any) -> None:
        if self.enabled:
            context["bench"] = (time.perf_counter(), time.thread_time())

    def before_send(self, **_: Any) -> None:
        if self.enabled and self.latency:
            time.sleep(self.latency)

    def after_call(self, model: Any, context: dict, **_: Any) -> None:
        started = context.pop("bench", None)
        if started is None:
            return
        with self.lock:
            self.calls.append({"op": model.name, "start": started[0], "end": time.perf_counter(),
                               "cpu": time.thread_time() - started[1]})

    def install(self) -> None:
        import botocore.session

        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-call.*.*", recorder.before_call)
            client.meta.events.register("before-send.*.*", recorder.before_send)
            client.meta.events.register("after-call.*.*", recorder.after_call)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]

    def measure(self, action: Any, latency: float) -> tuple[Any, list[dict[str, Any]], float]:
        self.calls, self.latency, self.enabled = [], latency, True
        cpu = time.process_time()
        try:
            result = action()
        finally:
            cpu = time.process_time() - cpu
            self.enabled = False
        return result, list(self.calls), cpu


def sequential_round_trips(calls: list[dict[str, Any]]) -> int:
    """Longest chain of calls where each starts after the previous one ended."""
    ordered = sorted(calls, key=lambda call: call["end"])
    best: list[int] = []
    for index, call in enumerate(ordered):
        before = [best[j] for j in range(index) if ordered[j]["end"] <= call["start"]]
        best.append(1 + max(before, default=0))
    return max(best, default=0)


def by_operation(calls: list[dict[str, Any]]) -> str:
    counts = Counter(call["op"] for call in calls)
    return ", ".join(f"{op} x{n}" for op, n in sorted(counts.items()))


# -- the stack ---------------------------------------------------------------------------------------------------------
def start_moto() -> subprocess.Popen:
    code = ("import time; from local.moto_server import SerialMotoServer; "
            f"SerialMotoServer(port={test_env.MOTO_PORT}).start(); time.sleep(10**6)")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    import socket

    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", test_env.MOTO_PORT), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto did not start")


def next_weekday(days: int) -> date:
    day = datetime.now(timezone.utc).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


class Scenario:
    def __init__(self, api: Any, recorder: Recorder) -> None:
        self.api, self.recorder = api, recorder
        self.counter = 0

    def email(self) -> str:
        self.counter += 1
        return f"bench{self.counter}@example.org"

    def run(self, body_or_call: Any, latency: float) -> tuple[Any, list[dict[str, Any]], float]:
        return self.recorder.measure(body_or_call, latency)


def bench_requests(api: Any, recorder: Recorder) -> dict[str, Any]:
    scenario = Scenario(api, recorder)
    results: dict[str, Any] = {}

    def single_type(slug: str, **fields: Any) -> int:
        host = api.host(f"Bench {slug}")
        return api.event_type(ownerId=host["id"], slug=slug, **fields)["id"]

    single = single_type("bench-single")
    hosts = [api.host(f"Bench RR {i}") for i in range(3)]
    rr = api.event_type(schedulingType="roundRobin", slug="bench-rr", hosts=[{"userId": h["id"]} for h in hosts])["id"]
    seated = single_type("bench-seats", seats={"seatsPerTimeSlot": 50})
    day = next_weekday(30)

    def workday(offset: int) -> date:
        current = day
        while offset:
            current += timedelta(days=1)
            offset -= current.weekday() < 5
        return current

    def book(type_id: int, hour: int, minute: int = 0, day_offset: int = 0, headers: dict | None = None) -> Any:
        start = f"{workday(day_offset).isoformat()}T{hour:02d}:{minute:02d}:00Z"
        body = {"start": start, "eventTypeId": type_id,
                "attendee": {"name": "Bench", "email": scenario.email(), "timeZone": "UTC"}}
        reply = api.call("POST", "/v2/bookings", body, headers=headers)
        assert reply.status in (200, 201), reply.body
        return reply

    book(single, 9)  # warm: containers, clients, connection pools, deferred validators
    book(rr, 9)
    book(seated, 9)

    measured = {
        "single-host booking": lambda: book(single, 10),
        "round-robin booking (3 hosts)": lambda: book(rr, 10),
        "seated booking, first attendee": lambda: book(seated, 11),
        "seated booking, joining attendee": lambda: book(seated, 11),
        "single-host booking with Idempotency-Key": lambda: book(single, 12, headers={"idempotency-key": "bench-k"}),
    }
    for name, action in measured.items():
        _, calls, _ = scenario.run(action, LATENCY_SECONDS)
        results[name] = {"calls": calls, "rt": sequential_round_trips(calls)}

    original = book(single, 13)
    _, calls, _ = scenario.run(lambda: api.call("POST", f"/v2/bookings/{original.data['uid']}/reschedule",
                                                {"start": f"{day.isoformat()}T14:00:00Z"}), LATENCY_SECONDS)
    results["reschedule (single seat)"] = {"calls": calls, "rt": sequential_round_trips(calls)}
    seat = book(seated, 15)
    _, calls, _ = scenario.run(lambda: api.call("POST", f"/v2/bookings/{seat.data['uid']}/reschedule",
                                                {"start": f"{day.isoformat()}T16:00:00Z",
                                                 "seatUid": seat.data["seatUid"]}), LATENCY_SECONDS)
    results["reschedule (one seat)"] = {"calls": calls, "rt": sequential_round_trips(calls)}
    _, calls, _ = scenario.run(lambda: api.call("GET", f"/v2/slots?eventTypeId={rr}&start={day}&end={day}"),
                               LATENCY_SECONDS)
    results["slots, one day, round robin"] = {"calls": calls, "rt": sequential_round_trips(calls)}

    # CPU per request (no injected latency), median over fresh slots
    for name, type_id in (("single-host booking", single), ("round-robin booking (3 hosts)", rr)):
        samples = []
        for index in range(CPU_RUNS):
            offset, slot = divmod(index, 8)
            _, calls, cpu = scenario.run(lambda: book(type_id, 9 + slot, day_offset=1 + offset), 0)
            samples.append((cpu - sum(call["cpu"] for call in calls)) * 1000)
        results[name]["cpu_ms"] = statistics.median(samples)
    return results


# -- slot computation ----------------------------------------------------------------------------------------------
def bench_slots() -> float:
    from booking_core.ports import HostBooking
    from booking_core.services.slots import get_slots
    from booking_core.timeutil import to_minutes
    from tests.unit.fakes import InMemoryStore

    rng = random.Random(7)
    store = InMemoryStore()
    zones = ["Europe/London", "America/New_York", "Asia/Kolkata"]
    for host, tz in enumerate(zones, start=1):
        store.add_host(host, time_zone=tz)
    store.add_event_type(1, scheduling_type="roundRobin", hosts=[{"user_id": h} for h in (1, 2, 3)],
                         before_event_buffer=5, after_event_buffer=10)
    now = datetime(2027, 3, 1, 0, 0, tzinfo=timezone.utc)
    for index in range(300):  # 100 bookings per host over the 30 days, in working hours or not
        host = index % 3 + 1
        start = to_minutes(now) + rng.randrange(0, 30 * 24 * 4) * 15
        store.host_index.setdefault(host, {})[f"b{index}"] = HostBooking(
            f"b{index}", 9, start, start + 30, start - 5, start + 40, "accepted")
    samples = []
    for _ in range(9):
        cpu = time.process_time()
        slots = get_slots(store, now, 1, "2027-03-01", "2027-03-30", "Europe/Paris")
        samples.append((time.process_time() - cpu) * 1000)
    assert sum(len(day) for day in slots.values()) > 100
    return statistics.median(samples)


# -- cold-start imports ------------------------------------------------------------------------------------------------
IMPORT_APP = ("import sys, time; sys.path[:0] = [{layer!r}, {function!r}]; t = time.perf_counter(); import app; "
              "print(time.perf_counter() - t)")
IMPORT_BOTO3 = ("import time; t = time.perf_counter(); import boto3; boto3.client('dynamodb', region_name='us-east-1'); "
                "print(time.perf_counter() - t)")


def bench_imports() -> tuple[float, float]:
    layer, function = ROOT / "layers" / "booking_core", ROOT / "functions" / "booking_api"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(layer), str(function)], check=True,
                   stdout=subprocess.DEVNULL)
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", "PYDANTIC_DISABLE_PLUGINS": "true"}
    app_times, boto_times = [], []
    for _ in range(5):
        for code, sink in ((IMPORT_APP.format(layer=str(layer), function=str(function)), app_times),
                           (IMPORT_BOTO3, boto_times)):
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            sink.append(float(out.stdout.strip().splitlines()[-1]) * 1000)
    return statistics.median(app_times), statistics.median(boto_times)


def main() -> int:
    recorder = Recorder()
    recorder.install()
    moto = start_moto()
    try:
        import boto3

        from local.lambdas import LambdaContext, add_to_path, load_handler
        from local.provision import describe, provision
        from tests.support import Api

        stack = provision(describe(), boto3.session.Session())
        add_to_path(*stack.layer_dirs)
        spec = stack.functions["BookingApiFunction"]
        handler = load_handler(spec.code_dir, spec.module_file, spec.handler_name, "bench")
        api = Api(handler, lambda: LambdaContext(function_name="bench-BookingApiFunction", timeout_seconds=10))
        import logging

        logging.getLogger("booking-service").setLevel(logging.WARNING)
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
        requests = bench_requests(api, recorder)
    finally:
        moto.terminate()
    slots_ms = bench_slots()
    app_ms, boto_ms = bench_imports()
    ratio = app_ms / boto_ms

    print("\nAWS calls on the booker's critical path (fixed %d ms latency injected per call)" % (LATENCY_SECONDS * 1000))
    print(f"{'request':45} {'round trips':>11}  calls by operation")
    for name, result in requests.items():
        print(f"{name:45} {result['rt']:>11}  {by_operation(result['calls'])}")
    scans = sum(1 for result in requests.values() for call in result["calls"] if call["op"] == "Scan")
    print(f"\nScan calls anywhere: {scans}")
    print("\nCPU per request excluding AWS I/O (median of %d)" % CPU_RUNS)
    for name in ("single-host booking", "round-robin booking (3 hosts)"):
        print(f"  {name:43} {requests[name]['cpu_ms']:7.1f} ms")
    print(f"\nslot computation, 30 days, 3 hosts, 300 bookings: {slots_ms:.1f} ms CPU (target < 50)")
    print(f"cold-start import: booking_api {app_ms:.0f} ms, boto3 + dynamodb client {boto_ms:.0f} ms, "
          f"ratio {ratio:.2f} (target <= 1.5)")
    single_rt = requests["single-host booking"]["rt"]
    print(f"single-host round trips {single_rt} (target <= 4, goal 3); worst flow "
          f"{max(r['rt'] for n, r in requests.items() if 'Idempotency' not in n and 'slots' not in n)} (target <= 5)")
    keys = {
        "single_rt": single_rt,
        "rr_rt": requests["round-robin booking (3 hosts)"]["rt"],
        "import_ratio": f"{ratio:.2f}",
        "slots_cpu_ms": f"{slots_ms:.1f}",
        "reschedule_rt": requests["reschedule (single seat)"]["rt"],
        "seat_reschedule_rt": requests["reschedule (one seat)"]["rt"],
        "seat_open_rt": requests["seated booking, first attendee"]["rt"],
        "seat_join_rt": requests["seated booking, joining attendee"]["rt"],
        "single_cpu_ms": f"{requests['single-host booking']['cpu_ms']:.1f}",
        "rr_cpu_ms": f"{requests['round-robin booking (3 hosts)']['cpu_ms']:.1f}",
        "scans": scans,
    }
    print("bench: " + " ".join(f"{key}={value}" for key, value in keys.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
