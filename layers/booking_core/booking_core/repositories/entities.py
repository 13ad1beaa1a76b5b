"""Users, schedules and event types (the management API's data)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from booking_core.domain.event_types import EventType, EventTypeInput
from booking_core.domain.users import Schedule, ScheduleInput, User, UserInput
from booking_core.domain.calendars import CalendarConnection, ConferencingConnection
from booking_core.domain.out_of_office import OutOfOffice
from booking_core.ports import HostConfig, StoredConnection
from booking_core.repositories.counters import next_id
from booking_core.repositories.tables import (
    CONFIG_PREFIX,
    PROFILE_SK,
    CalendarConnectionItem,
    ConferencingConnectionItem,
    EventTypeItem,
    Item,
    OutOfOfficeItem,
    ScheduleItem,
    SchedulePointerItem,
    UserItem,
    calendar_sk,
    connection,
    schedule_sk,
    user_pk,
)
from booking_core.timeutil import UTC

PROFILE = PROFILE_SK


class ConcurrentUpdate(Exception):
    """The item changed between read and write; the caller may retry."""


def _user(doc: dict[str, Any], pk: str, last_active: datetime | None) -> User:
    return User(**doc, id=int(pk.split("#")[1]), last_active_at=last_active.astimezone(UTC) if last_active else None)


def _user_from(item: UserItem) -> User:
    return _user(item.doc, item.pk, item.last_active_at)


def _profile_doc(user: User) -> dict[str, Any]:
    return user.model_dump(mode="json", by_alias=True, exclude={"id", "last_active_at"})


def _profile_update(user: User, version: int) -> list[Any]:
    return [UserItem.doc.set(_profile_doc(user)), UserItem.version.set(version + 1)]


# The configuration items' kinds (discriminator values) and attribute names, for reading them from a raw response.
_USER, _SCHEDULE, _CALENDAR, _AWAY = (Item.kind.get_discriminator(model) for model in (
    UserItem, ScheduleItem, CalendarConnectionItem, OutOfOfficeItem))
_KIND, _DOC = Item.kind.attr_name, UserItem.doc.attr_name
_LAST_ACTIVE, _BLOCKED = UserItem.last_active_at.attr_name, UserItem.blocked.attr_name
_CREDENTIALS = CalendarConnectionItem.credentials.attr_name


def config_from(found: Iterable[Item]) -> HostConfig | None:
    """A user's configuration from their HC# items (other items among them are ignored); None without a profile."""
    return config_from_raw(item.serialize() for item in found)


def config_from_raw(found: Iterable[dict[str, Any]]) -> HostConfig | None:
    """The same from the items as DynamoDB returns them: the booking path reads a hundred hosts' configuration per
    request, and going through a model instance per item cost as much as validating the documents.

    What is built is remembered by content (`_config`): the key holds every attribute the configuration is made
    of, so an edit is a new key and nothing can be served stale. A hundred-host request mostly finds its hosts
    unchanged since the container's last request and skips validating their documents (about 0.1 ms a host). The
    result is shared between requests: HostConfig is frozen, and its models are read, never changed in place.
    A configuration larger than REMEMBERED_CHARS (many calendars, say) is built each time, so the cache stays under
    2,048 x 16 K characters however large configurations get; a typical one is about 1 K."""
    items = tuple(
        _ConfigItem(kind, raw["pk"]["S"], raw[_DOC]["S"], raw.get(_LAST_ACTIVE, {}).get("S"),
                    raw.get(_BLOCKED, {}).get("BOOL", False), raw.get(_CREDENTIALS, {}).get("S"))
        for raw in found if (kind := raw.get(_KIND, {}).get("S")) in _CONFIG_KINDS)
    if sum(len(item.doc) + len(item.credentials or "") for item in items) > REMEMBERED_CHARS:
        return _config.__wrapped__(items)
    return _config(items)


def _sealed(item: _ConfigItem) -> str:
    if item.credentials is None:
        raise ValueError(f"calendar connection {item.pk} without credentials")
    return item.credentials


class _ConfigItem(NamedTuple):
    kind: str
    pk: str
    doc: str
    last_active: str | None
    blocked: bool
    credentials: str | None


_CONFIG_KINDS = frozenset((_USER, _SCHEDULE, _CALENDAR, _AWAY))
REMEMBERED_CHARS = 16 * 1024


