"""Integer ids assigned by the service: one atomic counter per entity."""

from __future__ import annotations

from booking_core.repositories.tables import CounterItem


def next_ids(entity: str, count: int = 1) -> list[int]:
    """Reserve `count` consecutive ids with one UpdateItem."""
    item = CounterItem(f"COUNTER#{entity}", "COUNTER")
    item.update(actions=[CounterItem.value.add(count), CounterItem.kind.set(CounterItem)])
    last = int(item.value)
    return list(range(last - count + 1, last + 1))


def next_id(entity: str) -> int:
    return next_ids(entity, 1)[0]
