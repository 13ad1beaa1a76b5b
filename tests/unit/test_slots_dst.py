"""Slots across daylight-saving changes: working hours stay local, the instants shift, and the booker's zone is
applied to the output."""

from __future__ import annotations

from datetime import datetime, timezone

from booking_core.services.slots import get_slots
from tests.unit.fakes import InMemoryStore

NOW = datetime(2027, 3, 1, 0, 0, tzinfo=timezone.utc)


def store_for(zone: str) -> InMemoryStore:
    store = InMemoryStore()
    store.add_host(1, time_zone=zone)
    store.add_event_type(1, owner_id=1, length_in_minutes=60)
    return store


def firsts(slots: dict) -> dict[str, str]:
    return {day: entries[0]["start"] for day, entries in slots.items()}


def test_london_hours_across_the_spring_change():
    slots = get_slots(store_for("Europe/London"), NOW, 1, "2027-03-26", "2027-03-29", "Europe/London")
    assert firsts(slots) == {"2027-03-26": "2027-03-26T09:00:00.000+00:00",  # Friday, GMT
                             "2027-03-29": "2027-03-29T09:00:00.000+01:00"}  # Monday, BST
    assert [s["start"] for s in slots["2027-03-29"]][-1] == "2027-03-29T16:00:00.000+01:00"
    in_utc = get_slots(store_for("Europe/London"), NOW, 1, "2027-03-29", "2027-03-29", "UTC")
    assert in_utc["2027-03-29"][0]["start"] == "2027-03-29T08:00:00.000+00:00"


def test_autumn_change_and_a_booker_in_another_zone():
    now = datetime(2027, 10, 1, tzinfo=timezone.utc)
    slots = get_slots(store_for("Europe/London"), now, 1, "2027-10-29", "2027-11-01", "America/New_York")
    # 09:00 London is 04:00 in New York while both are on summer time; Europe changes first (Oct 31), so for a
    # week it is 05:00 (GMT vs EDT), until the US changes (Nov 7)
    assert firsts(slots) == {"2027-10-29": "2027-10-29T04:00:00.000-04:00",
                             "2027-11-01": "2027-11-01T05:00:00.000-04:00"}


def test_a_working_day_that_spans_the_missing_hour():
    store = InMemoryStore()
    store.add_host(1, time_zone="America/New_York", hours=("00:00", "05:00"),
                   days=["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
    store.add_event_type(1, owner_id=1, length_in_minutes=60)
    slots = get_slots(store, NOW, 1, "2027-03-14", "2027-03-14", "America/New_York")
    # 02:00-03:00 does not exist on 14 March: the day has four hours, not five
    assert [s["start"][11:16] for s in slots["2027-03-14"]] == ["00:00", "01:00", "03:00", "04:00"]