@lru_cache(maxsize=2048)
def _config(found: tuple[_ConfigItem, ...]) -> HostConfig | None:
    by_kind: dict[str, list[_ConfigItem]] = {kind: [] for kind in _CONFIG_KINDS}
    for item in found:
        by_kind[item.kind].append(item)
    if not by_kind[_USER]:
        return None
    profile = by_kind[_USER][0]
    user = _user(json.loads(profile.doc), profile.pk,
                 UserItem.last_active_at.deserialize(profile.last_active) if profile.last_active else None)
    schedules = [Schedule.model_validate_json(item.doc) for item in by_kind[_SCHEDULE]]
    for schedule in schedules:
        schedule.is_default = schedule.id == user.default_schedule_id
    calendars = [StoredConnection(CalendarConnection.model_validate_json(item.doc), _sealed(item))
                 for item in by_kind[_CALENDAR]]
    away = sorted((OutOfOffice.model_validate_json(item.doc) for item in by_kind[_AWAY]),
                  key=lambda entry: (entry.start, entry.id))
    return HostConfig(user=user, schedules=schedules, blocked=profile.blocked, calendars=calendars,
                      out_of_office=away)


class UserRepository:
    def create(self, data: UserInput) -> User:
        user = User(**data.model_dump(), id=next_id("user"))
        UserItem(user_pk(user.id), PROFILE, doc=_profile_doc(user)).save(condition=Item.pk.does_not_exist())
        return user

    def get(self, user_id: int) -> tuple[User, int] | None:
        try:
            item = UserItem.get(user_pk(user_id), PROFILE, consistent_read=True)
        except DoesNotExist:
            return None
        return _user_from(item), int(item.version)

    def exists_all(self, user_ids: list[int]) -> set[int]:
        found = UserItem.batch_get([(user_pk(user_id), PROFILE) for user_id in set(user_ids)])
        return {int(item.pk.split("#")[1]) for item in found}

    def save(self, user: User, version: int) -> None:
        """Store the profile fields; lastActiveAt and the blocklist flag are maintained separately."""
        try:
            UserItem(user_pk(user.id), PROFILE).update(
                actions=_profile_update(user, version), condition=UserItem.version == version
            )
        except UpdateError as exc:
            raise ConcurrentUpdate(str(exc)) from exc

    def load_config(self, user_id: int) -> HostConfig | None:
        """The user's profile, schedules, calendar connections and out-of-office entries in one Query."""
        return config_from(Item.query(user_pk(user_id), Item.sk.startswith(CONFIG_PREFIX), consistent_read=True))

    def touch_last_active(self, user_id: int, when: Any) -> bool:
        """Move lastActiveAt forward (never back). False when the user is gone or already more recent."""
        item = UserItem(user_pk(user_id), PROFILE)
        try:
            item.update(
                actions=[UserItem.last_active_at.set(when)],
                condition=Item.pk.exists()
                & (UserItem.last_active_at.does_not_exist() | (UserItem.last_active_at < when)),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True


class ScheduleRepository:
    def create(self, data: ScheduleInput, user: User, user_version: int) -> Schedule:
        schedule_id = next_id("schedule")
        make_default = bool(data.is_default) or user.default_schedule_id is None
        schedule = Schedule(**data.model_dump(exclude={"is_default"}), id=schedule_id, is_default=make_default)
        with TransactWrite(connection=connection()) as tx:
            tx.save(
                ScheduleItem(user_pk(user.id), schedule_sk(schedule_id), doc=schedule.dump()),
                condition=Item.pk.does_not_exist(),
            )
            tx.save(SchedulePointerItem(f"SCHEDULE#{schedule_id}", "SCHEDULE", user_id=user.id))
            if make_default:
                user.default_schedule_id = schedule_id
                tx.update(UserItem(user_pk(user.id), PROFILE), actions=_profile_update(user, user_version),
                          condition=UserItem.version == user_version)
        return schedule

    def get(self, schedule_id: int) -> tuple[Schedule, int] | None:
        try:
            pointer = SchedulePointerItem.get(f"SCHEDULE#{schedule_id}", "SCHEDULE", consistent_read=True)
            item = ScheduleItem.get(user_pk(int(pointer.user_id)), schedule_sk(schedule_id), consistent_read=True)
        except DoesNotExist:
            return None
        return Schedule.model_validate(item.doc), int(item.version)

    def save(self, schedule: Schedule, version: int, make_default: User | None, user_version: int = 0) -> None:
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(
                    ScheduleItem(
                        user_pk(schedule.user_id), schedule_sk(schedule.id), doc=schedule.dump(), version=version + 1
                    ),
                    condition=ScheduleItem.version == version,
                )
                if make_default is not None:
                    make_default.default_schedule_id = schedule.id
                    tx.update(UserItem(user_pk(make_default.id), PROFILE),
                              actions=_profile_update(make_default, user_version),
                              condition=UserItem.version == user_version)
        except TransactWriteError as exc:
            raise ConcurrentUpdate(str(exc)) from exc


class EventTypeRepository:
    def create(self, data: EventTypeInput) -> EventType:
        event_type = EventType(**data.model_dump(), id=next_id("event_type"))
        EventTypeItem(f"EVENTTYPE#{event_type.id}", "EVENTTYPE", doc=event_type.dump()).save(
            condition=Item.pk.does_not_exist()
        )
        return event_type

    def get(self, event_type_id: int) -> tuple[EventType, int] | None:
        try:
            item = EventTypeItem.get(f"EVENTTYPE#{event_type_id}", "EVENTTYPE", consistent_read=True)
        except DoesNotExist:
            return None
        return EventType.model_validate(item.doc), int(item.version)

    def existing(self, event_type_ids: list[int]) -> set[int]:
        """Which of these event types exist (one BatchGetItem)."""
        from booking_core.repositories.bookings import batch_get

        found = batch_get((f"EVENTTYPE#{i}", "EVENTTYPE") for i in event_type_ids)
        return {int(item.pk.split("#")[1]) for item in found if isinstance(item, EventTypeItem)}

    def save(self, event_type: EventType, version: int) -> None:
        item = EventTypeItem(f"EVENTTYPE#{event_type.id}", "EVENTTYPE", doc=event_type.dump(), version=version + 1)
        try:
            item.save(condition=EventTypeItem.version == version)
        except PutError as exc:
            raise ConcurrentUpdate(str(exc)) from exc

    def delete(self, event_type_id: int) -> bool:
        try:
            EventTypeItem(f"EVENTTYPE#{event_type_id}", "EVENTTYPE").delete(condition=Item.pk.exists())
        except Exception as exc:  # noqa: BLE001 - pynamodb raises DeleteError with the condition failure inside
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise
        return True


class CalendarConnectionRepository:
    def create(self, connection: CalendarConnection, encrypted_credentials: str) -> None:
        CalendarConnectionItem(user_pk(connection.user_id), calendar_sk(connection.id), doc=connection.dump(),
                               credentials=encrypted_credentials).save(condition=Item.pk.does_not_exist())

    def get(self, user_id: int, connection_id: int) -> StoredConnection | None:
        try:
            item = CalendarConnectionItem.get(user_pk(user_id), calendar_sk(connection_id), consistent_read=True)
        except DoesNotExist:
            return None
        return StoredConnection(CalendarConnection.model_validate(item.doc), item.credentials)

    def save(self, connection: CalendarConnection) -> None:
        CalendarConnectionItem(user_pk(connection.user_id), calendar_sk(connection.id)).update(
            actions=[CalendarConnectionItem.doc.set(connection.dump())], condition=Item.pk.exists()
        )

    def save_credentials(self, connection: CalendarConnection, encrypted_credentials: str) -> None:
        """Refreshed tokens replace the stored ones (best effort: a lost race only costs another refresh)."""
        try:
            CalendarConnectionItem(user_pk(connection.user_id), calendar_sk(connection.id)).update(
                actions=[CalendarConnectionItem.credentials.set(encrypted_credentials)], condition=Item.pk.exists()
            )
        except UpdateError:
            pass

    def delete(self, user_id: int, connection_id: int) -> bool:
        try:
            CalendarConnectionItem(user_pk(user_id), calendar_sk(connection_id)).delete(condition=Item.pk.exists())
        except Exception as exc:  # noqa: BLE001 - DeleteError wraps the condition failure
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise
        return True


class ConferencingConnectionRepository:
    """A host's meeting-app connections (Zoom): at most one per type; connecting again replaces it."""

    @staticmethod
    def _sk(kind: str) -> str:
        return f"CONF#{kind}"

    def put(self, connection: ConferencingConnection, encrypted_credentials: str) -> None:
        ConferencingConnectionItem(user_pk(connection.user_id), self._sk(connection.type), doc=connection.dump(),
                                   connection_id=connection.id, credentials=encrypted_credentials).save()

    def get(self, user_id: int, kind: str) -> tuple[ConferencingConnection, str] | None:
        try:
            item = ConferencingConnectionItem.get(user_pk(user_id), self._sk(kind), consistent_read=True)
        except DoesNotExist:
            return None
        return ConferencingConnection.model_validate(item.doc), item.credentials

    def list(self, user_id: int) -> list[ConferencingConnection]:
        items = ConferencingConnectionItem.query(user_pk(user_id), Item.sk.startswith("CONF#"), consistent_read=True)
        return [ConferencingConnection.model_validate(item.doc) for item in items]

    def save_credentials(self, connection: ConferencingConnection, encrypted_credentials: str) -> None:
        """Refreshed tokens replace the stored ones, unless the connection was replaced or removed meanwhile."""
        try:
            ConferencingConnectionItem(user_pk(connection.user_id), self._sk(connection.type)).update(
                actions=[ConferencingConnectionItem.credentials.set(encrypted_credentials)],
                condition=ConferencingConnectionItem.connection_id == connection.id,
            )
        except UpdateError:
            pass

    def delete(self, connection: ConferencingConnection) -> bool:
        try:
            ConferencingConnectionItem(user_pk(connection.user_id), self._sk(connection.type)).delete(
                condition=ConferencingConnectionItem.connection_id == connection.id)
        except Exception as exc:  # noqa: BLE001 - DeleteError wraps the condition failure
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise
        return True
