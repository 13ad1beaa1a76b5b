"""Fixtures shared by the unit tests of the booking pipeline and its flows."""

from __future__ import annotations

import pytest

from tests.unit.fakes import InMemoryStore


@pytest.fixture
def store() -> InMemoryStore:
    """An in-memory store with one host (Alice, id 1) owning one event type (id 1)."""
    store = InMemoryStore()
    store.add_host(1, name="Alice")
    store.add_event_type(1, owner_id=1)
    return store
