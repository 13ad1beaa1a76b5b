"""Every AWS call the process makes, seen through botocore's event hooks.

boto3's clients and PynamoDB's botocore clients are all made by `botocore.session.Session.create_client`, so wrapping
that one method puts the hooks on every client, whatever creates it and whichever thread it runs in.

Per call the recorder keeps:
- the operation name and its wall interval [start, end]: 'before-call' (request serialised, about to be sent) to
  'after-call' (response parsed) or 'after-call-error';
- the CPU the calling thread spent between those two hooks (`time.thread_time`): connection handling, signing,
  sending, reading and parsing the response, retries. Both hooks run in the thread that makes the call, so calls
  made concurrently from the gather pool are measured in their own threads. Serialising the request parameters
  happens before 'before-call' and is therefore counted as the caller's CPU, not as AWS I/O; so that share is still
  visible, the CPU from 'provide-client-params' (botocore's first hook) is kept too.

An artificial client-side latency can be injected in 'before-send' (once per HTTP attempt): calls that run
concurrently then clearly overlap in time, and calls that run one after another clearly do not, whatever the speed
of the emulator. Hooks must return None: botocore treats a response from 'before-call' or 'before-send' as the
answer to the request, and one from 'provide-client-params' as replacement parameters.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

_STAMP = "bench.stamp"


@dataclass(frozen=True, slots=True)
class Call:
    operation: str
    service: str
    start: float  # perf_counter at 'before-call'
    end: float  # perf_counter at 'after-call' / 'after-call-error'
    cpu: float  # thread CPU seconds between 'before-call' and 'after-call'
    cpu_with_params: float  # thread CPU seconds from 'provide-client-params' to 'after-call'
    failed: bool


class Recorder:
    def __init__(self) -> None:
        self.latency = 0.0  # seconds slept in 'before-send', per HTTP attempt
        self._calls: list[Call] = []
        self._lock = threading.Lock()
        self._installed = False

    # -- installation ---------------------------------------------------------------------------------------------
    def install(self) -> None:
        """Hook every botocore client created from now on (call before anything creates one)."""
        if self._installed:
            return
        import botocore.session

        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            events = client.meta.events
            events.register("provide-client-params", recorder._params)
            events.register("before-call", recorder._before_call)
            events.register("before-send", recorder._before_send)
            events.register("after-call", recorder._after_call)
            events.register("after-call-error", recorder._after_call_error)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        self._installed = True

    # -- hooks (each returns None) ----------------------------------------------------------------------------------
    def _params(self, context: dict[str, Any], **_: Any) -> None:
        context[_STAMP] = [time.thread_time(), 0.0, 0.0]

    def _before_call(self, context: dict[str, Any], **_: Any) -> None:
        stamp = context.setdefault(_STAMP, [time.thread_time(), 0.0, 0.0])
        stamp[1], stamp[2] = time.perf_counter(), time.thread_time()

    def _before_send(self, **_: Any) -> None:
        if self.latency:
            time.sleep(self.latency)

    def _after_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        self._finish(model.name, model.service_model.service_name, context, failed=False)

    def _after_call_error(self, context: dict[str, Any], event_name: str = "", **_: Any) -> None:
        _, service, operation = (event_name.split(".") + ["", "", ""])[:3]
        self._finish(operation, service, context, failed=True)

    def _finish(self, operation: str, service: str, context: dict[str, Any], failed: bool) -> None:
        stamp = context.pop(_STAMP, None)
        if stamp is None or not stamp[1]:
            return
        end, cpu_end = time.perf_counter(), time.thread_time()
        call = Call(operation, service, stamp[1], end, cpu_end - stamp[2], cpu_end - stamp[0], failed)
        with self._lock:
            self._calls.append(call)

    # -- reading --------------------------------------------------------------------------------------------------
    def mark(self) -> int:
        with self._lock:
            return len(self._calls)

    def since(self, mark: int) -> list[Call]:
        with self._lock:
            return self._calls[mark:]

    def operations(self) -> Counter[str]:
        """Every call recorded so far (set-up included), by operation."""
        with self._lock:
            return Counter(call.operation for call in self._calls)


def rounds(calls: list[Call]) -> list[int]:
    """For each call, the length of the longest chain of calls ending with it, where each call of the chain starts
    after the previous one ended. The largest value is the number of sequential round trips."""
    order = sorted(range(len(calls)), key=lambda index: calls[index].start)
    depth = [0] * len(calls)
    for position, index in enumerate(order):
        call = calls[index]
        before = [depth[j] for j in order[:position] if calls[j].end <= call.start]
        depth[index] = 1 + max(before, default=0)
    return depth


def sequential_round_trips(calls: list[Call]) -> int:
    return max(rounds(calls), default=0)


def by_operation(calls: list[Call]) -> str:
    """'BatchGetItem x1, UpdateItem x1, Query x2, ...' in the order operations were first called."""
    ordered = sorted(calls, key=lambda call: call.start)
    counts = Counter(call.operation for call in ordered)
    return ", ".join(f"{operation} x{count}" for operation, count in counts.items())


def by_round(calls: list[Call]) -> str:
    """'1: BatchGetItem + UpdateItem | 2: Query x2 | 3: TransactWriteItems'."""
    depth = rounds(calls)
    parts = []
    for level in range(1, max(depth, default=0) + 1):
        ops = Counter(call.operation for call, d in sorted(zip(calls, depth), key=lambda p: p[0].start) if d == level)
        parts.append(f"{level}: " + " + ".join(op if n == 1 else f"{op} x{n}" for op, n in ops.items()))
    return " | ".join(parts)
