"""Integer ids assigned by the service.

Management entities take one id at a time from their counter item. Bookings take theirs from a block of ids each
process reserves with one `ADD` (BOOKING_ID_BLOCK at a time): the shared counter item then sees one write per block
instead of one per booking (DynamoDB serves about 1,000 writes per second to one item), and a request only touches it
once its event type and input are validated. Ids stay unique; they are not consecutive across processes, and a
process that ends leaves the rest of its block unused.
"""

from __future__ import annotations

import threading

from booking_core.repositories.tables import CounterItem

BOOKING_ID_BLOCK = 100


def next_ids(entity: str, count: int = 1) -> list[int]:
    """Reserve `count` consecutive ids with one UpdateItem."""
    item = CounterItem(f"COUNTER#{entity}", "COUNTER")
    item.update(actions=[CounterItem.value.add(count), CounterItem.kind.set(CounterItem)])
    last = int(item.value)
    return list(range(last - count + 1, last + 1))


def next_id(entity: str) -> int:
    return next_ids(entity, 1)[0]


class IdBlock:
    """Ids handed out from blocks reserved ahead; thread-safe (the local stack's containers share a process)."""

    def __init__(self, entity: str, size: int = BOOKING_ID_BLOCK) -> None:
        self.entity, self.size = entity, size
        self._free: list[int] = []
        self._lock = threading.Lock()

    def take(self, count: int) -> list[int]:
        with self._lock:
            if len(self._free) < count:
                self._free.extend(next_ids(self.entity, max(self.size, count - len(self._free))))
            taken, self._free = self._free[:count], self._free[count:]
            return taken


booking_ids = IdBlock("booking")
