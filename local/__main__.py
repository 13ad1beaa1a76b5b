"""`python -m local` (what `make run` starts): the whole service on this machine, emulated AWS, no Docker."""

from __future__ import annotations

import os
import signal
import sys
import threading


def main() -> int:
    from local.seed import instructions, seed
    from local.stack import LocalStack, stage_from_environment

    stack = LocalStack(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "3000")),
                       stage=stage_from_environment())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Ctrl-C stops the stack even when a shell started it in the background with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        stack.start()
        data = seed(stack.api_pool())
        stack.open_front_door()
        from booking_core import clock  # importable once the stack has put the layer on the path

        print(instructions(stack.api_url, stack.url, data, clock.now().date()), flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping the local stack...", flush=True)
        stack.stop()
    print("stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
