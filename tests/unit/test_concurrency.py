"""gather runs every call of the largest round at the same time (one round trip however large the team): a barrier
that needs all of them to arrive before any returns would time out if the pool ran fewer at once."""

from __future__ import annotations

import threading

from booking_core.concurrency import MAX_IN_FLIGHT, gather
from booking_core.domain.bookings import MAX_TEAM_HOSTS

# The availability round of the booking path: one read per host, the round-robin counts, the limit counters and the
# booker's bookings.
LARGEST_ROUND = MAX_TEAM_HOSTS + 3


def test_the_largest_round_runs_all_at_once():
    barrier = threading.Barrier(LARGEST_ROUND, timeout=10)
    assert gather([lambda index=index: (barrier.wait(), index)[1] for index in range(LARGEST_ROUND)]) == list(
        range(LARGEST_ROUND))


def test_the_connection_pools_hold_every_call_of_a_round():
    from booking_core.repositories.tables import Item, connection

    assert MAX_IN_FLIGHT >= LARGEST_ROUND
    assert Item.Meta.max_pool_connections == MAX_IN_FLIGHT
    assert connection().client.meta.config.max_pool_connections == MAX_IN_FLIGHT
