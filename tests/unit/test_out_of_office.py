"""Out of office through the phases: busy time for every type, every host-selection path, and the 409 with the
redirect."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from booking_core.domain.bookings import CreateBookingInput
from booking_core.errors import DomainError
from booking_core.pipeline.runner import create_booking
from booking_core.services.slots import get_slots
from tests.unit.fakes import InMemoryStore

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)  # Tuesday
WED = "2026-12-02"


def at(hhmm: str, day: str = WED) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}:00+00:00")


def book(store: InMemoryStore, event_type_id: int = 1, start: str = f"{WED}T10:00:00Z",
         email: str = "jane@example.org"):
    return create_booking(CreateBookingInput.model_validate({
        "start": start, "eventTypeId": event_type_id,
        "attendee": {"name": "Jane", "email": email, "timeZone": "UTC"}}), store, NOW)


def refusal(store: InMemoryStore, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        book(store, **kwargs)
    return caught.value


def listed(store: InMemoryStore, event_type_id: int = 1) -> list[str]:
    days = get_slots(store, NOW, event_type_id, WED, WED, "UTC")
    return [slot["start"] for slots in days.values() for slot in slots]


def test_a_single_host_away_has_no_slots_and_the_booking_names_the_redirect():
    store = InMemoryStore()
    store.add_host(1)
    store.add_host(2)
    store.add_event_type(1, owner_id=1)
    store.add_out_of_office(1, at("09:00"), at("12:00"), redirect_to_user_id=2)
    starts = listed(store)
    assert f"{WED}T09:30:00.000+00:00" not in starts and f"{WED}T11:30:00.000+00:00" not in starts
    assert f"{WED}T12:00:00.000+00:00" in starts  # the entry ends at noon
    error = refusal(store)
    assert (error.code, error.status, error.details) == ("host_out_of_office", 409, {"redirectToUserId": 2})
    assert book(store, start=f"{WED}T12:00:00Z").created


def test_without_a_redirect_the_409_has_no_details():
    store = InMemoryStore()
    store.add_host(1)
    store.add_event_type(1, owner_id=1)
    store.add_out_of_office(1, at("00:00"), at("00:00", "2026-12-03"))
    error = refusal(store)
    assert error.code == "host_out_of_office" and error.details == {}
    assert listed(store) == []


def test_buffers_reaching_into_the_entry_make_the_slot_busy_too():
    store = InMemoryStore()
    store.add_host(1)
    store.add_event_type(1, owner_id=1, after_event_buffer=15)
    store.add_out_of_office(1, at("10:40"), at("17:00"))
    assert f"{WED}T10:00:00.000+00:00" not in listed(store)  # 10:00-10:30 plus 15 minutes reaches 10:45
    assert refusal(store).code == "host_out_of_office"
    assert book(store, start=f"{WED}T09:30:00Z").created  # 09:30-10:00 + 15 = 10:15


def test_round_robin_books_the_host_who_is_in():
    store = InMemoryStore()
    store.add_host(1)
    store.add_host(2)
    store.add_event_type(1, scheduling_type="roundRobin", hosts=[{"user_id": 1}, {"user_id": 2}])
    store.add_out_of_office(1, at("00:00"), at("23:00"))
    assert {h.id for h in book(store).booking.hosts} == {2}
    assert {h.id for h in book(store, start=f"{WED}T11:00:00Z", email="b@example.org").booking.hosts} == {2}
    store.add_out_of_office(2, at("00:00"), at("23:00"))
    assert listed(store) == []
    assert refusal(store, start=f"{WED}T14:00:00Z").code == "round_robin_host_unavailable_for_booking"


def test_a_collective_type_needs_every_host_in():
    store = InMemoryStore()
    store.add_host(1)
    store.add_host(2)
    store.add_event_type(1, scheduling_type="collective", hosts=[{"user_id": 1}, {"user_id": 2}])
    assert f"{WED}T10:00:00.000+00:00" in listed(store)
    store.add_out_of_office(2, at("10:00"), at("11:00"))
    assert f"{WED}T10:00:00.000+00:00" not in listed(store)
    assert refusal(store).code == "fixed_hosts_unavailable_for_booking"


def test_an_entry_covers_every_type_of_the_host():
    store = InMemoryStore()
    store.add_host(1)
    store.add_event_type(1, owner_id=1)
    store.add_event_type(2, owner_id=1, slug="other", length_in_minutes=60)
    store.add_out_of_office(1, at("09:00"), at("17:00"))
    assert listed(store, 1) == [] and listed(store, 2) == []
