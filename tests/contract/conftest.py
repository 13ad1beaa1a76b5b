"""The two BookingStore implementations the contract suite holds to the same behaviour, and what it needs to seed
them: the in-memory store of the unit tests and the DynamoDB store against the serial moto server.

Seeding goes through each store's own means (the in-memory store's fields; the management repositories, or the
table's items where a repository would also publish an event). On the shared moto table every id comes from the
service's counters and every key carries a fresh uid, and bookings sit years after the other suites' dates, so the
contract tests and the integration tests never see each other's data.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest

from booking_core.domain.access import BlocklistEntry, BlocklistInput, PrivateLink, RoutingFormResponse
from booking_core.domain.calendars import CalendarConnection
from booking_core.domain.event_types import EventType, EventTypeInput
from booking_core.domain.out_of_office import OutOfOffice
from booking_core.domain.users import AvailabilityRule, Schedule, User
from booking_core.ports import BookingStore, HostConfig, StoredConnection
from tests.unit.fakes import InMemoryStore


@dataclasses.dataclass
class HostSpec:
    """A host to seed: their schedules (the first is the default), out-of-office entries, calendar connection."""

    name: str
    email: str
    time_zone: str
    schedules: list[tuple[str, list[AvailabilityRule]]]
    away: list[tuple[datetime, datetime]] = dataclasses.field(default_factory=list)
    blocked: bool = False
    calendar: CalendarConnection | None = None  # its id and user id are filled in
    credentials: str = "sealed-credentials"


class World:
    """A store under contract, with the means to seed what its reads return."""

    name: str
    store: BookingStore

    def user_ids(self, count: int) -> list[int]:
        """Ids no other host has (locks and intervals are keyed by host id)."""
        raise NotImplementedError

    def event_type(self, **fields) -> EventType:
        raise NotImplementedError

    def host(self, spec: HostSpec, now: datetime) -> int:
        raise NotImplementedError

    def blocklist_entry(self, entry: BlocklistInput, now: datetime) -> BlocklistEntry:
        raise NotImplementedError

    def private_link(self, link: PrivateLink) -> None:
        raise NotImplementedError

    def routing_response(self, form_id: str, response: dict, now: datetime) -> RoutingFormResponse:
        raise NotImplementedError

    def close(self) -> None:
        """Remove what other suites could list (nothing for the in-memory store)."""


class MemoryWorld(World):
    name = "memory"

    def __init__(self) -> None:
        self.store = self.memory = InMemoryStore()
        self._ids = itertools.count(1)

    def user_ids(self, count: int) -> list[int]:
        return [next(self._ids) for _ in range(count)]

    def event_type(self, **fields) -> EventType:
        return self.memory.add_event_type(next(self._ids), **fields)

    def host(self, spec: HostSpec, now: datetime) -> int:
        user_id = next(self._ids)
        schedule_ids = [next(self._ids) for _ in spec.schedules]
        user = User(id=user_id, name=spec.name, email=spec.email, time_zone=spec.time_zone,
                    default_schedule_id=schedule_ids[0] if schedule_ids else None)
        schedules = [Schedule(id=sid, user_id=user_id, name=name, time_zone=spec.time_zone, is_default=index == 0,
                              availability=rules)
                     for index, (sid, (name, rules)) in enumerate(zip(schedule_ids, spec.schedules))]
        away = [OutOfOffice(id=next(self._ids), user_id=user_id, start=start, end=end, created_at=now)
                for start, end in spec.away]
        calendars = []
        if spec.calendar is not None:
            connection = spec.calendar.model_copy(update={"id": next(self._ids), "user_id": user_id})
            calendars.append(StoredConnection(connection, spec.credentials))
        self.memory.hosts[user_id] = HostConfig(user=user, schedules=schedules, blocked=spec.blocked,
                                                calendars=calendars, out_of_office=away)
        return user_id

    def blocklist_entry(self, entry: BlocklistInput, now: datetime) -> BlocklistEntry:
        stored = BlocklistEntry(**entry.model_dump(), id=next(self._ids), created_at=now)
        self.memory.blocklist.append(stored)
        return stored

    def private_link(self, link: PrivateLink) -> None:
        self.memory.links[(link.event_type_id, link.link_id)] = link

    def routing_response(self, form_id: str, response: dict, now: datetime) -> RoutingFormResponse:
        stored = RoutingFormResponse(form_id=form_id, response=response, id=next(self._ids), created_at=now)
        self.memory.routing[stored.id] = stored
        return stored


class DynamoWorld(World):
    name = "dynamodb"

    def __init__(self) -> None:
        from booking_core.repositories.bookings import DynamoBookingStore

        self.store = DynamoBookingStore()
        self._blocklisted: list[int] = []

    def user_ids(self, count: int) -> list[int]:
        from booking_core.repositories.counters import next_ids

        return next_ids("user", count)

    def event_type(self, **fields) -> EventType:
        from booking_core.repositories.entities import EventTypeRepository

        data = {"title": "Meeting", "slug": f"contract-{uuid.uuid4().hex[:8]}", "length_in_minutes": 30, **fields}
        return EventTypeRepository().create(EventTypeInput(**data))

    def host(self, spec: HostSpec, now: datetime) -> int:
        from booking_core.domain.users import ScheduleInput, UserInput
        from booking_core.repositories.counters import next_id
        from booking_core.repositories.entities import CalendarConnectionRepository, ScheduleRepository, UserRepository
        from booking_core.repositories.tables import PROFILE_SK, OutOfOfficeItem, UserItem, out_of_office_sk, user_pk

        users = UserRepository()
        user = users.create(UserInput(name=spec.name, email=spec.email, time_zone=spec.time_zone))
        for index, (name, rules) in enumerate(spec.schedules):
            _, version = users.get(user.id)  # type: ignore[misc]
            ScheduleRepository().create(ScheduleInput(user_id=user.id, name=name, time_zone=spec.time_zone,
                                                      is_default=index == 0, availability=rules), user, version)
        for start, end in spec.away:  # the item itself: the repository would also publish outOfOfficeCreated
            entry = OutOfOffice(id=next_id("out_of_office"), user_id=user.id, start=start, end=end, created_at=now)
            OutOfOfficeItem(user_pk(user.id), out_of_office_sk(entry.id),
                            doc=entry.model_dump(mode="json", by_alias=True),
                            expires_at=int(end.timestamp())).save()
        if spec.blocked:  # the flag a matching blocklist entry sets on the profile
            UserItem(user_pk(user.id), PROFILE_SK).update(actions=[UserItem.blocked.set(True)])
        if spec.calendar is not None:
            connection = spec.calendar.model_copy(update={"id": next_id("calendar_connection"), "user_id": user.id})
            CalendarConnectionRepository().create(connection, spec.credentials)
        return user.id

    def blocklist_entry(self, entry: BlocklistInput, now: datetime) -> BlocklistEntry:
        from booking_core.repositories.access import BlocklistRepository

        stored = BlocklistRepository().create(entry, now)
        self._blocklisted.append(stored.id)
        return stored

    def private_link(self, link: PrivateLink) -> None:
        from booking_core.repositories.access import PrivateLinkRepository

        PrivateLinkRepository().create(link)

    def routing_response(self, form_id: str, response: dict, now: datetime) -> RoutingFormResponse:
        from booking_core.domain.access import RoutingFormResponseInput
        from booking_core.repositories.access import RoutingResponseRepository

        return RoutingResponseRepository().create(RoutingFormResponseInput(form_id=form_id, response=response), now)

    def close(self) -> None:
        from booking_core.repositories.access import BlocklistRepository

        for entry_id in self._blocklisted:  # the blocklist is listed whole by the management API
            BlocklistRepository().delete(entry_id)


@pytest.fixture(params=["memory", "dynamodb"])
def world(request) -> Iterator[World]:
    """Each contract test runs once per store; the DynamoDB one starts the serial moto server (once a session)."""
    if request.param == "memory":
        made: World = MemoryWorld()
    else:
        request.getfixturevalue("aws")
        made = DynamoWorld()
    yield made
    made.close()
