"""Cold-start import time: booking_api's `import app` next to `import boto3; boto3.client("dynamodb")`.

Each is timed in a fresh interpreter with time.perf_counter around the import statement(s) only, so interpreter
start-up (site, the venv's .pth files) is left out of both alike. Both get the environment Lambda gives
booking_api: the function's variables from template.yaml plus the runtime's own (region, function name, execution
env, credentials), and nothing else from this process (no emulator endpoint). booking_api runs with the function
directory then the layer directory first on sys.path, as Lambda's /var/task and /opt/python.

One untimed run of each comes first (it writes the bytecode a built layer ships and warms the file cache); then
RUNS timed runs of each, alternating, so drift affects both alike. Reported: the medians of the wall time and of the
process's CPU time. The ratio is taken on CPU time: importing is CPU work (the files are cached), and on a shared
machine the wall time also counts the moments another process had the CPU, which moved the wall ratio by 0.3 between
runs here while the CPU ratio moved by a few hundredths. On a Lambda vCPU the two are the same thing.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

RUNS = 9

_APP = """
import sys, time
sys.path[:0] = [{function!r}, {layer!r}]
started, cpu = time.perf_counter(), time.process_time()
import app
print(time.perf_counter() - started, time.process_time() - cpu)
"""
# The modules `import app` loads that are not this project's, in the order it loads them (printed one per line).
_LOADED = """
import sys
sys.path[:0] = [{function!r}, {layer!r}]
before = list(sys.modules)
import app
ours = ("app", "routes", "booking_core")
print("\\n".join(m for m in sys.modules if m not in before and m.split(".")[0] not in ours))
"""
# Those modules alone, in that order: what any app on this stack pays before a line of its own code runs.
_THIRD_PARTY = """
import importlib, time
names = {names!r}
started, cpu = time.perf_counter(), time.process_time()
for name in names:
    try:
        importlib.import_module(name)
    except Exception:  # a private module that only imports as part of its parent
        pass
print(time.perf_counter() - started, time.process_time() - cpu)
"""
_BOTO3 = """
import time
started, cpu = time.perf_counter(), time.process_time()
import boto3
boto3.client("dynamodb")
print(time.perf_counter() - started, time.process_time() - cpu)
"""


@dataclass(frozen=True, slots=True)
class ImportFigures:
    app_ms: float  # wall
    boto3_ms: float
    app_cpu_ms: float
    boto3_cpu_ms: float
    third_party_cpu_ms: float  # the third-party modules `import app` loads, imported alone

    @property
    def third_party_ratio(self) -> float:
        """The floor this stack sets, against the same baseline: what the ratio would be if our code cost nothing."""
        return self.third_party_cpu_ms / self.boto3_cpu_ms

    @property
    def ratio(self) -> float:
        """On CPU time (see the module docstring)."""
        return self.app_cpu_ms / self.boto3_cpu_ms

    @property
    def wall_ratio(self) -> float:
        return self.app_ms / self.boto3_ms


def lambda_environment() -> dict[str, str]:
    from local.provision import REGION, describe

    spec = describe().functions["BookingApiFunction"]
    runtime = {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_LAMBDA_FUNCTION_NAME": f"local-{spec.logical_id}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    return {**runtime, **spec.environment}


def _time(code: str, env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall ms, CPU ms) of the timed import in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, check=True)
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall) * 1000, float(cpu) * 1000


def measure(root: Path) -> ImportFigures:
    env = lambda_environment()
    app_code = _APP.format(function=str(root / "functions" / "booking_api"),
                           layer=str(root / "layers" / "booking_core"))
    cwd = Path("/")  # nothing importable by accident from the working directory
    loaded = subprocess.run([sys.executable, "-c", _LOADED.format(function=str(root / "functions" / "booking_api"),
                                                                  layer=str(root / "layers" / "booking_core"))],
                            env=env, cwd=cwd, capture_output=True, text=True, check=True).stdout.split()
    third_party_code = _THIRD_PARTY.format(names=loaded)
    runs: dict[str, list[tuple[float, float]]] = {"app": [], "boto3": [], "third_party": []}
    for index in range(RUNS + 1):
        for name, code in (("app", app_code), ("boto3", _BOTO3), ("third_party", third_party_code)):
            elapsed = _time(code, env, cwd)
            if index:
                runs[name].append(elapsed)

    def median(name: str, part: int) -> float:
        return statistics.median(run[part] for run in runs[name])

    return ImportFigures(median("app", 0), median("boto3", 0), median("app", 1), median("boto3", 1),
                         median("third_party", 1))
