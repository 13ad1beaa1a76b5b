"""Blocklist, private links and routing form responses (management API)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from booking_core.domain.access import BlocklistInput, PrivateLink, PrivateLinkInput, RoutingFormResponseInput
from booking_core.errors import DomainError, not_found
from booking_core.repositories.access import (
    AlreadyExists,
    BlocklistRepository,
    PrivateLinkRepository,
    RoutingResponseRepository,
)
from booking_core.repositories.entities import EventTypeRepository, UserRepository


class Access:
    def __init__(self) -> None:
        self.blocklist = BlocklistRepository()
        self.links = PrivateLinkRepository()
        self.routing = RoutingResponseRepository()
        self.event_types = EventTypeRepository()
        self.users = UserRepository()

    # blocklist -------------------------------------------------------------------------------------------------
    def add_block(self, data: BlocklistInput, now: datetime) -> dict[str, Any]:
        try:
            entry = self.blocklist.create(data, now)
        except AlreadyExists as exc:
            raise DomainError("conflict_error", str(exc)) from exc
        self._refresh_hosts(data)
        return entry.dump()

    def list_blocks(self) -> list[dict[str, Any]]:
        return [entry.dump() for entry in self.blocklist.list()]

    def remove_block(self, entry_id: int) -> None:
        entry = self.blocklist.delete(entry_id)
        if entry is None:
            raise not_found("not_found_error", f"blocklist entry {entry_id}")
        self._refresh_hosts(entry)

    def _refresh_hosts(self, entry: BlocklistInput) -> None:
        """Hosts matched by the entry get their `blocked` flag recomputed from every entry that still applies."""
        for user_id in self.blocklist.users_matching(entry):
            found = self.users.get(user_id)
            if found is not None:
                self.blocklist.refresh_flag(user_id, found[0].email)

    def user_email_changed(self, user_id: int, old_email: str | None, new_email: str) -> None:
        self.blocklist.index_user(user_id, old_email, new_email)
        self.blocklist.refresh_flag(user_id, new_email)

    # private links ---------------------------------------------------------------------------------------------
    def create_link(self, event_type_id: int, data: PrivateLinkInput, now: datetime) -> dict[str, Any]:
        if self.event_types.get(event_type_id) is None:
            raise not_found("event_type_not_found", f"event type {event_type_id}")
        link = PrivateLink(
            link_id=secrets.token_urlsafe(16),
            event_type_id=event_type_id,
            expires_at=data.expires_at,
            max_usage_count=data.max_usage_count,
            created_at=now,
        )
        self.links.create(link)
        return link.public(now)

    def list_links(self, event_type_id: int, now: datetime) -> list[dict[str, Any]]:
        if self.event_types.get(event_type_id) is None:
            raise not_found("event_type_not_found", f"event type {event_type_id}")
        return [link.public(now) for link in self.links.list(event_type_id)]

    # routing form responses ------------------------------------------------------------------------------------
    def create_routing_response(self, data: RoutingFormResponseInput, now: datetime) -> dict[str, Any]:
        return self.routing.create(data, now).dump()
