"""The stack the flows run against: moto in a subprocess, the template's resources, the real booking_api handler."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.bench import test_env
from tests.bench.recorder import Call, Recorder
from tests.support import Api


@contextmanager
def moto_subprocess(port: int) -> Iterator[subprocess.Popen[str]]:
    """local.moto_server.SerialMotoServer in a child process on `port` (the endpoint the environment names)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.moto_process", str(port)],
        cwd=test_env.ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the moto subprocess did not start")
        yield process
    finally:
        if process.stdin:
            process.stdin.close()  # the child stops at EOF
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc (clock-tick resolution)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Invocation:
    """One handler call: process CPU and wall time around it, and the AWS calls made during it."""

    cpu: float  # seconds of process CPU (every thread of this process)
    wall: float
    calls: list[Call]

    @property
    def cpu_in_calls(self) -> float:
        return sum(call.cpu for call in self.calls)

    @property
    def cpu_excluding_io(self) -> float:
        return self.cpu - self.cpu_in_calls

    @property
    def cpu_excluding_botocore(self) -> float:
        return self.cpu - sum(call.cpu_with_params for call in self.calls)


class MeteredHandler:
    """Wraps a Lambda handler: measures exactly the handler call (not building the event or reading the reply)."""

    def __init__(self, handler: Callable[[Any, Any], Any], recorder: Recorder) -> None:
        self.handler = handler
        self.recorder = recorder
        self.last: Invocation | None = None

    def __call__(self, event: Any, context: Any) -> Any:
        mark = self.recorder.mark()
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return self.handler(event, context)
        finally:
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            self.last = Invocation(cpu, wall, self.recorder.since(mark))


def booking_api(recorder: Recorder) -> tuple[Api, MeteredHandler]:
    """Provision the template's resources in the running emulator and load booking_api's handler (one container)."""
    import boto3

    from local.lambdas import LambdaContext, add_to_path, load_handler
    from local.provision import describe, provision

    stack = provision(describe(), boto3.session.Session())
    add_to_path(*stack.layer_dirs)
    spec = stack.functions["BookingApiFunction"]
    handler = MeteredHandler(load_handler(spec.code_dir, spec.module_file, spec.handler_name, "bench"), recorder)

    def context() -> LambdaContext:
        return LambdaContext(function_name=f"local-{spec.logical_id}", timeout_seconds=spec.timeout)

    return Api(handler, context), handler
