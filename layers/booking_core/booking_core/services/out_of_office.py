"""Out-of-office entries of a user (management API): create (with its outOfOfficeCreated event), list, delete.

An entry is busy time for every event type of the user from the moment it is stored: the booking path and the slots
endpoint read the entries with the host's profile. An entry that has ended is no longer listed and DynamoDB's TTL
removes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from booking_core.domain.out_of_office import MAX_CURRENT_ENTRIES, OutOfOffice, OutOfOfficeInput
from booking_core.errors import invalid, not_found
from booking_core.events.out_of_office import out_of_office_event
from booking_core.observability import count, logger
from booking_core.ports import HostConfig
from booking_core.repositories.entities import UserRepository
from booking_core.repositories.out_of_office import OutOfOfficeRepository


class OutOfOfficeService:
    def __init__(self) -> None:
        self.users = UserRepository()
        self.entries = OutOfOfficeRepository()

    def _config(self, user_id: int) -> HostConfig:
        config = self.users.load_config(user_id)
        if config is None:
            raise not_found("not_found_error", f"user {user_id}")
        return config

    @staticmethod
    def _current(config: HostConfig, now: datetime) -> list[OutOfOffice]:
        return [entry for entry in config.out_of_office if entry.end > now]

    def create(self, user_id: int, data: OutOfOfficeInput, now: datetime) -> dict[str, Any]:
        config = self._config(user_id)
        if data.end <= now:
            raise invalid("end", "must be in the future")
        if len(self._current(config, now)) >= MAX_CURRENT_ENTRIES:
            raise invalid("start", f"a user has at most {MAX_CURRENT_ENTRIES} out-of-office entries that have not "
                                   "ended")
        redirect_to = None
        if data.redirect_to_user_id is not None:
            if data.redirect_to_user_id == user_id:
                raise invalid("redirectToUserId", "must be another user")
            found = self.users.get(data.redirect_to_user_id)
            if found is None:
                raise invalid("redirectToUserId", f"user {data.redirect_to_user_id} does not exist")
            redirect_to = found[0]
        entry = OutOfOffice(id=self.entries.next_id(), user_id=user_id, start=data.start, end=data.end,
                            reason=data.reason, redirect_to_user_id=data.redirect_to_user_id, created_at=now)
        self.entries.create(entry, out_of_office_event(entry, config.user, redirect_to, now))
        count("OutOfOfficeCreated")
        logger.info("out of office created", extra={"user_id": user_id, "entry_id": entry.id})
        return entry.public()

    def list(self, user_id: int, now: datetime) -> list[dict[str, Any]]:
        return [entry.public() for entry in self._current(self._config(user_id), now)]

    def delete(self, user_id: int, entry_id: int) -> None:
        if not self.entries.delete(user_id, entry_id):
            raise not_found("not_found_error", f"out-of-office entry {entry_id} of user {user_id}")
