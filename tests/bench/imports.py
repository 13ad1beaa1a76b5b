"""Cold-start import time: booking_api's `import app` next to `import boto3; boto3.client("dynamodb")`.

Each is timed in a fresh interpreter with time.perf_counter around the import statement(s) only, so interpreter
start-up (site, the venv's .pth files) is left out of both alike. Both get the environment Lambda gives
booking_api: the function's variables from template.yaml plus the runtime's own (region, function name, execution
env, credentials), and nothing else from this process (no emulator endpoint). booking_api runs with the function
directory then the layer directory first on sys.path, as Lambda's /var/task and /opt/python.

One untimed run of each comes first (it writes the bytecode a built layer ships and warms the file cache); then
RUNS timed runs of each, alternating, so drift affects both alike. Reported: the medians.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

RUNS = 5

_APP = """
import sys, time
sys.path[:0] = [{function!r}, {layer!r}]
started = time.perf_counter()
import app
print(time.perf_counter() - started)
"""
_BOTO3 = """
import time
started = time.perf_counter()
import boto3
boto3.client("dynamodb")
print(time.perf_counter() - started)
"""


@dataclass(frozen=True, slots=True)
class ImportFigures:
    app_ms: float
    boto3_ms: float

    @property
    def ratio(self) -> float:
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


def _time(code: str, env: dict[str, str], cwd: Path) -> float:
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1]) * 1000


def measure(root: Path) -> ImportFigures:
    env = lambda_environment()
    app_code = _APP.format(function=str(root / "functions" / "booking_api"),
                           layer=str(root / "layers" / "booking_core"))
    cwd = Path("/")  # nothing importable by accident from the working directory
    runs: dict[str, list[float]] = {"app": [], "boto3": []}
    for index in range(RUNS + 1):
        for name, code in (("app", app_code), ("boto3", _BOTO3)):
            elapsed = _time(code, env, cwd)
            if index:
                runs[name].append(elapsed)
    return ImportFigures(statistics.median(runs["app"]), statistics.median(runs["boto3"]))
