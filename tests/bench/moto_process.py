"""The serial moto server in a process of its own: `python -m tests.bench.moto_process PORT`.

Running the emulator in another process keeps its CPU out of the benchmark's process CPU time. The process prints
one line when it listens and stops when its standard input closes, so it never outlives the benchmark.
"""

from __future__ import annotations

import sys

from local.moto_server import SerialMotoServer


def main(port: int) -> None:
    server = SerialMotoServer(port=port).start()
    print("ready", flush=True)
    try:
        sys.stdin.read()  # returns at EOF: the parent closed the pipe or exited
    finally:
        server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]))
