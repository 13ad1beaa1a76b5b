"""Integer ids assigned by the service: one atomic counter per entity."""

from __future__ import annotations

from booking_core.repositories.tables import CounterItem


def next_id(entity: str) -> int:
    item = CounterItem(f"COUNTER#{entity}", "COUNTER")
    item.update(actions=[CounterItem.value.add(1), CounterItem.kind.set(CounterItem)])
    return int(item.value)
