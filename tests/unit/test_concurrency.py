"""gather runs every call of the largest round at the same time (one round trip however large the team): a barrier
that needs all of them to arrive before any returns would time out if the pool ran fewer at once."""

from __future__ import annotations

import threading

from booking_core import concurrency
from booking_core.concurrency import MAX_IN_FLIGHT, gather
from booking_core.domain.bookings import MAX_TEAM_HOSTS

# The availability round of the booking path: one read per host, the round-robin counts, the limit counters and the
# booker's bookings.
LARGEST_ROUND = MAX_TEAM_HOSTS + 3


def test_the_largest_round_runs_all_at_once(monkeypatch):
    # A pool of its own, as a container's first request has (a Lambda container serves one request at a time): in
    # the full suite the process-wide pool also runs whatever earlier tests left running in this process.
    monkeypatch.setattr(concurrency, "_executor", None)
    barrier = threading.Barrier(LARGEST_ROUND, timeout=30)
    try:
        assert gather([lambda index=index: (barrier.wait(), index)[1] for index in range(LARGEST_ROUND)]) == list(
            range(LARGEST_ROUND))
    finally:
        if concurrency._executor is not None:
            concurrency._executor.shutdown(wait=False)


def test_the_connection_pools_hold_every_call_of_a_round():
    from booking_core.repositories.tables import Item, connection

    assert MAX_IN_FLIGHT >= LARGEST_ROUND
    assert Item.Meta.max_pool_connections == MAX_IN_FLIGHT
    assert connection().client.meta.config.max_pool_connections == MAX_IN_FLIGHT
