"""Round-robin host choice: the available host furthest below their weighted share of this period's bookings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Candidate:
    user_id: int
    weight: int
    priority: int
    bookings: int  # bookings of this event type assigned to the host in the current period
    last_active_at: datetime | None


def rank(candidates: Sequence[Candidate]) -> list[int]:
    """Host ids, best first.

    Order: lowest bookings/weight (a weight of 0 ranks last), then higher priority, then the host booked least
    recently (never booked first), then the lower id. With equal weights this spreads bookings evenly: six bookings
    over three always-free hosts give two each.
    """

    def key(candidate: Candidate) -> tuple[float, int, float, int]:
        load = candidate.bookings / candidate.weight if candidate.weight > 0 else float("inf")
        last = candidate.last_active_at.timestamp() if candidate.last_active_at else float("-inf")
        return (load, -candidate.priority, last, candidate.user_id)

    return [candidate.user_id for candidate in sorted(candidates, key=key)]


def period_key(start: datetime) -> str:
    """Round-robin counts reset every calendar month (UTC) of the booking's start."""
    return start.strftime("%Y-%m")


def build_candidates(
    host_ids: Sequence[int],
    weights: Mapping[int, int],
    priorities: Mapping[int, int],
    counts: Mapping[int, int],
    last_active: Mapping[int, datetime | None],
) -> list[Candidate]:
    return [
        Candidate(
            user_id=host_id,
            weight=weights.get(host_id, 100),
            priority=priorities.get(host_id, 2),
            bookings=counts.get(host_id, 0),
            last_active_at=last_active.get(host_id),
        )
        for host_id in host_ids
    ]
